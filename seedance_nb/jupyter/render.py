"""Showing messages in a cell: one style for errors and notices across the magic, the form,
compare and history (no tracebacks, no pink stderr blocks, no bare ``KeyError``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from IPython.display import display

from .. import display as h
from ..errors import InvalidRequest, SeedanceError

T = TypeVar("T")


def error_bundle(
    message: str, kind: str = "InvalidRequest", *, hint: str | None = None
) -> dict[str, str]:
    """The mime bundle of an error: ``✗ kind: message`` (and the way out on a second line)."""
    text = f"✗ {kind}: {message}" + (f"\n{hint}" if hint else "")
    return {"text/plain": text, "text/html": h.error_line(message, kind, hint=hint)}


def show_error(message: str, kind: str = "InvalidRequest", *, hint: str | None = None) -> None:
    """A one-line styled error in the cell output; nothing is raised."""
    display(error_bundle(message, kind, hint=hint), raw=True)


def show_exception(exc: BaseException, *, hint: str | None = None) -> None:
    """An exception in the one error style: its class name as the kind, its text as the message
    (a ``KeyError``'s quoted repr is unwrapped)."""
    if isinstance(exc, KeyError) and exc.args:
        message = str(exc.args[0])
    else:
        message = str(exc) or type(exc).__name__
    show_error(message, type(exc).__name__, hint=hint)


def show_notice(text: str, *, kind: str = "info") -> None:
    """A one-line notice: ``info`` muted, ``warning`` marked (information, not an error)."""
    prefix = "⚠ " if kind == "warning" else ""
    bundle: dict[str, Any] = {
        "text/plain": f"seedance-nb: {prefix}{text}",
        "text/html": h.notice_line(text, kind=kind),
    }
    display(bundle, raw=True)


def or_refused(
    make: Callable[[], T], *, refusal: Callable[[InvalidRequest], None] | None = None
) -> T | None:
    """``make()`` (a plan, a board: built before anything is sent); where it is refused, one
    styled line in the cell (``refusal`` for an invalid request) and None."""
    try:
        return make()
    except InvalidRequest as exc:
        (refusal or (lambda e: show_error(str(e))))(exc)
    except (SeedanceError, KeyError, ValueError, TypeError) as exc:
        show_exception(exc)
    return None
