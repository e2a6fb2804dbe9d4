"""``sd.sweep``: a parameter grid in a notebook, shown as its plan and then a live gallery.

>>> sw = sd.sweep("A {animal} at dawn", animal=["fox", "owl"], seed=[1, 2, 3],
...               model="seedance-2.0-fast", duration=4, resolution="480p")
>>> jobs = await sw            # every job settled (failures included)
>>> sw.rows(); sw.to_pandas(); sw.save_html("sweep.html")

The plan (jobs, reused ones, estimated tokens and cost in total and per axis value) is shown
first; then a grid laid out by one or two axes (the others as facets) whose cells are live task
views that become their videos, with their parameters on hover, Play all and play-on-hover,
and a results table.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

from .. import display as h
from ..errors import BudgetExceeded, InvalidRequest, SeedanceError
from ..workflows import gallery_html as gallery
from ..workflows.sweep import Entry, SweepResults
from ..workflows.sweep_plan import Combo, Expansion, SweepInvalid, SweepPlan, plan_sweep
from .live import LiveDisplay
from .runner import PendingJob, get_client, run_sync
from .view import TaskView, launch

if TYPE_CHECKING:
    from ..engine.job import Job


class GalleryCell(TaskView):
    """A task view that paints into its gallery instead of an output of its own."""

    def __init__(self, owner: SweepGallery, combo: Combo, display: str) -> None:
        super().__init__(owner.cell_label(combo), display, cancel_button=False)
        self.owner = owner
        self.combo = combo
        self.failure: str | None = None

    def fail(self, message: str, kind: str = "error") -> None:
        self.failure = f"{kind}: {message}"
        super().fail(message, kind)

    def _paint(self, force: bool = False) -> None:
        job = self.job
        if job is not None and not self.failed:
            self.html = self.owner.cell_html(job)
        self.owner._paint(force)


class SweepGallery(LiveDisplay, SweepResults):
    """The jobs of one sweep; awaitable (returns the settled jobs) and displayable."""

    show_plan = True

    def __init__(
        self,
        client: Any,
        expansion: Expansion,
        *,
        plan: SweepPlan | None = None,
        display: str = "relative",
        force: bool = False,
        layout: str | Sequence[str] | None = None,
    ) -> None:
        gallery.grid_axes(list(expansion.axes), layout)  # a wrong layout fails here, unsent
        self.client = client
        self.expansion = expansion
        self.plan = plan
        self.axes = expansion.axes
        self.prompt = expansion.prompt
        self.layout = layout
        self.display_mode = display
        self.force = force
        self.cells = [GalleryCell(self, c, display) for c in expansion.combos]
        self.pending: list[PendingJob] = []
        self.refused: BudgetExceeded | None = None  # the budget refused the whole sweep

    # what each cell shows ---------------------------------------------------------------
    def cell_label(self, combo: Combo) -> str:
        return combo.label() or "job"

    def cell_html(self, job: Job) -> str:
        """A finished cell waits for a hover or Play all (no autoplay in a grid)."""
        return h.job_html(job, self.display_mode, autoplay=False)

    def entries(self) -> list[Entry]:
        planned = self.plan.jobs if self.plan is not None else [None] * len(self.cells)
        return [
            Entry(c.combo, c.job, c.failure, p.request if p is not None else None)
            for c, p in zip(self.cells, planned, strict=True)
        ]

    # display ----------------------------------------------------------------------------
    def html(self) -> str:
        cells = [
            gallery.GalleryCell(c.combo.positions, self.cell_title(c.combo), c.html)
            for c in self.cells
        ]
        grid = gallery.grid_html(self.axes, cells, self.layout)
        table = gallery.results_table(list(self.axes), self.table_rows())
        has_video = any("<video" in c.html for c in self.cells)
        return gallery.gallery_html(grid, table, has_video=has_video)

    def _bundle(self) -> tuple[dict[str, str], dict[str, Any]]:
        jobs = [
            h.metadata(c.job)["seedance"] if c.job else {"sweep": c.combo.label()}
            for c in self.cells
        ]
        data = {"text/html": self.html(), "text/plain": self.text()}
        return data, {"seedance": {"sweep": jobs}}

    def show(self) -> SweepGallery:
        """Display the plan and the gallery, then submit every combination (on the home loop)."""
        if self.show_plan and self.plan is not None:
            show_plan(self.plan)
        if self.plan is not None:
            try:  # the whole sweep at once, before any view or request: never the first few
                self.client.check_budget([p.request for p in self.plan.jobs], force=self.force)
            except BudgetExceeded as exc:
                from .render import show_error

                show_error(str(exc), type(exc).__name__)
                self.refused = exc
                return self
        self._show_live()
        for cell in self.cells:
            combo = cell.combo
            pending = launch(self.client, combo.prompt, combo.params, cell, force=self.force)
            self.pending.append(pending)
        return self

    # waiting ----------------------------------------------------------------------------
    async def wait_async(self, timeout: float | None = None) -> list[Job | None]:
        async def settle(p: PendingJob) -> Job | None:
            try:
                return await p.wait_async(timeout)
            except SeedanceError:
                return p.job

        jobs = await asyncio.gather(*(settle(p) for p in self.pending))
        self._paint(force=True)
        return list(jobs)

    def __await__(self) -> Generator[Any, None, list[Job | None]]:
        return self.wait_async().__await__()

    def wait(self, timeout: float | None = None) -> list[Job | None]:
        return run_sync(self.wait_async(timeout))  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        head = self.plan.headline() if self.plan is not None else " × ".join(self.axes)
        return f"<SweepGallery {head}>\n{self.text()}"


def show_plan(plan: SweepPlan) -> None:
    """The plan in the cell: jobs, reused ones, and the estimate per axis value."""
    from IPython.display import display

    display({"text/plain": plan.text(), "text/html": gallery.plan_html(plan)}, raw=True)


def show_refusal(exc: InvalidRequest) -> None:
    """A refused sweep in the one error style: the headline, and a line per refusal."""
    from .render import show_error

    if isinstance(exc, SweepInvalid) and len(exc.refusals) > 1:
        head, _, rest = str(exc).partition("\n")
        show_error(head, hint=re.sub(r"\n\s*", "\n", rest.strip()))
    else:
        show_error(str(exc))


def sweep(
    prompt: str,
    *,
    provider: str | None = None,
    workdir: str | None = None,
    display: str = "relative",
    force: bool = False,
    layout: str | Sequence[str] | None = None,
    dry_run: bool = False,
    **params: Any,
) -> SweepGallery | SweepPlan | None:
    """Run every combination of the parameters given as lists; ``await`` it for the jobs.

    ``{name}`` placeholders in the prompt are filled from parameters of that name. Every
    combination is validated first; a refusal (naming its axis values) is one line in the
    cell and returns None. ``layout`` names the column axis or the (row, column) axes;
    ``dry_run=True`` shows the plan only and returns it (nothing sent).
    """
    from .render import or_refused

    def planned() -> tuple[Any, SweepPlan]:
        client = get_client(provider, workdir)
        plan = plan_sweep(client, prompt, force=force, **params)
        gallery.grid_axes(list(plan.axes), layout)
        return client, plan

    done = or_refused(planned, refusal=show_refusal)
    if done is None:
        return None
    client, plan = done
    if dry_run:
        show_plan(plan)
        return plan
    return SweepGallery(
        client, plan.expansion, plan=plan, display=display, force=force, layout=layout
    ).show()
