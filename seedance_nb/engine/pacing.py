"""How often status is read: the poll policy, and where its default comes from.

A provider's own guidance lives in the catalog (:class:`~seedance_nb.catalog.PollCadence`,
with the page that says it); this module turns it into the policy the scheduler follows, and
holds the backoff of a read that failed.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from ..catalog import Provider

# a job whose reads keep failing is read again after its usual interval, doubled per failure
BACKOFF_FACTOR = 2.0
# A listing read by two or more jobs comes at this fraction of their interval. Each job's share
# of the requests is then at most 1 / (0.75 × 2) = 2/3 of a lone job's, and a finished video
# is seen a quarter sooner: a per-task 1 s loop no longer matches a 1 s round by chance.
SHARED_ROUND = 0.75


class PollPolicy:
    """Poll often while a task is young (short renders finish fast), then back off as it
    ages: the interval is ``growth`` × age, bounded by ``min_interval`` and ``max_interval``.

    A job whose provider was told a ``callback_url`` is read only as a safety net, every
    ``callback_interval`` seconds (twice ``max_interval`` unless given): its callbacks say
    when to look sooner.
    """

    def __init__(
        self,
        min_interval: float,
        max_interval: float,
        growth: float = 0.1,
        *,
        callback_interval: float | None = None,
    ) -> None:
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.growth = growth
        self.callback_interval = (
            2 * max_interval if callback_interval is None else callback_interval
        )

    def interval(self, age: float) -> float:
        return max(self.min_interval, min(self.max_interval, age * self.growth))

    def backoff(self, age: float, failures: int) -> float:
        """Seconds before reading again a job whose last ``failures`` reads failed."""
        doubled = self.interval(age) * BACKOFF_FACTOR ** max(0, failures - 1)
        return min(self.max_interval, doubled)

    def scaled(self, factor: float) -> PollPolicy:
        """The same policy with every duration multiplied (benchmarks compress time)."""
        return PollPolicy(
            self.min_interval * factor,
            self.max_interval * factor,
            self.growth,
            callback_interval=self.callback_interval * factor,
        )

    def __repr__(self) -> str:
        return (
            f"PollPolicy({self.min_interval:g}, {self.max_interval:g}, growth={self.growth:g}, "
            f"callback_interval={self.callback_interval:g})"
        )


EMULATED = PollPolicy(0.25, 2.0)  # the built-in emulator renders in seconds


def default_policy(emulated: bool, provider: Provider | None = None) -> PollPolicy:
    """The emulator's quick policy, or the provider's cadence from the catalog."""
    if emulated:
        return PollPolicy(EMULATED.min_interval, EMULATED.max_interval, EMULATED.growth)
    if provider is None:
        from ..catalog import get_provider

        provider = get_provider("ark")
    c = provider.cadence
    return PollPolicy(c.min_s, c.max_s, c.growth)


def called_back(request: Any) -> bool:
    """The provider was told where to POST this job's status changes."""
    return bool(getattr(request, "callback_url", None))


def wanted(policy: PollPolicy, created_at: float, request: Any) -> float:
    """Seconds between two reads of a job when nothing goes wrong: the policy's interval for
    its age, or the safety net's where the provider calls back."""
    if called_back(request):
        return policy.callback_interval
    return policy.interval(time.time() - created_at)


def due_jobs(next_poll: dict[str, float], horizon: float, batch_size: int) -> list[str]:
    """The jobs due by ``horizon``; where one listing reads up to ``batch_size`` tasks for the
    price of one, the listings' spare room is filled with the jobs due soonest after those
    (they cost nothing more)."""
    due = [j for j, t in next_poll.items() if t <= horizon]
    spare = -len(due) % batch_size if batch_size else 0
    if spare:
        rest = sorted((t, j) for j, t in next_poll.items() if t > horizon)
        due += [j for _, j in rest[:spare]]
    return due


def shared_round(started: float, due: float, sharing: int) -> float:
    """When a round that read ``sharing`` jobs in its listings comes next: at their own due
    time when alone, sooner where they share it (see :data:`SHARED_ROUND`)."""
    if sharing < 2:
        return due
    return started + SHARED_ROUND * (due - started)


def align(
    next_poll: dict[str, float],
    jobs: dict[str, Any],
    due: float,
    policy: PollPolicy,
    failing: dict[str, int],
    job_ids: Iterable[str],
) -> None:
    """Where one listing reads every job, every job read at its pace is read next at ``due``,
    in one round: those just read, and those that joined while the round was out (they would
    start a round of their own a moment later, and keep it). Jobs a failure holds back, and
    those read only as a callback's safety net, keep their own time. ``job_ids``: the slice of
    ``next_poll`` to look at this turn."""
    for job_id in job_ids:
        at = next_poll.get(job_id)
        job = jobs.get(job_id)
        if at is None or job is None or job_id in failing or at >= due + 0.5 * policy.min_interval:
            continue
        if not called_back(job.request):
            next_poll[job_id] = due


__all__ = [
    "SHARED_ROUND",
    "PollPolicy",
    "align",
    "called_back",
    "default_policy",
    "due_jobs",
    "shared_round",
    "wanted",
]
