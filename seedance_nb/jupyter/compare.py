"""Side by side: one prompt, several tiers, one grid with a summary table and "Play all".

A comparison is a sweep over ``model`` (:mod:`.sweep`) shown the compact way: one column per
tier, autoplaying, with a five-column table. The prompt is sent verbatim (no placeholders).

>>> cmp = sd.compare("a paper boat in the rain", models=["seedance-2.0", "seedance-2.0-fast"],
...                  duration=4, resolution="480p")
>>> jobs = await cmp          # every job settled (failures included)
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .. import display as h
from ..workflows.sweep_plan import Combo, SweepInvalid, SweepPlan, expand, plan_sweep
from .runner import get_client
from .sweep import SweepGallery

if TYPE_CHECKING:
    from ..engine.job import Job

_PLAY_ALL_JS = (
    "this.closest('.seedance-compare').querySelectorAll('video')"
    ".forEach(v=>{v.currentTime=0;v.play();})"
)
_LEFT = "text-align:left;padding:2px 12px 2px 0"
_RIGHT = "text-align:right;padding:2px 12px 2px 0;font-variant-numeric:tabular-nums"
_COLUMNS = (
    ("model", _LEFT),
    ("status", _LEFT),
    ("wall time", _RIGHT),
    ("tokens", _RIGHT),
    ("est. cost", _RIGHT),
)


def play_all_button() -> str:
    """A "Play all" button styled like a Jupyter widget button (restarts every video)."""
    return (
        f'<button class="seedance-play-all jupyter-button" onclick="{html.escape(_PLAY_ALL_JS)}" '
        f'style="{h.button_style()}">▶ Play all</button>'
    )


class Comparison(SweepGallery):
    """The jobs of one comparison; awaitable (returns the settled jobs) and displayable."""

    show_plan = False  # a comparison shows its table; its plan is one job per tier

    def __init__(
        self,
        client: Any,
        prompt: str,
        models: Sequence[str],
        params: dict[str, Any],
        *,
        display: str = "relative",
        force: bool = False,
        plan: SweepPlan | None = None,
    ) -> None:
        self.models = list(models)
        self.params = dict(params)
        expansion = (
            plan.expansion
            if plan is not None
            else expand(prompt, {**self.params, "model": self.models}, template=False)
        )
        super().__init__(client, expansion, plan=plan, display=display, force=force)

    def cell_label(self, combo: Combo) -> str:
        return str(combo.values.get("model") or combo.label())

    def cell_html(self, job: Job) -> str:
        return h.job_html(job, self.display_mode)

    # display ----------------------------------------------------------------------------
    def html(self) -> str:
        n = len(self.cells)
        grid = "".join(
            f'<div style="min-width:0;text-align:left"><div><b>{html.escape(c.label)}</b></div>'
            f"{c.html}</div>"
            for c in self.cells
        )
        play = play_all_button() if any("<video" in c.html for c in self.cells) else ""
        return (
            f'<div class="seedance-compare" style="{h.FONT}">'
            f'<div style="display:grid;grid-template-columns:repeat({n},minmax(0,1fr));gap:8px">'
            f"{grid}</div>{self.table_html()}{play}</div>"
        )

    def rows(self) -> list[dict[str, Any]]:
        """One row per tier; the cost is rounded to 1/100 of a cent (no float noise)."""
        return [
            {**r, "estimated_cost_usd": None if c is None else round(c, 4)} for r, c in self._rows()
        ]

    def _rows(self) -> list[tuple[dict[str, Any], float | None]]:
        """Rows without their cost, and the unrounded cost (shown to the cent, rounded once)."""
        out: list[tuple[dict[str, Any], float | None]] = []
        for cell in self.cells:
            job = cell.job
            if job is None:
                model = str(cell.combo.values.get("model", cell.label))
                row = {"model": model, "status": "failed" if cell.failed else "submitting"}
                out.append(({**row, "wall_s": None, "tokens": None}, None))
                continue
            row = {
                "model": job.model,
                "status": job.status,
                "wall_s": round(job.elapsed, 1),
                "tokens": job.tokens or job.estimated_tokens,
            }
            out.append((row, job.cost))
        return out

    def table_html(self) -> str:
        head = "".join(f'<th style="{style}">{name}</th>' for name, style in _COLUMNS)
        body = ""
        for r, cost in self._rows():
            wall = f"{r['wall_s']:.1f} s" if r["wall_s"] is not None else ""
            tokens = f"{r['tokens']:,}" if r["tokens"] else ""
            values = (
                html.escape(r["model"]),
                html.escape(r["status"]),
                wall,
                tokens,
                h.money(cost),
            )
            cells = "".join(
                f'<td style="{style}">{v}</td>'
                for v, (_name, style) in zip(values, _COLUMNS, strict=True)
            )
            body += f"<tr>{cells}</tr>"
        return (
            '<table class="seedance-compare-table" style="border-collapse:collapse;margin:6px 0">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
        )

    def text(self) -> str:
        lines = []
        for r, cost in self._rows():
            lines.append(
                f"{r['model']}: {r['status']} wall={r['wall_s']} tokens={r['tokens']}"
                + (f" est. {h.money(cost)}" if cost is not None else "")
            )
        return "\n".join(lines)

    def _bundle(self) -> tuple[dict[str, str], dict[str, Any]]:
        compared = [
            h.metadata(c.job)["seedance"] if c.job else {"model": c.label} for c in self.cells
        ]
        data = {"text/html": self.html(), "text/plain": self.text()}
        return data, {"seedance": {"compare": compared}}

    def __repr__(self) -> str:
        return f"<Comparison {', '.join(self.models)}>\n{self.text()}"


def plan_comparison(
    client: Any, prompt: str, models: Sequence[str], params: dict[str, Any], force: bool = False
) -> SweepPlan:
    """A comparison's plan: a sweep over ``model`` with the prompt verbatim. A refused tier
    raises its own error (it names the model already)."""
    try:
        return plan_sweep(
            client, prompt, force=force, template=False, **{**params, "model": list(models)}
        )
    except SweepInvalid as exc:
        raise exc.cause from None


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
    from .render import or_refused

    def planned() -> tuple[Any, SweepPlan]:
        client = get_client(provider, workdir)
        return client, plan_comparison(client, prompt, models, params, force)

    done = or_refused(planned)
    if done is None:
        return None
    client, plan = done
    return Comparison(
        client, prompt, models, params, display=display, force=force, plan=plan
    ).show()
