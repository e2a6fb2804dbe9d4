"""A workdir's spend as text and as an HTML table with inline bars (plain CSS, no plotting
library): real providers first, then the emulator's "would have cost", then the budget."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .files import shown_path
from .style import FONT, MONO, NO_MATH, PALETTE, esc
from .words import money

if TYPE_CHECKING:
    from ..engine.budget import Spend, SpendRow

HEAD = ("provider", "model", "day", "jobs", "cost")
NOTE = "at catalog prices (sd.catalog.price_of); est.: the provider's usage is not known yet"


def _where(spend: Spend) -> str:
    """The workdir as a saved notebook may show it: relative to the cwd, no machine path (a
    team's ledger URL as it is, its password already masked)."""
    if "://" in spend.workdir:
        return spend.workdir
    return shown_path(Path(spend.workdir)) or spend.workdir


def cost_text(row: SpendRow) -> str:
    """``$0.84``, ``$0.84 (est. $0.28)`` when part of it is still an estimate."""
    text = money(row.usd) or "$0.00"
    if row.estimated_usd > 0:
        text += " (est. " + (money(row.estimated_usd) if row.estimated_usd < row.usd else "all")
        text += ")"
    if row.unpriced:
        text += f" + {row.unpriced} unpriced"
    return text


def _sections(spend: Spend) -> list[tuple[str, str, list[SpendRow], float]]:
    """(title, total label, rows, total) for the real providers and the emulator."""
    real = [r for r in spend.rows if not r.emulated]
    emulated = [r for r in spend.rows if r.emulated]
    out = []
    if real or not emulated:
        out.append(("providers", "total", real, spend.total_usd))
    if emulated:
        out.append(
            ("emulator: would have cost", "would have cost", emulated, spend.would_have_cost_usd)
        )
    return out


def budget_text(spend: Spend) -> str:
    """One line: the budget, what it counts, what is spent and what is left."""
    if spend.budget_usd is None:
        return "no budget (budget_usd=…, %config Seedance.budget_usd = …, SEEDANCE_BUDGET_USD)"
    pool = "the emulator's would-have-cost" if spend.emulated else "real spend"
    left = spend.left_usd or 0.0
    state = f"{money(left) or '$0.00'} left" if left >= 0 else f"{money(-left)} over"
    return f"budget {money(spend.budget_usd)} ({pool}): spent {money(spend.spent_usd) or '$0.00'}, {state}"


def spend_text(spend: Spend) -> str:
    """The spend as a fixed-width table per pool, then the budget line."""
    lines = [f"spend in {_where(spend)} · {NOTE}"]
    for title, total_label, rows, total in _sections(spend):
        table = [list(HEAD)] + [
            [r.provider, r.model, r.day, str(r.jobs), cost_text(r)] for r in rows
        ]
        widths = [max(len(row[i]) for row in table) for i in range(len(HEAD))]
        lines.append(f"{title}:")
        lines += [
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in table
        ]
        lines.append(f"  {total_label} {money(total) or '$0.00'}")
    lines.append(budget_text(spend))
    return "\n".join(lines)


def _bar(fraction: float, colour: str, width: str = "8em") -> str:
    pct = max(0.0, min(1.0, fraction)) * 100
    return (
        f'<div style="display:inline-block;width:{width};height:0.8em;vertical-align:middle;'
        f'background:{PALETTE["surface"]}"><div class="seedance-bar" style="height:100%;'
        f'width:{pct:.1f}%;background:{colour}"></div></div>'
    )


def _table(rows: list[SpendRow], colour: str) -> str:
    cell = "text-align:left;padding:2px 8px;white-space:nowrap"
    top = max((r.usd for r in rows), default=0.0) or 1.0
    head = "".join(
        f"<th style='{cell};color:{PALETTE['muted']}'>{esc(h)}</th>" for h in (*HEAD, "")
    )
    body = "".join(
        "<tr>"
        + "".join(
            f"<td style='{cell}'>{esc(c)}</td>"
            for c in (r.provider, r.model, r.day, r.jobs, cost_text(r))
        )
        + f"<td style='{cell}'>{_bar(r.usd / top, colour)}</td></tr>"
        for r in rows
    )
    return (
        f"<table style='border-collapse:collapse;{MONO}'><thead><tr>{head}</tr></thead>"
        f"<tbody>{body}</tbody></table>"
    )


def spend_html(spend: Spend) -> str:
    """The spend as HTML: a table with a bar per row for each pool, then the budget bar."""
    parts = [
        f"<div style='color:{PALETTE['muted']}'>spend in {esc(_where(spend))} · {esc(NOTE)}</div>"
    ]
    for title, total_label, rows, total in _sections(spend):
        colour = PALETTE["running"] if title == "providers" else PALETTE["muted"]
        parts.append(f"<div style='margin-top:6px'><b>{esc(title)}</b></div>")
        parts.append(_table(rows, colour) if rows else "<div>no jobs</div>")
        parts.append(f"<div>{esc(total_label)} <b>{esc(money(total) or '$0.00')}</b></div>")
    line = esc(budget_text(spend))
    if spend.budget_usd:
        over = spend.spent_usd > spend.budget_usd
        colour = PALETTE["error"] if over else PALETTE["success"]
        line = _bar(spend.spent_usd / spend.budget_usd, colour, "12em") + " " + line
    parts.append(f"<div class='seedance-budget' style='margin-top:6px'>{line}</div>")
    return (
        f"<div class='seedance-spend {NO_MATH}' style='{FONT};line-height:1.6'>"
        f"{''.join(parts)}</div>"
    )
