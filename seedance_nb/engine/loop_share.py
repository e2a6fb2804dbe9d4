"""Sharing the event loop with the notebook: big batches of work go a slice per turn.

A thousand jobs mean a thousand ledger rows to read, leases to renew and states to apply each
round; done at once, they would hold the kernel's loop for tens of milliseconds, and a
keystroke or a cell would wait behind them. Each slice here aims at about a millisecond: a
slice that took longer makes the next one smaller (a busy machine, or a burst of finished
videos whose writes cost more than a quiet round's), and quick ones let it grow back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

RENEW_SLICE = 50  # leases renewed per step at most (one short write transaction)
TURN_BUDGET = 0.001  # seconds of work per turn of the loop that a slice aims at


async def sliced(items: list[T], size: int, step: Callable[[list[T]], list[R] | None]) -> list[R]:
    """``step`` over ``items`` a slice at a time (at most ``size`` items), the event loop free
    between slices: a round of a thousand jobs (its ledger reads, lease renewals and writes)
    never holds it at once, however slow each item turns out to be."""
    out: list[R] = []
    i, n = 0, size
    while i < len(items):
        if i:
            await asyncio.sleep(0)
        started = time.perf_counter()
        out += step(items[i : i + n]) or []
        i += n
        n = next_size(n, size, time.perf_counter() - started)
    return out


def next_size(n: int, size: int, took: float) -> int:
    """The next slice's length after ``n`` items took ``took`` seconds: in proportion when it
    overran the budget, doubled (up to ``size``) when it used under a quarter of it."""
    if took > TURN_BUDGET:
        return max(1, int(n * TURN_BUDGET / took))
    if took < TURN_BUDGET / 4:
        return min(size, 2 * n)
    return n


__all__ = ["RENEW_SLICE", "TURN_BUDGET", "next_size", "sliced"]
