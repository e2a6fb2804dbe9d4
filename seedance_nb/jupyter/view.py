"""A live task view: progress while the job runs, the video and a summary when it is done.

:class:`TaskView` (the magic's) is an HTML output with a ``display_id``, updated in place from
``job.on_change`` on the client's loop, so the update reaches the cell that started the job
even while other cells run, and the final state is what a saved notebook keeps (nbclient
applies display updates too). :class:`WidgetTaskView` (the form's) paints the same HTML into an
``ipywidgets.Output``: JupyterLab renders that like any cell output, so the relative
``<video src>`` resolves against the notebook's folder as it does in a cell (an
``ipywidgets.HTML`` would resolve it against the page URL and show a black player).

Terminal IPython has no kernel: its plain ``DisplayPublisher`` prints every display update as a
new output. There (:func:`can_update_displays` is False) a :class:`TaskView` prints a line only
when the state changes (queued, running, downloading, the final summary once).

Both carry one button: **Cancel** while the job runs, **New take** once it is done (the same
request again with ``force=True``, in a new view below), and beside it then **Remix** (the form,
prefilled with the job's parameters: :mod:`.remix`). A button's click may be handled on
another thread with another event loop (ipykernel 7 subshells); every action goes through
:func:`~seedance_nb.jupyter.runner.on_client_loop`, so the work runs on the client's own loop.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from .. import catalog
from .. import display as h
from .remix import RemixButton

if TYPE_CHECKING:
    from ..engine.job import Job
    from .runner import PendingJob

NEW_TAKE_TIP = "Send the same request again as a new take (force=True: a new task, billed again)"


def can_update_displays(shell: Any = None) -> bool:
    """Whether a display can be redrawn in place: a kernel's publisher or a capture can; the
    plain publisher of terminal IPython prints every update again, and without a shell
    ``display`` just prints. ``shell`` defaults to the running IPython shell."""
    from IPython.core.displaypub import DisplayPublisher

    if shell is None:
        from IPython import get_ipython

        shell = get_ipython()
    pub = getattr(shell, "display_pub", None)
    return pub is not None and type(pub) is not DisplayPublisher


def cancel_refusal(job: Job) -> str | None:
    """Why the provider cannot cancel ``job`` now, or None when a cancel may work.

    Ark (and the emulator, which speaks Ark) cancels queued tasks only; some gateways cannot
    cancel at all. Saying so beats a silent button and a job that finishes anyway.
    """
    provider = catalog.PROVIDERS.get(job.provider)
    if provider is None:
        return None
    if not provider.can_cancel:
        return f"{provider.label} cannot cancel a task: {provider.cancel_note} It will finish and be billed."
    if provider.dialect == "ark" and job.status == "running":
        text = "Ark cannot stop a running task; it will finish and be billed"
        if provider.name == "emulator":
            return text + " (here the emulator plays Ark and bills nothing)."
        return text + "."
    return None


class TaskView(RemixButton):
    """Display a job (or a job still being submitted) and keep the display current."""

    min_interval = 0.2  # seconds between two repaints of a running job

    def __init__(
        self,
        label: str,
        display: str = "relative",
        *,
        cancel_button: bool = True,
        force_hint: str = "force=True",
    ):
        if display not in h.DISPLAY_MODES:
            raise ValueError(f"display must be one of {h.DISPLAY_MODES}, not {display!r}")
        self.label = label
        self.display_mode = display
        self.force_hint = force_hint  # how "pay for a new take" is said where the view lives
        self.job: Job | None = None
        self.client: Any = None  # set by launch(); a new take and a cancel run on its loop
        self.note = ""  # a line under the job: why a cancel cannot happen, or that it did
        self.note_kind = "info"
        self.takes: list[PendingJob] = []  # the New take submissions started from this view
        self._handle: Any = None
        self._button: Any = None
        self._takes_box: Any = None
        self._want_button = cancel_button
        self._cancel_asked = False
        self._last_paint = 0.0
        self._unsubscribe: Any = None
        self._final = False
        self.failed = False  # the submission itself failed (fail()): no job will come
        self._live = True  # whether the display redraws in place; decided by show()
        self._shown_state: tuple[Any, ...] | None = None  # what a printing display last showed
        self._print_lock = threading.Lock()  # the loop's paint and the settle repaint may race
        self.html = h.submitting_html(label)

    # display ----------------------------------------------------------------------------
    def show(self) -> TaskView:
        from IPython.display import display

        self._live = can_update_displays()
        self._shown_state = self._state()
        self._handle = display(
            self._bundle(), raw=True, display_id=True, metadata={"seedance": {"model": self.label}}
        )
        if self._want_button:
            try:
                import ipywidgets as w
            except ImportError:  # pragma: no cover - ipywidgets is a dependency of the extra
                return self
            box = w.VBox([self._make_button(), self._make_takes_box()])
            # text/plain stays empty, so a saved notebook (GitHub, nbconvert) shows no
            # "VBox(children=…)" where the live button was
            display(
                {
                    "text/plain": "",
                    "application/vnd.jupyter.widget-view+json": {
                        "version_major": 2,
                        "version_minor": 0,
                        "model_id": box.model_id,
                    },
                },
                raw=True,
            )
        return self

    def _make_button(self) -> Any:
        import ipywidgets as w

        self._button = w.Button(
            description="Cancel",
            icon="stop",
            button_style="warning",
            layout=w.Layout(width="auto", align_self="flex-start"),
            tooltip="Ask the provider to cancel this job",
        )
        self._button.on_click(lambda _b: self._clicked())
        return w.HBox([self._button, self._make_remix_button()])

    def _make_takes_box(self) -> Any:
        import ipywidgets as w

        self._takes_box = w.VBox()
        return self._takes_box

    def _compose(self) -> str:
        """The job's HTML (html.py) with this view's note underneath."""
        job = self.job
        if job is not None:
            if self._cancel_asked and job.status == "cancelled" and not self.note:
                self.note, self.note_kind = "Cancelled at your request.", "info"
            self.html = h.job_html(job, self.display_mode, force_hint=self.force_hint)
            if self.note:
                self.html += h.notice_line(self.note, kind=self.note_kind)
        return self.html

    def _state(self) -> tuple[Any, ...]:
        """What a printing display shows a new line for: the phase and the note, not the
        seconds and progress that change on every poll."""
        job = self.job
        if job is None:
            return ("submitting", self.html, self.note)
        phase = job.phase if job.phase in ("creating", "downloading") else job.status
        return (phase, job.done, job.reused, self.note)

    def _paint(self, force: bool = False) -> None:
        if not self._live:
            self._print_changed()
            return
        now = time.monotonic()
        if not force and now - self._last_paint < self.min_interval:
            return
        self._last_paint = now
        self._compose()
        if self._handle is not None:
            meta = h.metadata(self.job) if self.job is not None else None
            self._handle.update(self._bundle(), raw=True, metadata=meta)
        self._update_button()

    def _print_changed(self) -> None:
        """On a display that prints every update (the terminal): update only when the state
        changed, so a job prints one line per state and its final summary once (the settle
        repaint after the final paint changes nothing)."""
        with self._print_lock:
            self._compose()
            state = self._state()
            if state != self._shown_state:
                self._shown_state = state
                if self._handle is not None:
                    meta = h.metadata(self.job) if self.job is not None else None
                    self._handle.update(self._bundle(), raw=True, metadata=meta)
        self._update_button()

    def _bundle(self) -> dict[str, str]:
        job = self.job
        if job is None:
            text = f"{self.label}: submitting"
            if self.failed:
                import re

                text = re.sub(r"<[^>]+>", "", self.html)
        else:
            text = h.job_text(job, force_hint=self.force_hint)
        if self.note:
            text += f"\n{self.note}"
        return {"text/html": self.html, "text/plain": text}

    def _update_button(self) -> None:
        """Cancel while running; New take once done; gone if the submission itself failed."""
        button = self._button
        if button is None or not self._final:
            return
        if self.job is None:
            button.layout.display = "none"
            return
        self._show_remix(True)
        if button.description != "New take":
            button.description = "New take"
            button.icon = "repeat"
            button.button_style = ""
            button.tooltip = NEW_TAKE_TIP
            button.disabled = False

    # wiring -----------------------------------------------------------------------------
    def attach(self, job: Job) -> TaskView:
        """Follow ``job`` from now on (repaints on every change, final paint when done)."""
        self.job = job
        self.label = job.model
        if self.client is None:
            self.client = job.client
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
        else:
            self._paint()

    def fail(self, message: str, kind: str = "error") -> None:
        """The submission itself failed: show it in place of the progress."""
        self._final = True
        self.failed = True
        self.html = h.error_line(message, kind)
        self._paint(force=True)

    # actions ----------------------------------------------------------------------------
    def _clicked(self) -> None:
        """The one button's handler (on whatever thread the widget message arrived)."""
        if self._final:
            self.new_take()
        else:
            self.cancel()

    def _say(self, note: str, kind: str = "warning") -> None:
        self.note, self.note_kind = note, kind
        self._paint(force=True)

    def cancel(self) -> None:
        """Ask the provider to cancel; where it cannot, say why and retire the button.

        Callable from any thread: the decision and the repaint happen on the client's loop,
        where the job's state changes.
        """
        from .runner import on_client_loop

        client = self.client or (self.job.client if self.job is not None else None)
        if client is None:  # never launched: nothing to cancel
            return
        on_client_loop(client, self._cancel())

    async def _cancel(self) -> None:
        job = self.job
        if job is None:
            self._say("The task is still being created; press Cancel again in a moment.", "info")
            return
        if job.done:
            return
        refusal = cancel_refusal(job)
        if refusal is not None:
            self._refuse(refusal)
            return
        if self._button is not None:
            self._button.disabled = True
            self._button.description = "Cancelling…"
        self._cancel_asked = True
        try:
            await job.cancel_async()
        except Exception as exc:  # shown, never raised into the widget machinery
            self._cancel_asked = False
            # the task may have started running since the click (Ark's DELETE then fails)
            self._refuse(cancel_refusal(job) or f"Cannot cancel: {exc}")

    def _refuse(self, reason: str) -> None:
        if self._button is not None and not self._final:
            self._button.description = "Cannot cancel"
            self._button.icon = "ban"
            self._button.button_style = ""
            self._button.disabled = True
            self._button.tooltip = reason
        self._say(reason)

    def new_take(self) -> PendingJob | None:
        """The same request again with ``force=True``, in a new view below this one."""
        from ..request.schema import params_of

        job = self.job
        if job is None:
            return None
        client = self.client or job.client
        view = WidgetTaskView(job.model, self.display_mode)
        if self._takes_box is not None:
            self._takes_box.children = (*self._takes_box.children, view.box)
        pending = launch(client, job.request.prompt, params_of(job.request), view, force=True)
        self.takes.append(pending)
        return pending

    def _repr_html_(self) -> str:
        return self.html


