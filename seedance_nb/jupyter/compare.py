"""Side by side: one prompt, several tiers, one grid with a summary table and "Play all".

>>> cmp = sd.compare("a paper boat in the rain", models=["seedance-2.0", "seedance-2.0-fast"],
...                  duration=4, resolution="480p")
>>> jobs = await cmp          # every job settled (failures included)
"""

from __future__ import annotations

import asyncio
import html
import time
from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import InvalidRequest, SeedanceError
from . import html as h
from .runner import PendingJob, get_client, run_sync
from .view import TaskView, launch

if TYPE_CHECKING:
    from ..job import Job

_PLAY_ALL = (
    "<button class='seedance-play-all' onclick=\"this.closest('.seedance-compare')"
    ".querySelectorAll('video').forEach(v=>{v.currentTime=0;v.play();})\">▶ Play all</button>"
)


class _Cell(TaskView):
    """A task view that paints into the comparison grid instead of its own output."""

    def __init__(self, owner: Comparison, label: str, display: str) -> None:
        super().__init__(label, display, cancel_button=False)
        self.owner = owner

    def _paint(self, force: bool = False) -> None:
        job = self.job
        if job is not None and not (
            self._final and self.html.startswith('<div class="seedance-error')
        ):
            self.html = h.job_html(job, self.display_mode)
        self.owner._paint(force)


class Comparison:
    """The jobs of one comparison; awaitable (returns the settled jobs) and displayable."""

    min_interval = 0.25

    def __init__(
        self,
        client: Any,
        prompt: str,
        models: Sequence[str],
        params: dict[str, Any],
        *,
        display: str = "relative",
        force: bool = False,
    ) -> None:
        self.client = client
        self.prompt = prompt
        self.models = list(models)
        self.params = dict(params)
        self.display_mode = display
        self.force = force
        self.cells = [_Cell(self, m, display) for m in self.models]
        self.pending: list[PendingJob] = []
        self._handle: Any = None
        self._last = 0.0

    # display ----------------------------------------------------------------------------
    def html(self) -> str:
        n = len(self.cells)
        grid = "".join(
            f"<div style='min-width:0'><div><b>{html.escape(c.label)}</b></div>{c.html}</div>"
            for c in self.cells
        )
        return (
            "<div class='seedance-compare'>"
            f"<div style='display:grid;grid-template-columns:repeat({n},minmax(0,1fr));gap:8px'>{grid}</div>"
            f"{self.table_html()}{_PLAY_ALL}</div>"
        )

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for model, cell in zip(self.models, self.cells, strict=True):
            job = cell.job
            if job is None:
                out.append({"model": model, "status": "submitting", "wall_s": None, "tokens": None,
                            "estimated_cost_usd": None})  # fmt: skip
                continue
            out.append({
                "model": job.model, "status": job.status, "wall_s": round(job.elapsed, 1),
                "tokens": job.tokens or job.estimated_tokens, "estimated_cost_usd": job.cost,
            })  # fmt: skip
        return out

    def table_html(self) -> str:
        head = "".join(
            f"<th>{x}</th>" for x in ("model", "status", "wall time", "tokens", "est. cost")
        )
        body = ""
        for r in self.rows():
            wall = f"{r['wall_s']:.1f}s" if r["wall_s"] is not None else ""
            tokens = f"{r['tokens']:,}" if r["tokens"] else ""
            cost = f"${r['estimated_cost_usd']:.3f}" if r["estimated_cost_usd"] is not None else ""
            body += (
                f"<tr><td>{html.escape(r['model'])}</td><td>{html.escape(r['status'])}</td>"
                f"<td>{wall}</td><td>{tokens}</td><td>{cost}</td></tr>"
            )
        return f"<table class='seedance-compare-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def text(self) -> str:
        lines = [
            f"{r['model']}: {r['status']} wall={r['wall_s']} tokens={r['tokens']}"
            for r in self.rows()
        ]
        return "\n".join(lines)

    def _bundle(self) -> tuple[dict[str, str], dict[str, Any]]:
        meta = {"seedance": {"compare": [h.metadata(c.job)["seedance"] if c.job else {"model": c.label}
                                         for c in self.cells]}}  # fmt: skip
        return {"text/html": self.html(), "text/plain": self.text()}, meta

    def _paint(self, force: bool = False) -> None:
        now = time.monotonic()
        if self._handle is None or (not force and now - self._last < self.min_interval):
            return
        self._last = now
        data, meta = self._bundle()
        self._handle.update(data, raw=True, metadata=meta)

    def show(self) -> Comparison:
        """Display the grid and submit every tier (on the home loop)."""
        from IPython.display import display

        data, meta = self._bundle()
        self._handle = display(data, raw=True, metadata=meta, display_id=True)
        for model, cell in zip(self.models, self.cells, strict=True):
            self.pending.append(
                launch(
                    self.client,
                    self.prompt,
                    {**self.params, "model": model},
                    cell,
                    force=self.force,
                )
            )
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

    @property
    def jobs(self) -> list[Job | None]:
        return [p.job for p in self.pending]

    def __repr__(self) -> str:
        return f"<Comparison {', '.join(self.models)}>\n{self.text()}"


def compare(
    prompt: str,
    models: Sequence[str] = ("seedance-2.0", "seedance-2.0-fast"),
    *,
    provider: str | None = None,
    workdir: str | None = None,
    display: str = "relative",
    force: bool = False,
    **params: Any,
) -> Comparison | None:
    """Run ``prompt`` on several tiers side by side; ``await`` the result for the jobs.

    Every tier is validated first; an invalid request shows a one-line error and returns None.
    """
    from .render import show_error

    client = get_client(provider, workdir)
    try:
        for m in models:
            client.validate(prompt, model=m, **params)
    except InvalidRequest as exc:
        show_error(str(exc))
        return None
    return Comparison(client, prompt, models, params, display=display, force=force).show()
