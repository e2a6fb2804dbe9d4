"""The single poll loop: due times, batching, backoff, and applying states and callbacks.

Every tracked job has a due time; one task on the client's loop reads the due ones together
(one listing per ``batch_size`` tasks where the provider has one) and writes what changed to
the ledger. A new job's first state is its create's answer: it joins the next scheduled round
instead of starting one, so a burst of submits costs no extra reads. Where one listing reads
many tasks, every job rides in the same rounds, paced by the youngest job's interval (a
little sooner where two or more share a round: each one's share of the requests is smaller).
A failed read holds back only the jobs it concerns; a Retry-After holds back every read. A final
callback is confirmed at once by a read of its own, gathered with the others arriving
together. Downloads, creates in doubt and jobs another process drives are handed to their
part from here.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Any

from .. import errors
from ..providers.task import TERMINAL, TaskState
from .callback_hints import CallbackHints
from .creator import Creator
from .downloader import Downloader
from .job import Job, Phase
from .leases import LEASE_RENEW_SECONDS, Leases
from .ledger import LEASE_SECONDS, stored
from .loop_share import RENEW_SLICE, sliced
from .pacing import align, called_back, due_jobs, shared_round, wanted
from .state import EngineState
from .status_reads import ListingFaults, fetch_states

log = logging.getLogger("seedance_nb")

MISSES_BEFORE_LOST = 3
NEARLY_DUE = 0.05  # of the interval: single reads that close together share a wake-up
READ_SLICE = 50  # ledger rows read per step of a round (~1 ms)
SETTLE_SLICE = 25  # jobs applied per step (each a write and a read-back), the loop free between
ALIGN_SLICE = 250  # due times brought into step per step of a round


class Scheduler:
    """Decides when each job is read next, reads the due ones, and applies what they say."""

    def __init__(
        self, state: EngineState, leases: Leases, creator: Creator, downloader: Downloader
    ) -> None:
        self.state = state
        self.leases = leases
        self.creator = creator
        self.downloader = downloader
        self.next_poll: dict[str, float] = {}
        self.misses: dict[str, int] = {}  # job id → status reads that did not know the task
        self.failures: dict[str, int] = {}  # job id → its status reads that failed in a row
        self.hints = CallbackHints(self)
        self.backoff_until = 0.0  # loop time before which no status read is sent
        self.listing_faults = ListingFaults(state)
        self._checkpoints = Checkpoints(state)
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None

    # what to drive ---------------------------------------------------------------------------
    def resume_all(self) -> None:
        """Pick up every unfinished job of this route left by an earlier process."""
        for row in self.state.ledger.active(self.state.route):
            job = self.state.job_from_row(row)
            self.state.fault_seen(job, "resume")  # its process went away: driven again here
            if row["phase"] == Phase.CREATING and not self.leases.take(job.id):
                self.watch(job)
                continue
            self.track(job)
            if job.id in self.next_poll:
                self.next_poll[job.id] = 0.0  # unread since its process died: read it now

    def track(self, job: Job) -> None:
        """Drive ``job`` from its phase on (from any thread; nothing for a settled job)."""
        state = self.state
        if state.closed or job.done or state.loop is None:
            return
        try:
            if asyncio.get_running_loop() is not state.loop:
                state.loop.call_soon_threadsafe(self.track, job)
                return
        except RuntimeError:
            return
        state.jobs[job.id] = job
        if job.phase == Phase.DOWNLOADING and job.id not in state.downloading:
            if self.leases.take(job.id):
                state.spawn(self.downloader.run(job, None))
            else:
                self.watch(job)
        elif job.phase == Phase.CREATING:
            if job.id in state.creating:
                return  # this client is sending or reconciling it right now
            if self.leases.take(job.id):
                state.spawn(self.creator.reconcile_quietly(job))
            else:
                self.watch(job)
        elif job.phase == Phase.TRACKING and job.id not in self.next_poll:
            self._join(job)

    def watch(self, job: Job) -> None:
        """Another process drives this job; follow its ledger row until it settles."""
        if job.id not in self.next_poll:
            self._join(job)

    def _join(self, job: Job) -> None:
        """Schedule a job's first read. Its state so far is the create's answer, so it is
        read no sooner than its interval; where one listing reads many tasks it joins the
        round already scheduled (if that comes sooner): a submit never starts a round."""
        now = asyncio.get_running_loop().time()
        first = now + self._wanted(job)
        if self.batched and self.next_poll:
            first = min(first, max(now, min(self.next_poll.values())))
        self.next_poll[job.id] = first
        self.start()

    # the loop --------------------------------------------------------------------------------
    def start(self) -> None:
        """Make sure the loop runs and looks at the due times again (a wake-up reads nothing)."""
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())

    def stop(self) -> asyncio.Task[None] | None:
        """Cancel the loop; returns its task for the caller to await."""
        if self._task is not None:
            self._task.cancel()
        return self._task

    async def _run(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        policy = self.state.poll
        renewed = loop.time()
        while self.next_poll and not self.state.closed:
            now = loop.time()
            if now - renewed > LEASE_RENEW_SECONDS:
                renewed = now
                await sliced(list(self.next_poll), RENEW_SLICE, self.leases.renew)
                self._checkpoints.soon()
                continue  # the heartbeat let other tasks run: look at the due times again
            # a Retry-After holds every read back, not only the jobs of the round that got it
            soonest = max(min(self.next_poll.values()), self.backoff_until)
            if soonest > now:
                self._wake.clear()
                try:
                    await asyncio.wait_for(
                        self._wake.wait(), min(soonest - now, LEASE_RENEW_SECONDS)
                    )
                except asyncio.TimeoutError:
                    pass
                continue
            due = self._due(now)
            try:
                await self.poll(due)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poll round failed; will try again")
                for j in due:
                    if j in self.next_poll:
                        self.next_poll[j] = loop.time() + policy.max_interval

    def _due(self, now: float) -> list[str]:
        if self.batched:  # what is due before the next round rides in this one (it is free)
            horizon = now + self.state.poll.min_interval
            return due_jobs(self.next_poll, horizon, self.state.dialect.batch_size)
        # one request per task: read none early, only what falls due in the same moment
        return due_jobs(self.next_poll, now + NEARLY_DUE * self.state.poll.min_interval, 0)

    @property
    def batched(self) -> bool:
        """One listing reads up to ``batch_size`` tasks (Ark): every job rides every round."""
        return bool(self.state.provider.batch_poll and self.state.dialect.batch_size)

    def _wanted(self, job: Job) -> float:
        return wanted(self.state.poll, job.created_at, job.request)

    # one round -------------------------------------------------------------------------------
    async def poll(self, job_ids: list[str]) -> None:
        """Read the status of ``job_ids`` (those this client drives) and apply it."""
        mine = await sliced(job_ids, READ_SLICE, self._mine)
        if not mine:
            return
        # a lease still good for most of its term is left alone: fewer rows written per round
        soon = self.state.ledger.now() + LEASE_SECONDS - LEASE_RENEW_SECONDS
        stale = [j.id for j in mine if (j.row.get("lease_until") or 0) < soon]
        await sliced(stale, RENEW_SLICE, self.leases.renew)
        loop = asyncio.get_running_loop()
        started = loop.time()  # intervals count from here: a slow round does not stretch them
        states: dict[str, TaskState] = {}
        failed = await fetch_states(self.state, mine, states, batched=self.batched)
        self._count_round(failed)
        paced = await sliced(
            mine, SETTLE_SLICE, lambda some: self._settle(some, states, failed, started)
        )
        if self.batched and paced:
            # one listing reads them all: keep the jobs in step, at the youngest one's pace
            due = shared_round(started, min(paced), len(paced))
            await sliced(
                list(self.next_poll),
                ALIGN_SLICE,
                lambda ids: align(
                    self.next_poll, self.state.jobs, due, self.state.poll, self.failures, ids
                ),
            )

    def _mine(self, job_ids: list[str]) -> list[Job]:
        """The due jobs this client should read now; the others are handed on or dropped."""
        state, loop = self.state, asyncio.get_running_loop()
        mine: list[Job] = []
        for job_id, row in self._rows_now(job_ids).items():
            job = state.jobs[job_id]
            if row is None:
                self.next_poll.pop(job_id, None)
                continue
            if row is not job.row and row != job.row:
                job.refresh(row)
            if job.done or job.id in state.downloading or job.id in state.creating:
                self.next_poll.pop(job_id, None)
                continue
            if row.get("owner") != state.owner and not self.leases.take(job.id):
                self.next_poll[job_id] = loop.time() + 1.0  # someone else drives it
                continue
            if job.phase in (Phase.CREATING, Phase.DOWNLOADING):
                self.next_poll.pop(job_id, None)
                self.track(job)
                continue
            mine.append(job)
        return mine

    def _rows_now(self, job_ids: list[str]) -> dict[str, dict[str, Any] | None]:
        """Each job's ledger row as it is now (None: gone); the one in memory where nobody
        wrote it since, with only its lease columns brought up to date if they moved."""
        state = self.state
        versions = state.ledger.versions(job_ids)
        moved = [i for i, v in versions.items() if v[0] != state.jobs[i].row.get("updated_at")]
        rows = state.ledger.get_many(moved) if moved else {}
        out: dict[str, dict[str, Any] | None] = {}
        for job_id in job_ids:
            version, known = versions.get(job_id), state.jobs[job_id].row
            row = rows.get(job_id)
            if version is None or row is not None:
                out[job_id] = row
            elif (known.get("owner"), known.get("lease_until")) != version[1:]:
                out[job_id] = {**known, "owner": version[1], "lease_until": version[2]}
            else:
                out[job_id] = known
        return out

    def _count_round(self, failed: dict[str, errors.SeedanceError]) -> None:
        """A Retry-After holds every read back (the limit is the key's, not one task's)."""
        waits = [
            e.retry_after or 0.0 for e in failed.values() if isinstance(e, errors.RateLimitError)
        ]
        if waits:
            until = asyncio.get_running_loop().time() + (max(waits) or self.state.poll.max_interval)
            self.backoff_until = max(self.backoff_until, until)
        if self.batched:  # one read per task: each job times its own recovery (see _failed)
            self.listing_faults.failed(failed)

    def _settle(
        self,
        mine: list[Job],
        states: dict[str, TaskState],
        failed: dict[str, errors.SeedanceError],
        started: float,
    ) -> list[float]:
        """Apply the round's states and set each job's next due time; returns those due times
        of the jobs read at their own pace (not a callback's safety net)."""
        now = asyncio.get_running_loop().time()
        paced: list[float] = []
        with self.state.ledger.batch():
            for job in mine:
                if job.phase != Phase.TRACKING:
                    # settled (a cancel's own read) or downloading while the round was out:
                    # the round's older answer must not undo that
                    self.next_poll.pop(job.id, None)
                    continue
                error = failed.get(job.id)
                if error is not None:
                    self._failed(job, error, now)
                    continue
                self.listing_faults.read(job.id)
                state = states.get(str(job.task_id))
                if state is None:
                    self._missing(job)
                    continue
                self.failures.pop(job.id, None)
                self.state.recovered(job)
                self.apply_state(job, state)
                if job.phase == Phase.TRACKING:
                    at = self.next_poll[job.id] = started + self._wanted(job)
                    if not called_back(job.request):
                        paced.append(at)
                else:
                    self.next_poll.pop(job.id, None)
        return paced

    def _failed(self, job: Job, error: errors.SeedanceError, now: float) -> None:
        """Hold back only this job: until a Retry-After has passed, at the usual pace after an
        answer in the wrong shape, or doubling its interval while the provider fails it."""
        if not self.batched:
            self.state.fault_seen(job, "status")
        if isinstance(error, errors.RateLimitError):
            self.next_poll[job.id] = max(self.backoff_until, now + self.state.poll.min_interval)
            return
        if isinstance(error, errors.BadResponseError):
            # the provider is up and answered, only not in its contract's shape (a partial
            # listing, say): no reason to back off further than the usual pace
            log.warning("status read answered badly (%s); reading again", error)
            self.next_poll[job.id] = now + self._wanted(job)
            return
        log.warning("status read failed (%s); backing off", error)
        failures = self.failures[job.id] = self.failures.get(job.id, 0) + 1
        age = time.time() - job.created_at
        self.next_poll[job.id] = now + self.state.poll.backoff(age, failures)

    def _missing(self, job: Job) -> None:
        misses = self.misses[job.id] = self.misses.get(job.id, 0) + 1
        if misses >= MISSES_BEFORE_LOST:
            self.next_poll.pop(job.id, None)
            message = f"{self.state.provider.name} no longer knows task {job.task_id}"
            self.state.update(
                job,
                phase=Phase.DONE,
                status="failed",
                finished_at=time.time(),
                error_json={"code": "TaskNotFound", "message": message},
            )
        else:
            loop = asyncio.get_running_loop()
            self.next_poll[job.id] = loop.time() + self.state.poll.max_interval

    # applying what the provider says ---------------------------------------------------------
    def apply_state(self, job: Job, state: TaskState) -> None:
        """Write a read status to the job; a success starts its download."""
        fields: dict[str, Any] = {"raw_json": state.raw, "progress": state.progress}
        if state.usage is not None:
            fields["usage_json"] = state.usage.as_dict()
        if state.seed is not None:
            fields["seed"] = state.seed
        if state.error is not None:
            fields["error_json"] = {"code": state.error.code, "message": state.error.message}
        if state.status == "succeeded":
            fields.update(phase=Phase.DOWNLOADING, status="running")
            self.state.update(job, **fields)
            self.state.spawn(self.downloader.run(job, state))
            return
        if state.status in TERMINAL:
            fields.update(phase=Phase.DONE, status=state.status, finished_at=time.time())
        else:
            fields["status"] = state.status
            if all(job.row.get(k) == stored(k, v) for k, v in fields.items()):
                return  # nothing new: no write, so a round of unchanged jobs stays cheap
        self.state.update(job, **fields)

    def apply_callback(self, state: TaskState) -> Job | None:
        """A provider's callback as a hint (see :mod:`.callback_hints`)."""
        return self.hints.apply(state)


class Checkpoints:
    """Folds the ledger's WAL back in from a worker thread (its fsyncs never hold the loop)."""

    def __init__(self, state: EngineState) -> None:
        self.state = state
        self._task: asyncio.Task[Any] | None = None

    def soon(self) -> None:
        if self._task is None or self._task.done():
            self._task = self.state.spawn(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(self.state.ledger.checkpoint)
        except sqlite3.Error as exc:  # the next one catches up; commits never wait for it
            log.debug("ledger checkpoint skipped: %s", exc)