class WidgetTaskView(TaskView):
    """A task view painted into an ``ipywidgets.Output`` (it lives inside other widgets)."""

    def __init__(
        self, label: str, display: str = "relative", *, force_hint: str = "New take"
    ) -> None:
        import ipywidgets as w

        super().__init__(label, display, cancel_button=False, force_hint=force_hint)
        self.widget = w.Output(layout=w.Layout(width="100%"))
        self.box = w.VBox([self.widget, self._make_button(), self._make_takes_box()])
        self._show_bundle()

    def show(self) -> WidgetTaskView:
        return self

    def _show_bundle(self) -> None:
        # set as a whole (not through ``with out:``), which needs no cell context and works
        # from any thread
        self.widget.outputs = (
            {"output_type": "display_data", "data": self._bundle(), "metadata": {}},
        )

    def _paint(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_paint < self.min_interval:
            return
        self._last_paint = now
        self._compose()
        self._show_bundle()
        self._update_button()


def launch(
    client: Any, prompt: str, params: dict[str, Any], view: TaskView, *, force: bool = False
) -> Any:
    """Start ``client.submit`` on the client's own loop (from any thread); the view follows
    the job. Returns a PendingJob."""
    from ..errors import SeedanceError
    from .runner import PendingJob, on_client_loop

    view.client = client

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

    future = on_client_loop(client, go())
    # the failure is already on screen; mark it retrieved so asyncio does not log it again
    future.add_done_callback(lambda f: f.cancelled() or f.exception())
    pending = PendingJob(future, str(params.get("model") or "job"))
    pending.on_settled(lambda: view._paint(force=True))
    return pending
