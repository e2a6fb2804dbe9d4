"""Showing messages in a cell: one style for errors and notices across the magic, the form,
compare and history (no tracebacks, no pink stderr blocks)."""

from __future__ import annotations

import html

from IPython.display import display

from . import html as h


def show_error(message: str, kind: str = "InvalidRequest") -> None:
    """A one-line styled error in the cell output; nothing is raised."""
    display(
        {"text/plain": f"✗ {kind}: {message}", "text/html": h.error_line(message, kind)}, raw=True
    )


def show_notice(text: str) -> None:
    """A muted one-line notice (information, not an error)."""
    display(
        {
            "text/plain": f"seedance-nb: {text}",
            "text/html": f'<div class="seedance-notice" style="opacity:0.7;font-size:90%">'
            f"ⓘ {html.escape(text)}</div>",
        },
        raw=True,
    )
