"""The render workers: a queue of task ids, each rendered once into the store's cache.

Kept apart from the task lifecycle (``service``): a task's render starts at create and is
resumed after a restart or a lost worker; the heavy render module is imported only here,
inside a worker thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import catalog
from .store import Store, TaskRecord

if TYPE_CHECKING:
    from .render_spec import Media, RenderSpec

log = logging.getLogger("seedance_nb.emulator")


class RenderWorkers:
    """``workers`` threads rendering queued tasks; each task is in flight at most once."""

    def __init__(
        self,
        store: Store,
        stopped: threading.Event,
        rendered: Callable[[float], None],
        count: Callable[[str, str], None],
        workers: int = 2,
    ) -> None:
        self.store, self._stopped, self._rendered, self._count = store, stopped, rendered, count
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._work, name=f"seedance-emulator-render-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self.threads:
            t.start()

    @property
    def in_flight(self) -> int:
        """How many renders are queued or running."""
        return len(self._inflight)

    def schedule(self, task_id: str) -> None:
        """Queue a task's render unless it is already queued or the service is stopping."""
        with self._lock:
            if task_id in self._inflight or self._stopped.is_set():
                return
            self._inflight.add(task_id)
        self._queue.put(task_id)

    def stop(self) -> None:
        """Wake every worker so it exits (the caller joins ``threads``)."""
        for _ in self.threads:
            self._queue.put(None)

    def _work(self) -> None:
        while True:
            task_id = self._queue.get()
            if task_id is None:
                return
            try:
                self._render_one(task_id)
            except Exception as exc:  # the store may be closed during shutdown
                if not self._stopped.is_set():
                    log.exception("render of %s failed", task_id)
                    self._count("renders", "failed")
                    try:
                        self.store.update(
                            task_id,
                            render_error=f"{type(exc).__name__}: {exc}",
                            render_done_at=time.time(),
                        )
                    except Exception:
                        pass
            finally:
                with self._lock:
                    self._inflight.discard(task_id)

    def _render_one(self, task_id: str) -> None:
        task = self.store.get(task_id)
        if task is None or task.render_spec is None or task.render_done_at is not None:
            return
        from . import render as r  # heavy (PyAV, numpy, Pillow): only in the worker

        spec = self._spec(task.render_spec)
        key = r.render_key(spec)
        result = r.render(spec, self.store.renders, key)
        self._rendered(result.seconds)
        if self._stopped.is_set():
            return
        self.store.update(task_id, render_key=key, render_done_at=time.time())

    def _spec(self, spec_json: dict[str, Any]) -> RenderSpec:
        """The render spec a task stored as JSON, its media read back from the blob store."""
        from .render_spec import Media, RenderSpec

        def media(m: dict[str, Any] | None) -> Media | None:
            if m is None:
                return None
            data = self.store.blob(m["blob"]) if m.get("blob") else None
            return Media(kind=m["kind"], label=m["label"], data=data, note=m.get("note", ""))

        return RenderSpec(
            prompt=spec_json["prompt"],
            width=spec_json["width"],
            height=spec_json["height"],
            frames=spec_json["frames"],
            fps=spec_json.get("fps", catalog.FPS),
            audio=bool(spec_json.get("audio")),
            header=spec_json.get("header", ""),
            seed=spec_json.get("seed"),
            first_frame=media(spec_json.get("first_frame")),
            last_frame=media(spec_json.get("last_frame")),
            refs=tuple(m for m in (media(x) for x in spec_json.get("refs", [])) if m),
            last_frame_png=bool(spec_json.get("last_frame_png")),
        )

    def file_path(self, task: TaskRecord, name: str) -> Path | None:
        """A finished task's cached file (``video.mp4`` or, if asked for, ``last_frame.png``)."""
        if task.render_key is None or task.render_done_at is None:
            return None
        if name == "video.mp4":
            path = self.store.renders / f"{task.render_key}.mp4"
        elif name == "last_frame.png" and (task.render_spec or {}).get("last_frame_png"):
            path = self.store.renders / f"{task.render_key}.png"
        else:
            return None
        return path if path.exists() else None
