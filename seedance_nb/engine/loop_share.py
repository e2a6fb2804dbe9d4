"""Sharing the event loop with the notebook: big batches of work go a slice per turn.

A thousand jobs mean a thousand ledger rows to read, leases to renew and states to apply each
round; done at once, they would hold the kernel's loop for tens of milliseconds, and a
keystroke or a cell would wait behind them. Each slice here is about a millisecond.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

RENEW_SLICE = 50  # leases renewed per step (one short write transaction)


async def sliced(items: list[T], size: int, step: Callable[[list[T]], list[R] | None]) -> list[R]:
    """``step`` over ``items`` a slice at a time, the event loop free between slices: a round
    of a thousand jobs (its ledger reads, lease renewals and writes) never holds it at once."""
    out: list[R] = []
    for i in range(0, len(items), size):
        if i:
            await asyncio.sleep(0)
        out += step(items[i : i + size]) or []
    return out


__all__ = ["RENEW_SLICE", "sliced"]
