"""A sweep as HTML: its plan, a grid of cells laid out by one or two axes (the others as
facets), a results table, and a page that stands on its own (``sweep.save_html``).

Plain strings, no IPython: the live gallery (``jupyter/sweep.py``) and the saved report use
the same pieces. A cell carries its parameters in its ``title`` (shown on hover) and plays
its video while the pointer is over it; **Play all** restarts every video of the gallery.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..display.style import FONT, MONO, PALETTE, VIDEO_STYLE, button_style, esc, status_span
from ..display.words import money

if TYPE_CHECKING:
    from .sweep_plan import SweepPlan

PLAY_ALL_JS = (
    "this.closest('.seedance-sweep').querySelectorAll('video')"
    ".forEach(v=>{v.currentTime=0;v.play();})"
)
# hover plays a paused video and pauses it again on leave (not one Play all started)
HOVER_IN_JS = "var v=this.querySelector('video');if(v&&v.paused){v.dataset.hover=1;v.play();}"
HOVER_OUT_JS = (
    "var v=this.querySelector('video');if(v&&v.dataset.hover){delete v.dataset.hover;v.pause();}"
)
_LEFT = "text-align:left;padding:2px 12px 2px 0"
_RIGHT = "text-align:right;padding:2px 12px 2px 0;font-variant-numeric:tabular-nums"
_HEAD = f"color:{PALETTE['muted']};font-weight:600;padding:2px 4px"
RESULT_COLUMNS = (
    ("status", _LEFT),
    ("wall time", _RIGHT),
    ("tokens", _RIGHT),
    ("est. cost", _RIGHT),
    ("cost", _RIGHT),
    ("seed", _RIGHT),
)


@dataclass(frozen=True)
class GalleryCell:
    """One cell: where it sits (each axis value's index), its hover text and its content."""

    positions: tuple[int, ...]
    title: str
    body: str


def play_all_button() -> str:
    return (
        f'<button class="seedance-play-all jupyter-button" onclick="{esc(PLAY_ALL_JS)}" '
        f'style="{button_style()}">▶ Play all</button>'
    )


def grid_axes(
    axes: Sequence[str], layout: str | Sequence[str] | None = None
) -> tuple[str | None, str | None, list[str]]:
    """(row axis, column axis, facet axes). By default the last axis runs across, the one
    before it down, and any others are facets; ``layout`` names the column axis, or the
    (row, column) axes."""
    names = list(axes)
    if layout is None:
        cols = names[-1] if names else None
        rows = names[-2] if len(names) >= 2 else None
    else:
        chosen = [layout] if isinstance(layout, str) else list(layout)
        wrong = [a for a in chosen if a not in names]
        if wrong or not 1 <= len(chosen) <= 2 or len(set(chosen)) != len(chosen):
            raise ValueError(
                f"layout={layout!r}: name one or two different axes of this sweep "
                f"(its axes: {', '.join(names) or 'none'})"
            )
        rows, cols = (None, chosen[0]) if len(chosen) == 1 else (chosen[0], chosen[1])
    return rows, cols, [n for n in names if n not in (rows, cols)]


def _label(name: str, value: Any) -> str:
    from .sweep_plan import shown

    return f"{name}={shown(value)}"


def _cell_html(cell: GalleryCell | None, caption: str = "") -> str:
    if cell is None:
        return "<div></div>"
    head = f'<div style="{_HEAD};padding-left:0">{esc(caption)}</div>' if caption else ""
    return (
        f'<div class="seedance-sweep-cell" title="{esc(cell.title)}" '
        f'onmouseenter="{esc(HOVER_IN_JS)}" onmouseleave="{esc(HOVER_OUT_JS)}" '
        f'style="min-width:0;text-align:left">{head}{cell.body}</div>'
    )


def _one_grid(
    axes: dict[str, list[Any]],
    rows: str | None,
    cols: str | None,
    fixed: dict[str, int],
    index: dict[tuple[int, ...], GalleryCell],
) -> str:
    """The grid of one facet: a header row of column values, a header column of row values."""
    names = list(axes)
    col_values = axes[cols] if cols else [None]
    row_values = axes[rows] if rows else [None]

    def at(r: int, c: int) -> GalleryCell | None:
        where = {**fixed, **({rows: r} if rows else {}), **({cols: c} if cols else {})}
        return index.get(tuple(where[n] for n in names))

    if rows is None:  # one axis across: each cell captioned, wrapping on narrow screens
        body = "".join(
            _cell_html(at(0, c), _label(cols, v) if cols else "") for c, v in enumerate(col_values)
        )
        template = "repeat(auto-fill,minmax(260px,1fr))" if len(col_values) > 3 else None
        template = template or f"repeat({len(col_values)},minmax(0,1fr))"
        return f'<div style="display:grid;grid-template-columns:{template};gap:8px">{body}</div>'
    assert cols is not None
    head = "<div></div>" + "".join(
        f'<div class="seedance-sweep-col" style="{_HEAD}">{esc(_label(cols, v))}</div>'
        for v in col_values
    )
    body = ""
    for r, rv in enumerate(row_values):
        body += f'<div class="seedance-sweep-row" style="{_HEAD};align-self:center">'
        body += f"{esc(_label(rows, rv))}</div>"
        body += "".join(_cell_html(at(r, c)) for c in range(len(col_values)))
    template = f"auto repeat({len(col_values)},minmax(200px,1fr))"
    return (
        f'<div style="overflow-x:auto"><div style="display:grid;grid-template-columns:{template};'
        f'gap:8px;min-width:0">{head}{body}</div></div>'
    )


def grid_html(
    axes: dict[str, list[Any]],
    cells: Sequence[GalleryCell],
    layout: str | Sequence[str] | None = None,
) -> str:
    """Every cell in a grid per facet (a facet: one value of each axis not laid out)."""
    rows, cols, facets = grid_axes(list(axes), layout)
    index = {c.positions: c for c in cells}
    blocks = []
    for combo in itertools.product(*(range(len(axes[f])) for f in facets)):
        fixed = dict(zip(facets, combo, strict=True))
        title = " · ".join(_label(f, axes[f][i]) for f, i in fixed.items())
        head = (
            f'<div class="seedance-sweep-facet" style="font-weight:600;margin:8px 0 4px">'
            f"{esc(title)}</div>"
            if title
            else ""
        )
        blocks.append(head + _one_grid(axes, rows, cols, fixed, index))
    return "".join(blocks)


def results_table(axes: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """The results: one row per job, axis values first, then state, time, tokens, cost."""
    from .sweep_plan import shown

    head = "".join(f'<th style="{_LEFT}">{esc(a)}</th>' for a in axes)
    head += "".join(f'<th style="{style}">{name}</th>' for name, style in RESULT_COLUMNS)
    body = ""
    for r in rows:
        cells = "".join(f'<td style="{_LEFT}">{esc(shown(r[a]))}</td>' for a in axes)
        values = (
            esc(r["status"]) + (" (reused)" if r.get("reused") else ""),
            f"{r['wall_s']:.1f} s" if r["wall_s"] is not None else "",
            f"{r['tokens']:,}" if r["tokens"] else "",
            money(r["estimated_cost_usd"]),
            money(r["cost_usd"]),
            "" if r["seed"] is None else str(r["seed"]),
        )
        cells += "".join(
            f'<td style="{style}">{v}</td>'
            for v, (_n, style) in zip(values, RESULT_COLUMNS, strict=True)
        )
        body += f"<tr>{cells}</tr>"
    return (
        '<table class="seedance-sweep-table" style="border-collapse:collapse;margin:6px 0">'
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def plan_html(plan: SweepPlan) -> str:
    """The plan before anything is sent: the headline, and a row per axis value."""
    from .sweep_plan import cost_text, shown

    rows = ""
    for name, values in plan.by_axis().items():
        for value, t in values:
            rows += (
                f'<tr><td style="{_LEFT}">{esc(name)}={esc(shown(value))}</td>'
                f'<td style="{_RIGHT}">{t.jobs}</td><td style="{_RIGHT}">{t.new}</td>'
                f'<td style="{_RIGHT}">{t.tokens:,}</td>'
                f'<td style="{_RIGHT}">{esc(cost_text(t))}</td></tr>'
            )
    heads = ("axis value", "jobs", "new", "est. tokens", "est. cost")
    head = "".join(
        f'<th style="{_LEFT if i == 0 else _RIGHT}">{h}</th>' for i, h in enumerate(heads)
    )
    note = (
        f'<div style="color:{PALETTE["muted"]}">offline emulator: nothing is charged; costs are '
        "what it would cost</div>"
        if plan.emulated
        else ""
    )
    return (
        f'<div class="seedance-sweep-plan" style="{FONT};line-height:1.6">'
        f"<div><b>sweep plan</b> · {esc(plan.headline())}</div>"
        '<table style="border-collapse:collapse;margin:2px 0">'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{note}</div>"
    )


def gallery_html(grid: str, table: str, *, has_video: bool) -> str:
    """The gallery: the grid, the results table, and Play all once there is a video."""
    play = play_all_button() if has_video else ""
    return f'<div class="seedance-sweep" style="{FONT}">{play}{grid}{table}</div>'


def report_cell(status: str, summary: str, src: str | None, poster: str | None) -> str:
    """A finished cell for the saved report: its state, the video, a one-line summary."""
    media = ""
    if src is not None:
        poster_attr = f' poster="{esc(poster)}"' if poster else ""
        media = (
            f'<video src="{esc(src)}"{poster_attr} controls loop muted playsinline '
            f'preload="metadata" style="{VIDEO_STYLE}"></video>'
        )
    return (
        f'<div class="seedance-job">{status_span(status)}{media}'
        f'<div style="{MONO};font-size:12px">{esc(summary)}</div></div>'
    )


def report_page(title: str, prompt: str, plan: str, gallery: str) -> str:
    """A whole HTML page (for ``save_html``): no script or stylesheet from anywhere else."""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        '<meta name="viewport" content="width=device-width,initial-scale=1"></head>'
        f'<body style="{FONT};margin:16px;color:#212121;background:#fff">'
        f'<h1 style="font-size:20px">{esc(title)}</h1>'
        f'<pre style="{MONO};white-space:pre-wrap;background:#f5f5f5;padding:8px">'
        f"{esc(prompt)}</pre>{plan}{gallery}"
        f'<p style="color:{PALETTE["muted"]};font-size:12px">Made with seedance-nb. Costs are '
        "estimates at catalog list prices; your contract may differ.</p></body></html>\n"
    )
