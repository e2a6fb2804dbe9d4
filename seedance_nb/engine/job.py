"""A job: one logical request, its provider task, and its video on disk.

A :class:`Job` is a live view of a ledger row. It is updated by the runtime that drives it,
on that runtime's event loop, and can be waited for from anywhere: ``await job`` on any loop,
``job.wait()`` from plain code, from another thread, or from a cell on the kernel's own loop
(where it nests the loop with ``nest_asyncio2`` so the poller keeps running).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Generator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import catalog
from ..errors import JobFailed, WaitTimeout
from ..providers.task import TaskError, Usage
from .bridge import run_on

if TYPE_CHECKING:
    from ..request import VideoRequest
    from .client import AsyncClient


class Phase(str, Enum):
    """Where a job is in its journey; the values are the strings the ledger stores."""

    CREATING = "creating"  # the create is being sent, or its lost answer reconciled
    TRACKING = "tracking"  # the task exists: its status is read until it ends
    DOWNLOADING = "downloading"  # it succeeded: the video is coming to disk
    DONE = "done"  # settled: succeeded with the video on disk, or failed
    UNKNOWN = "unknown"  # the create's fate could not be told (see AsyncClient.resubmit)
    REJECTED = "rejected"  # the create was refused or never sent: no task, nothing paid

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


_PHASES: dict[str, Phase] = {p.value: p for p in Phase}


SETTLED = (Phase.DONE, Phase.REJECTED, Phase.UNKNOWN)


class Job:
    """One request's journey; see the module docstring for how to wait on it."""

    def __init__(self, runtime: AsyncClient, row: dict[str, Any], request: VideoRequest) -> None:
        self._runtime = runtime
        self.request = request
        self.warnings: list[str] = []
        self.reused = False  # True when submit returned this job from the ledger (not sent again)
        self._row: dict[str, Any] = row
        self._listeners: list[Callable[[Job], None]] = []
        self._done: asyncio.Event | None = None
        self._lock = threading.Lock()

    # state --------------------------------------------------------------------------------
    @property
    def row(self) -> dict[str, Any]:
        """The job's ledger row as last seen (read it; the engine writes it via refresh)."""
        return self._row

    def refresh(self, row: dict[str, Any]) -> None:
        """Show ``row`` (the job's newer ledger row); wakes waiters and listeners."""
        self._row = row
        if self.done and self._done is not None:
            self._done.set()
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # a broken display must not stop the poller
                import logging

                logging.getLogger(__name__).exception("job listener failed")

    _apply_row = refresh  # the older name, kept for callers outside the engine

    def on_change(self, callback: Callable[[Job], None]) -> Callable[[], None]:
        """Call ``callback(job)`` on the job's loop after every change; returns an unsubscribe."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)

        return unsubscribe

    @property
    def id(self) -> str:
        return str(self._row["id"])

    @property
    def status(self) -> str:
        """queued, running, succeeded, failed, cancelled, expired, or unknown (a create whose
        fate could not be told; see :meth:`AsyncClient.resubmit`)."""
        if self._row["phase"] == Phase.UNKNOWN:
            return "unknown"
        return str(self._row["status"])

    @property
    def phase(self) -> Phase:
        # a dict lookup, not Enum(...): a round of a thousand jobs asks this ten thousand times
        raw = self._row["phase"]
        return _PHASES.get(raw) or Phase(raw)

    @property
    def done(self) -> bool:
        """Terminal and settled: for a success, the video is completely on disk."""
        return self.phase in SETTLED

    @property
    def outcome_unknown(self) -> bool:
        return self.phase == Phase.UNKNOWN

    @property
    def task_id(self) -> str | None:
        return self._row.get("task_id")

    @property
    def provider(self) -> str:
        return str(self._row["provider"])

    @property
    def model(self) -> str:
        return self.request.tier or self.request.model_id

    @property
    def progress(self) -> float | None:
        return self._row.get("progress")

    @property
    def video_path(self) -> Path | None:
        p = self._row.get("video_path")
        return Path(p) if p else None

    @property
    def last_frame_path(self) -> Path | None:
        p = self._row.get("last_frame_path")
        return Path(p) if p else None

    @property
    def stored_url(self) -> str | None:
        """Where the object store holds the video (``s3://…/job.mp4``), once it is there."""
        return self._row.get("stored_url")

    @property
    def store_error(self) -> str | None:
        """Why the video is stored locally only (the last upload's failure), else None."""
        return None if self.stored_url else self._row.get("store_error")

    @property
    def raw(self) -> dict[str, Any]:
        text = self._row.get("raw_json")
        return json.loads(text) if text else {}

    @property
    def usage(self) -> Usage | None:
        text = self._row.get("usage_json")
        return Usage(**json.loads(text)) if text else None

    @property
    def error(self) -> TaskError | None:
        text = self._row.get("error_json")
        if not text:
            return None
        data = json.loads(text)
        return TaskError(str(data.get("code")), str(data.get("message")))

    @property
    def seed(self) -> int | None:
        seed = self._row.get("seed")
        return int(seed) if seed is not None else self.request.seed

    @property
    def created_at(self) -> float:
        return float(self._row["created_at"])

    @property
    def finished_at(self) -> float | None:
        v = self._row.get("finished_at")
        return float(v) if v is not None else None

    @property
    def elapsed(self) -> float:
        """Wall seconds from submission to the video on disk (or until now)."""
        return (self.finished_at or time.time()) - self.created_at

    @property
    def tokens(self) -> int | None:
        usage = self.usage
        return usage.total_tokens if usage else None

    @property
    def estimated_tokens(self) -> int:
        return self.request.estimated_tokens

    @property
    def cost(self) -> float | None:
        """Cost from the billed tokens (or the estimate before billing), at catalog prices."""
        return catalog.estimate_cost(self.request.tier, self.tokens or self.estimated_tokens)

    @property
    def url_expires_at(self) -> float | None:
        """When the URL of a finished video not on disk yet expires (see :mod:`.expiry`)."""
        from .expiry import url_expires_at

        return url_expires_at(self)

    @property
    def client(self) -> AsyncClient:
        """The async client that drives this job (a cancel or a new take runs on its loop)."""
        return self._runtime

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._runtime.loop

    # waiting ------------------------------------------------------------------------------
    def _event(self) -> asyncio.Event:
        if self._done is None:
            self._done = asyncio.Event()
            if self.done:
                self._done.set()
        return self._done

    async def wait_async(self, timeout: float | None = None) -> Job:
        """Wait on the job's own loop; raises JobFailed unless it succeeded."""
        loop = asyncio.get_running_loop()
        if self._runtime.loop is not None and loop is not self._runtime.loop:
            return await self._bridge(self.wait_async(timeout))
        self._runtime.track(self)
        try:
            await asyncio.wait_for(self._event().wait(), timeout)
        except asyncio.TimeoutError:
            raise WaitTimeout(
                f"job {self.id} still {self.status} after {timeout:g} s; it goes on — wait again"
            ) from None
        if self.status != "succeeded":
            raise JobFailed(self)
        return self

    def __await__(self) -> Generator[Any, None, Job]:
        return self.wait_async().__await__()

    def wait(self, timeout: float | None = None) -> Job:
        """Block until the job is settled; works in scripts, threads and notebook cells."""
        return self._run_sync(self.wait_async(timeout), timeout)

    async def cancel_async(self) -> Job:
        loop = asyncio.get_running_loop()
        if self._runtime.loop is not None and loop is not self._runtime.loop:
            return await self._bridge(self.cancel_async())
        await self._runtime.cancel(self)
        return self

    def cancel(self) -> Job:
        """Ask the provider to cancel (Ark: only while queued)."""
        return self._run_sync(self.cancel_async(), None)

    async def _bridge(self, coro: Any) -> Any:
        loop = self._runtime.loop
        assert loop is not None
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, loop))

    def _run_sync(self, coro: Any, timeout: float | None) -> Any:
        loop = self._runtime.loop
        if loop is None or loop.is_closed():
            coro.close()
            raise RuntimeError("this job's client is closed; open a client on the same workdir")

        def timed_out() -> Exception:
            return WaitTimeout(f"job {self.id} is still {self.status}")

        wait = None if timeout is None else timeout + 5
        return run_on(loop, coro, wait, on_timeout=timed_out)

    # continuing ---------------------------------------------------------------------------
    async def extend_async(self, prompt: str, *, force: bool = False, **changes: Any) -> Job:
        """See :meth:`extend`."""
        loop = asyncio.get_running_loop()
        if self._runtime.loop is not None and loop is not self._runtime.loop:
            return await self._bridge(self.extend_async(prompt, force=force, **changes))
        from .frames import extend

        return await extend(self, prompt, force=force, **changes)

    async def remix_async(self, *, force: bool = False, **changes: Any) -> Job:
        """See :meth:`remix`."""
        loop = asyncio.get_running_loop()
        if self._runtime.loop is not None and loop is not self._runtime.loop:
            return await self._bridge(self.remix_async(force=force, **changes))
        from .remix import remix

        return await remix(self, force=force, **changes)

    def remix(self, *, force: bool = False, **changes: Any) -> Job:
        """``job.remix(seed=8)``: this job's parameters and your changes, as a new job (.remix)."""
        return self._run_sync(self.remix_async(force=force, **changes), None)

    def extend(self, prompt: str, *, force: bool = False, **changes: Any) -> Job:
        """A new job that starts from this job's last frame (the provider's, or the MP4's
        final frame), with this job's parameters and ``changes``; waits for this job first.
        Refused before any request where the provider takes media as public URLs only."""
        return self._run_sync(self.extend_async(prompt, force=force, **changes), None)

    # presentation -------------------------------------------------------------------------
    def summary(self) -> str:
        r = self.request
        w, h = r.size
        parts = [self.model, f"{w}×{h}", f"{r.duration}s", self.status]
        if self.seed is not None:
            parts.append(f"seed {self.seed}")
        if self.tokens:
            parts.append(f"{self.tokens:,} tokens")
        parts.append(f"{self.elapsed:.1f}s")
        return " · ".join(parts)

    def reuse_note(self, force_hint: str = "force=True") -> str:
        """One line for a job returned from the ledger instead of sent again."""
        stamp = time.strftime("%H:%M", time.localtime(self.created_at))
        if time.time() - self.created_at > 86400:
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(self.created_at))
        facts = [stamp, self.model]
        if self.tokens:
            facts.append(f"{self.tokens:,} tokens")
        elif not self.done:
            facts.append(self.status)
        return (
            f"same request as {self.id} ({', '.join(facts)}): reused, nothing charged; "
            f"{force_hint} to pay for a new take"
        )

    def __repr__(self) -> str:
        reused = " reused" if self.reused else ""
        stored = f" stored={self.stored_url}" if self.stored_url else ""
        stored += " stored=locally-only" if self.store_error else ""
        return (
            f"<Job {self.id} {self.status} {self.model} task={self.task_id} "
            f"video={str(self.video_path) if self.video_path else None}{stored}{reused}>"
        )

    def _repr_html_(self) -> str:
        from ..display import job_html

        return job_html(self)
