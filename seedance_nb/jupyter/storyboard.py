"""The storyboard in a notebook: one live view of the whole board, each shot's state, then
the film.

>>> board = sd.storyboard(["A fox wakes at dawn", "The fox trots into the forest"],
...                       model="seedance-2.0-fast", duration=4, resolution="480p")
>>> jobs = await board              # every shot done (or the first failure raised)
>>> board.concat("fox.mp4")         # one MP4; the film appears under the shots

Each shot is painted by a :class:`~seedance_nb.jupyter.view.TaskView` (the magic's live view,
without its buttons) into one display that is updated in place from the client's loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import display as h
from ..workflows import Film, Storyboard
from ..workflows.board_html import board_html, shot_state_html
from .live import LiveDisplay
from .runner import client_loop, get_client
from .view import TaskView

if TYPE_CHECKING:
    from ..engine.client import AsyncClient
    from ..workflows.storyboard import Shot, ShotSpec


class _ShotView(TaskView):
    """A task view that paints into the board instead of an output of its own."""

    def __init__(self, owner: BoardView, label: str, display: str) -> None:
        super().__init__(label, display, cancel_button=False)
        self.owner = owner

    def _paint(self, force: bool = False) -> None:
        if self.job is not None:
            self._compose()
        self.owner._paint(force)


class BoardView(LiveDisplay, Storyboard):
    """A storyboard that shows itself live in the notebook; ``concat`` adds the film to it."""

    def __init__(
        self,
        client: AsyncClient,
        shots: Sequence[ShotSpec],
        *,
        display: str = "relative",
        force: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(client, shots, force=force, **params)
        self.display_mode = display
        self.views = [_ShotView(self, f"shot {s.index}", display) for s in self.shots]
        self.on_change(lambda _board: self._follow())

    def _follow(self) -> None:
        """Attach a shot's view to its job as soon as it exists; repaint."""
        for shot, view in zip(self.shots, self.views, strict=True):
            if shot.job is not None and view.job is None:
                view.attach(shot.job)  # paints through _paint
        final = self.done or self.film is not None
        self._paint(force=final or any(s.job is None for s in self.shots))

    def _cell(self, shot: Shot) -> str:
        view = self.views[shot.index - 1]
        return view.html if shot.job is not None else shot_state_html(shot)

    def html(self) -> str:
        return board_html(self, self._cell, self.display_mode)

    def _bundle(self) -> tuple[dict[str, str], dict[str, Any]]:
        shots = [
            h.metadata(s.job)["seedance"] if s.job else {"shot": s.index, "state": s.state}
            for s in self.shots
        ]
        return {"text/html": self.html(), "text/plain": self.text()}, {
            "seedance": {"storyboard": shots}
        }

    def show(self) -> BoardView:
        """Display the board, then submit its shots in order on the client's loop."""
        self._show_live()
        return self.start(client_loop(self.client))  # type: ignore[return-value]

    async def wait_async(self, timeout: float | None = None) -> list[Any]:
        try:
            return await super().wait_async(timeout)
        finally:
            self._paint(force=True)  # the waiting cell shows the final state (nbclient, nbval)

    def concat(self, path: str | Path | None = None) -> Film:
        """One MP4 of every shot; the film plays under the shots in the board's view."""
        film = super().concat(path)
        self._paint(force=True)
        return film

    def _repr_html_(self) -> str:
        return self.html()


def storyboard(
    shots: Sequence[ShotSpec],
    *,
    provider: str | None = None,
    workdir: str | None = None,
    display: str = "relative",
    force: bool = False,
    **params: Any,
) -> BoardView | None:
    """Shots chained by their last frame, shown live; ``await`` it for the jobs, then
    ``board.concat(path)`` for the film. The whole board is checked first: a refusal is one
    line in the cell, nothing is sent, and None is returned."""
    from .render import or_refused

    board = or_refused(
        lambda: BoardView(
            get_client(provider, workdir), shots, display=display, force=force, **params
        )
    )
    if board is None:
        return None
    return board.show()
