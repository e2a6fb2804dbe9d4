"""Remix: a job's parameters in the form, prefilled, to change and submit as a new job.

The live view's **Remix** button (once the job is done) and history's ``remix`` button open
:func:`remix_form` below them: the form holds the job's prompt and every parameter of its
stored request (``schema.params_of``, the one schema), on the job's own client. Change what
you like and press Submit: an ordinary submit, so the ledger's reuse rules and the budget
apply (an unchanged remix is the same request and returns the same job, at no cost).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..engine.job import Job

REMIX_TIP = "Open the form with this job's parameters: change them, then Submit (a new job)"

# Opens the prefilled form: form.remix_form, registered by the form module when it loads (the
# form imports the views, so the views cannot import the form; the magic loads it)
_opener: list[Callable[[Job, Any, str], Any]] = []


def set_opener(opener: Callable[[Job, Any, str], Any]) -> None:
    """Register what opens the prefilled form (``form.remix_form``)."""
    _opener[:] = [opener]


def open_remix_form(job: Job, client: Any = None, display: str = "relative") -> Any:
    """The form on ``client`` (default: the job's), prefilled with ``job``'s parameters."""
    if not _opener:
        raise RuntimeError("the form is not loaded: import seedance_nb.jupyter.form")
    return _opener[0](job, client, display)


def widget_output(widget: Any) -> dict[str, Any]:
    """An output (for ``ipywidgets.Output.outputs``) that shows ``widget``; text/plain stays
    empty so a saved notebook shows no ``VBox(…)``."""
    view = {"version_major": 2, "version_minor": 0, "model_id": widget.model_id}
    data = {"text/plain": "", "application/vnd.jupyter.widget-view+json": view}
    return {"output_type": "display_data", "data": data, "metadata": {}}


class RemixButton:
    """The live view's Remix button (a mixin of :class:`~seedance_nb.jupyter.view.TaskView`):
    hidden while the job runs, shown beside New take once it is done."""

    job: Job | None
    client: Any
    display_mode: str
    _takes_box: Any
    _remix_button: Any = None
    remix_forms: tuple[Any, ...] = ()  # the forms Remix opened under this view, oldest first

    def _make_remix_button(self) -> Any:
        import ipywidgets as w

        self._remix_button = w.Button(
            description="Remix",
            icon="sliders",
            layout=w.Layout(width="auto", align_self="flex-start", display="none"),
            tooltip=REMIX_TIP,
        )
        self._remix_button.on_click(lambda _b: self.remix())
        return self._remix_button

    def _show_remix(self, shown: bool) -> None:
        if self._remix_button is not None:
            self._remix_button.layout.display = "" if shown else "none"

    def remix(self) -> Any:
        """Open the form below the view, prefilled with this job's parameters; returns it."""
        job = self.job
        if job is None:
            return None
        form = open_remix_form(job, self.client or job.client, self.display_mode)
        self.remix_forms = (*self.remix_forms, form)
        if self._takes_box is not None:
            self._takes_box.children = (*self._takes_box.children, form.widget)
        return form


__all__ = ["REMIX_TIP", "RemixButton", "open_remix_form", "set_opener", "widget_output"]
