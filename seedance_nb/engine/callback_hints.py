"""Provider callbacks as hints to the scheduler: progress forward only, a final status re-read.

Callbacks arrive late, twice, out of order, forged, or not at all, so a final status in one is
never taken as it is: the job is read at once instead of at its next interval, and the final
callbacks arriving within :data:`CONFIRM_GATHER` (0.08 s) of each other share that read (one listing
confirms up to ``batch_size`` of them). Polling goes on meanwhile as the safety net.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from ..providers.task import TERMINAL, TaskState
from .job import Job, Phase
from .ledger_core import ACTIVE_PHASES

if TYPE_CHECKING:
    from .scheduler import Scheduler

log = logging.getLogger("seedance_nb")

CONFIRM_GATHER = 0.08  # seconds a final callback waits for others to share its confirming read
_RANK = {"queued": 1, "running": 2}  # non-final statuses, in the order a task moves through


class CallbackHints:
    """Applies callbacks to a scheduler's jobs and confirms the final ones by reading them."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.scheduler = scheduler
        self.state = scheduler.state
        self.confirming: set[str] = set()  # jobs a final callback named: read them at once
        self._task: asyncio.Task[None] | None = None

    def apply(self, state: TaskState) -> Job | None:
        """Apply one callback; the job it names, or None if it is not one of ours."""
        self.state.callbacks_received += 1
        for row in self._rows_naming(state.task_id):
            if row.get("task_id") != state.task_id:
                continue
            job = self.state.job_from_row(row)
            if job.phase != Phase.TRACKING:
                return job  # already downloading or settled: a repeat changes nothing
            if state.status in TERMINAL:
                self.confirm_soon(job)  # read it now instead of at the next interval
            elif _RANK[state.status] > _RANK.get(job.status, 0):
                fields: dict[str, Any] = {"status": state.status}
                if state.progress is not None:
                    fields["progress"] = state.progress
                self.state.update(job, **fields)
            return job
        return None

    def _rows_naming(self, task_id: str) -> list[dict[str, Any]]:
        """The ledger row of the job whose task a callback names: a job this client tracks is
        found in memory and read fresh by id (a thousand callbacks never scan a thousand rows
        each); any other unfinished job of the route by a scan."""
        for job in list(self.state.jobs.values()):
            if job.task_id == task_id:
                row = self.state.ledger.get(job.id)
                if row is None or row.get("route") != self.state.route:
                    break
                return [row] if row.get("phase") in ACTIVE_PHASES else []
        return self.state.ledger.active(self.state.route)

    def confirm_soon(self, job: Job) -> None:
        """Read ``job`` shortly, with the other final callbacks of the next moments."""
        self.confirming.add(job.id)
        if self._task is None or self._task.done():
            self._task = self.state.spawn(self._confirm())

    async def _confirm(self) -> None:
        scheduler, loop = self.scheduler, asyncio.get_running_loop()
        while self.confirming:
            if scheduler.batched and len(scheduler.next_poll) > 1:
                await asyncio.sleep(CONFIRM_GATHER)  # alone, a job has nobody to wait for
            if scheduler.backoff_until > loop.time():
                await asyncio.sleep(scheduler.backoff_until - loop.time())
            ids = [j for j in self.confirming if j in self.state.jobs]
            self.confirming.clear()
            try:
                await scheduler.poll(ids + self._riders(ids))
            except Exception:  # the loop reads them at their due time instead
                log.exception("confirming callbacks failed; the poll loop will read them")
                for job_id in ids:
                    scheduler.next_poll.setdefault(job_id, loop.time())
        if scheduler.next_poll:
            scheduler.start()  # a job this client was not reading yet is read from now on

    def _riders(self, ids: list[str]) -> list[str]:
        """Where one listing reads up to ``batch_size`` tasks, the other tracked jobs fill its
        spare room for free: a task that finished but whose callback is still on its way is
        seen now, and its callback then costs no read."""
        size = self.state.dialect.batch_size if self.scheduler.batched else 0
        spare = -len(ids) % size if size else 0
        taken = set(ids)
        return [j for j in self.scheduler.next_poll if j not in taken][:spare]


__all__ = ["CONFIRM_GATHER", "CallbackHints"]
