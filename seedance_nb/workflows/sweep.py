"""A sweep's jobs and its results: rows, a DataFrame, and a report page that stands alone.

:class:`SweepResults` is what every face of a sweep shares (the Jupyter gallery and the plain
:class:`Sweep` of ``Client.sweep``): one entry per combination with its job, or why its submit
failed. :class:`Sweep` submits a validated :class:`~.sweep_plan.SweepPlan` on its client's
loop, with no display at all, for scripts.
"""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import catalog
from .. import display as h
from ..errors import SeedanceError
from . import gallery_html as gallery
from .sweep_plan import Combo, SweepPlan, shown

if TYPE_CHECKING:
    from ..engine.client import AsyncClient
    from ..engine.job import Job
    from ..request import VideoRequest


@dataclass(frozen=True)
class Entry:
    """One combination as it stands: its job (None until created), or why it has none."""

    combo: Combo
    job: Job | None
    failure: str | None = None
    request: VideoRequest | None = None  # the planned request (estimates before the job)


def _asked_seed(request: VideoRequest | None) -> int | None:
    """The seed a request asks for, None where the provider draws one (-1 or unset)."""
    seed = request.seed if request is not None else None
    return None if seed in (None, -1) else seed


def _plain(value: Any) -> Any:
    """An axis value as a row holds it: plain data stays, anything else becomes its label."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return shown(value)


def _cents(usd: float | None, exact: bool) -> float | None:
    """A cost as a row holds it: to 1/100 of a cent (no float noise), or exact for display
    (shown to the cent, rounded once)."""
    return usd if usd is None or exact else round(usd, 4)


def result_row(entry: Entry, *, exact: bool = False) -> dict[str, Any]:
    """One row: the axis values, then state, wall time, tokens, the estimated cost (catalog
    price × estimated tokens) and the cost of the tokens the provider reported, and the seed."""
    row: dict[str, Any] = {k: _plain(v) for k, v in entry.combo.values.items()}
    job, request = entry.job, entry.request
    if job is not None:
        request = job.request
    estimate = request.estimated_cost if request is not None else None
    row.update(
        status=job.status if job else ("failed" if entry.failure else "submitting"),
        job_id=job.id if job else None,
        reused=bool(job and job.reused),
        wall_s=round(job.elapsed, 1) if job else None,
        tokens=job.tokens if job else None,
        estimated_tokens=request.estimated_tokens if request is not None else None,
        estimated_cost_usd=_cents(estimate, exact),
        cost_usd=None,
        seed=job.seed if job and job.seed is not None else _asked_seed(request),
        video_path=str(job.video_path) if job and job.video_path else None,
        error=entry.failure or (job.error.message if job and job.error else None),
    )
    if job is not None and job.tokens:
        row["cost_usd"] = _cents(catalog.estimate_cost(job.request.tier, job.tokens), exact)
    return row


class SweepResults:
    """Rows, a DataFrame and a saved report, from :meth:`entries` (defined by each face)."""

    plan: SweepPlan | None = None
    axes: dict[str, list[Any]]
    prompt: str

    def entries(self) -> list[Entry]:
        raise NotImplementedError

    @property
    def jobs(self) -> list[Job | None]:
        return [e.job for e in self.entries()]

    def rows(self, *, exact: bool = False) -> list[dict[str, Any]]:
        """One dict per combination, in plan order (see :func:`result_row` for the keys)."""
        return [result_row(e, exact=exact) for e in self.entries()]

    def table_rows(self) -> list[dict[str, Any]]:
        """The rows as the results table shows them (costs exact, shown to the cent once)."""
        return [result_row(e, exact=True) for e in self.entries()]

    def to_pandas(self) -> Any:
        """The rows as a ``pandas.DataFrame`` (pandas is optional: ``pip install pandas``)."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "to_pandas() needs pandas, which is not installed: pip install pandas "
                "(rows() gives the same table as a list of dicts)"
            ) from None
        return pd.DataFrame(self.rows())

    def text(self) -> str:
        lines = []
        for r in self.table_rows():
            head = " · ".join(f"{k}={shown(r[k])}" for k in self.axes)
            cost = f" est. {h.money(r['estimated_cost_usd'])}" if r["estimated_cost_usd"] else ""
            reused = " (reused)" if r["reused"] else ""
            lines.append(
                f"{head}: {r['status']}{reused} wall={r['wall_s']} tokens={r['tokens']}"
                f"{cost} seed={r['seed']}"
            )
        return "\n".join(lines)

    def cell_title(self, combo: Combo) -> str:
        """What a cell shows on hover: every parameter of its request, axis values first."""
        fixed = {} if self.plan is None else self.plan.expansion.fixed
        values = {**combo.values, **{k: v for k, v in fixed.items() if k not in combo.values}}
        return "\n".join(f"{k}={shown(v)}" for k, v in values.items())

    def save_html(self, path: str | Path, *, embed: bool = True) -> Path:
        """Write the sweep as one HTML page that opens in any browser.

        ``embed=True`` (default): every MP4 inside the page as a ``data:`` URL, one file to
        send. ``embed=False``: the MP4s copied into ``<name>_files/`` beside the page, which
        refers to them relatively (keep the folder with the page). Jobs still running are
        shown with their state; save again once they are done.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        folder = path.with_name(path.stem + "_files")
        cells, has_video = [], False
        for entry in self.entries():
            src = poster = None
            job = entry.job
            if job is not None and job.video_path is not None and job.video_path.exists():
                src = _video_source(job.video_path, folder if not embed else None, path.parent)
                poster = h.poster(job.video_path)
                has_video = True
            status = job.status if job else ("failed" if entry.failure else "submitting")
            summary = job.summary() if job else (entry.failure or "")
            body = gallery.report_cell(status, summary, src, poster)
            title = self.cell_title(entry.combo)
            cells.append(gallery.GalleryCell(entry.combo.positions, title, body))
        grid = gallery.grid_html(self.axes, cells, getattr(self, "layout", None))
        table = gallery.results_table(list(self.axes), self.table_rows())
        plan = gallery.plan_html(self.plan) if self.plan is not None else ""
        title = "Sweep: " + (" × ".join(self.axes) or "one job")
        shown_grid = gallery.gallery_html(grid, table, has_video=has_video)
        page = gallery.report_page(title, self.prompt, plan, shown_grid)
        path.write_text(page, encoding="utf-8")
        return path


def _video_source(video: Path, folder: Path | None, base: Path) -> str:
    """A data URL of ``video``, or its copy in ``folder`` as a path relative to ``base``."""
    if folder is None:
        return "data:video/mp4;base64," + base64.b64encode(video.read_bytes()).decode("ascii")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(video, folder / video.name)
    return f"{folder.relative_to(base).as_posix()}/{video.name}"


class Sweep(SweepResults):
    """A sweep run without a display (``Client.sweep``): submit all, then wait for all."""

    def __init__(self, client: AsyncClient, plan: SweepPlan) -> None:
        self.client = client
        self.plan = plan
        self._plan = plan
        self.axes = plan.axes
        self.prompt = plan.expansion.prompt
        self._jobs: list[Job | None] = [None] * len(plan.jobs)
        self._failures: list[str | None] = [None] * len(plan.jobs)

    def entries(self) -> list[Entry]:
        planned = self._plan.jobs
        return [
            Entry(p.combo, job, failure, p.request)
            for p, job, failure in zip(planned, self._jobs, self._failures, strict=True)
        ]

    async def start(self) -> Sweep:
        """Submit every combination at once (reused ones come back from the ledger); a submit
        that fails is recorded on its row, the others go on."""
        force = self._plan.force
        # the budget refuses the whole sweep at once, before any submit (sd.BudgetExceeded)
        self.client.check_budget([p.request for p in self._plan.jobs], force=force)

        async def one(i: int, combo: Combo) -> None:
            try:
                self._jobs[i] = await self.client.submit(combo.prompt, force=force, **combo.params)
            except SeedanceError as exc:
                self._failures[i] = f"{type(exc).__name__}: {exc}"

        await asyncio.gather(*(one(i, p.combo) for i, p in enumerate(self._plan.jobs)))
        return self

    async def wait_async(self, timeout: float | None = None) -> list[Job | None]:
        """Wait for every job to settle (a failed one does not raise); returns the jobs."""

        async def settle(job: Job | None) -> None:
            if job is not None:
                try:
                    await job.wait_async(timeout)
                except SeedanceError:
                    pass

        await asyncio.gather(*(settle(j) for j in self._jobs))
        return list(self._jobs)

    def __await__(self) -> Generator[Any, None, list[Job | None]]:
        return self.wait_async().__await__()

    def wait(self, timeout: float | None = None) -> list[Job | None]:
        """Block until every job has settled (failures included; see ``rows()``)."""
        for job in self._jobs:
            if job is not None:
                try:
                    job.wait(timeout)
                except SeedanceError:
                    pass
        return list(self._jobs)

    def __repr__(self) -> str:
        return f"<Sweep {self._plan.headline()}>\n{self.text()}"

    def _repr_html_(self) -> str:
        """The same grid as the notebook's gallery, painted once (no live updates)."""
        cells = []
        for e in self.entries():
            if e.job is not None:
                body = h.job_html(e.job, autoplay=False)
            else:
                body = h.error_line(e.failure) if e.failure else h.submitting_html(e.combo.label())
            cells.append(gallery.GalleryCell(e.combo.positions, self.cell_title(e.combo), body))
        table = gallery.results_table(list(self.axes), self.table_rows())
        has_video = any("<video" in c.body for c in cells)
        return gallery.gallery_html(gallery.grid_html(self.axes, cells), table, has_video=has_video)
