"""Running coroutines across the sync/async boundary."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any


def run_now(coro: Coroutine[Any, Any, Any], refusal: str) -> Any:
    """Drive a coroutine that never actually suspends (a pure builder) to completion; if it
    does suspend (it needs the network), close it and raise ``RuntimeError(refusal)``."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError(refusal)
