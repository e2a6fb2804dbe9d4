"""A live task view: progress while the job runs, the video and a summary when it is done.

The status/progress/video part is an HTML output with a ``display_id``; it is updated in
place from ``job.on_change`` (on the kernel's loop), so the update reaches the cell that
started the job even while other cells run, and the final state is what a saved notebook
keeps (nbclient applies display updates too). A small ipywidgets Cancel button sits beside
it while the job is running.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from . import html as h

if TYPE_CHECKING:
    from ..job import Job


class TaskView:
    """Display a job (or a job still being submitted) and keep the display current."""

    min_interval = 0.2  # seconds between two repaints of a running job

    def __init__(self, label: str, display: str = "relative", *, cancel_button: bool = True):
        if display not in h.DISPLAY_MODES:
            raise ValueError(f"display must be one of {h.DISPLAY_MODES}, not {display!r}")
        self.label = label
        self.display_mode = display
        self.job: Job | None = None
        self._handle: Any = None
        self._button: Any = None
        self._button_handle: Any = None
        self._want_button = cancel_button
        self._last_paint = 0.0
        self._unsubscribe: Any = None
        self._final = False
        self.html = (
            f'<div class="seedance-job" style="font-family:monospace"><b>{label}</b> · '
            '<span style="color:#888">submitting</span></div>'
        )

    # display ----------------------------------------------------------------------------
    def show(self) -> TaskView:
        from IPython.display import display

        self._handle = display(
            self._bundle(), raw=True, display_id=True, metadata={"seedance": {"model": self.label}}
        )
        if self._want_button:
            try:
                import ipywidgets as w
            except ImportError:  # pragma: no cover - ipywidgets is a dependency of the extra
                return self
            self._button = w.Button(
                description="Cancel", icon="stop", button_style="warning",
                layout=w.Layout(width="auto"),
            )  # fmt: skip
            self._button.on_click(lambda _b: self.cancel())
            self._button_handle = display(self._button, display_id=True)
        return self

    def _paint(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_paint < self.min_interval:
            return
        self._last_paint = now
        job = self.job
        if job is not None:
            self.html = h.job_html(job, self.display_mode)
        if self._handle is not None:
            meta = h.metadata(job) if job is not None else None
            self._handle.update(self._bundle(), raw=True, metadata=meta)
        if self._final and self._button_handle is not None:
            # replace the Cancel button's output, so a saved notebook keeps no stale widget
            self._button_handle.update({"text/plain": ""}, raw=True)

    def _bundle(self) -> dict[str, str]:
        job = self.job
        if job is None:
            text = f"{self.label}: submitting"
            if self.html.startswith('<div class="seedance-error'):
                import re

                text = re.sub(r"<[^>]+>", "", self.html)
        elif job.done and job.status == "succeeded":
            text = h.done_summary(job) + (f"\n{job.video_path}" if job.video_path else "")
        else:
            text = job.summary() + (f"\n{job.error.code}: {job.error.message}" if job.error else "")
        return {"text/html": self.html, "text/plain": text}

    # wiring -----------------------------------------------------------------------------
    def attach(self, job: Job) -> TaskView:
        """Follow ``job`` from now on (repaints on every change, final paint when done)."""
        self.job = job
        self.label = job.model
        self._unsubscribe = job.on_change(self._changed)
        self._changed(job)
        return self

    def _changed(self, job: Job) -> None:
        if self._final:
            return
        if job.done:
            self._final = True
            if self._unsubscribe is not None:
                self._unsubscribe()
            self._paint(force=True)
            self._hide_button()
        else:
            self._paint()

    def fail(self, message: str, kind: str = "error") -> None:
        """The submission itself failed: show it in place of the progress."""
        self._final = True
        self.html = h.error_line(message, kind)
        self._paint(force=True)
        self._hide_button()

    def _hide_button(self) -> None:
        if self._button is not None:
            self._button.layout.display = "none"
            self._button.close()
            self._button = None

    def cancel(self) -> None:
        job = self.job
        if job is None or job.done:
            return
        if self._button is not None:
            self._button.disabled = True
            self._button.description = "Cancelling…"

        async def go() -> None:
            try:
                await job.cancel_async()
            except Exception as exc:  # shown, never raised into the widget machinery
                self.html = h.progress_html(job) + h.error_line(str(exc), "cannot cancel")
                self._paint(force=True)
                if self._button is not None:
                    self._button.disabled = False
                    self._button.description = "Cancel"

        try:
            asyncio.get_running_loop().create_task(go())
        except RuntimeError:
            loop = job.loop
            if loop is not None:
                asyncio.run_coroutine_threadsafe(go(), loop)

    def _repr_html_(self) -> str:
        return self.html


def launch(
    client: Any, prompt: str, params: dict[str, Any], view: TaskView, *, force: bool = False
) -> Any:
    """Schedule ``client.submit`` on the home loop; the view follows the job. Returns a PendingJob."""
    from ..errors import SeedanceError
    from .runner import PendingJob, schedule

    async def go() -> Job:
        try:
            job = await client.submit(prompt, force=force, **params)
        except SeedanceError as exc:
            view.fail(str(exc), type(exc).__name__)
            raise
        except Exception as exc:
            view.fail(f"{type(exc).__name__}: {exc}", "submit failed")
            raise
        view.attach(job)
        return job

    future = schedule(go())
    # the failure is already on screen; mark it retrieved so asyncio does not log it again
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    pending = PendingJob(future, str(params.get("model") or "job"))
    pending.on_settled(lambda: view._paint(force=True))
    return pending
