"""A storyboard as HTML: one column per shot (its job's live view, or why it waits), then the
film once there is one. Plain strings, so ``Storyboard._repr_html_`` works anywhere; the
notebook's live view paints each shot with a TaskView and lays them out with this."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ..display import FONT, PALETTE, error_line, job_html, notice_line, short_prompt
from ..display.style import esc, status_span

if TYPE_CHECKING:
    from .storyboard import Shot, Storyboard

_WHY = {
    "waiting": "waits for the last frame of shot {before}",
    "submitting": "starting from shot {before}'s last frame",
    "blocked": "",
    "refused": "",
}


def shot_state_html(shot: Shot) -> str:
    """A shot that has no job yet: what it waits for, or why it was not sent."""
    if shot.status == "refused":
        return error_line(shot.problem or "refused", "refused")
    if shot.status == "blocked":
        return notice_line(shot.problem or "not sent", kind="warning")
    if shot.index == 1:
        why = "" if shot.status == "submitting" else "waits to start"
    else:
        why = _WHY[shot.status].format(before=shot.index - 1)
    return (
        f'<div class="seedance-job" style="{FONT}">{status_span(shot.status)} '
        f'<span style="color:{PALETTE["muted"]}">{esc(why)}</span></div>'
    )


def shot_html(shot: Shot, display: str = "relative") -> str:
    """The shot's own view: its job's (live, then its video), or its waiting state."""
    if shot.job is not None:
        return job_html(shot.job, display)
    return shot_state_html(shot)


def board_html(
    board: Storyboard,
    cell: Callable[[Shot], str] | None = None,
    display: str = "relative",
) -> str:
    """The board: a header and a view per shot (``cell`` paints one), then the film."""
    paint = cell or (lambda shot: shot_html(shot, display))
    columns = []
    for shot in board.shots:
        header = (
            f'<div><b>Shot {shot.index}</b> <span style="color:{PALETTE["muted"]}" '
            f'title="{esc(shot.prompt)}">{esc(short_prompt(shot.prompt, 48))}</span></div>'
        )
        columns.append(
            f'<div class="seedance-shot" data-shot="{shot.index}" data-state="{esc(shot.state)}" '
            f'style="min-width:0;text-align:left">{header}{paint(shot)}</div>'
        )
    film = board.film.html() if board.film is not None else ""
    return (
        f'<div class="seedance-storyboard" style="{FONT}">'
        '<div style="display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));'
        f'gap:8px">{"".join(columns)}</div>{film}</div>'
    )
