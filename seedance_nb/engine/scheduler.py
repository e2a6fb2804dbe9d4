"""The single poll loop: due times, batching, backoff, and applying states and callbacks.

Every tracked job has a due time; one task on the client's loop reads the due ones together
(one listing per ``batch_size`` tasks where the provider has one), backs every read off after a
failed round or a Retry-After, and writes what changed to the ledger. Downloads, creates in
doubt and jobs another process drives are handed to their part from here.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from typing import Any

from .. import errors
from ..providers.task import TERMINAL, TaskState
from .creator import Creator
from .downloader import Downloader
from .job import Job, Phase
from .leases import LEASE_RENEW_SECONDS, Leases
from .ledger import LEASE_SECONDS, stored
from .state import EngineState

log = logging.getLogger("seedance_nb")

MISSES_BEFORE_LOST = 3
_RANK = {"queued": 1, "running": 2}  # non-final statuses, in the order a task moves through


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
        self.backoff_until = 0.0  # loop time before which no status read is sent
        self.round_failed_at: float | None = None  # a failed round: one fault, not one per job
        self._checkpointing: asyncio.Task[Any] | None = None
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
            self.next_poll[job.id] = 0.0
            self.start()

    def watch(self, job: Job) -> None:
        """Another process drives this job; follow its ledger row until it settles."""
        if job.id not in self.next_poll:
            self.next_poll[job.id] = 0.0
            self.start()

    # the loop --------------------------------------------------------------------------------
    def start(self) -> None:
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
                self.leases.renew(list(self.next_poll))
                self._checkpoint_soon()
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
            # everything due now, plus whatever is nearly due; where one listing reads up to
            # batch_size tasks for the price of one, every job rides along in the round
            if self._batched():
                due = list(self.next_poll)
            else:
                due = [j for j, t in self.next_poll.items() if t <= now + policy.min_interval]
            try:
                await self.poll(due)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poll round failed; will try again")
                for j in due:
                    self.next_poll[j] = loop.time() + policy.max_interval

    def _batched(self) -> bool:
        return bool(self.state.provider.batch_poll and self.state.dialect.batch_size)

    def _checkpoint_soon(self) -> None:
        """Fold the ledger's WAL back in from a worker thread (its fsyncs never hold the loop)."""
        if self._checkpointing is None or self._checkpointing.done():
            self._checkpointing = self.state.spawn(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(self.state.ledger.checkpoint)
        except sqlite3.Error as exc:  # the next one catches up; commits never wait for it
            log.debug("ledger checkpoint skipped: %s", exc)

    # one round -------------------------------------------------------------------------------
    async def poll(self, job_ids: list[str]) -> None:
        """Read the status of ``job_ids`` (those this client drives) and apply it."""
        mine = self._mine(job_ids)
        if not mine:
            return
        # a lease still good for most of its term is left alone: fewer rows written per round
        soon = self.state.ledger.now() + LEASE_SECONDS - LEASE_RENEW_SECONDS
        self.leases.renew([j.id for j in mine if (j.row.get("lease_until") or 0) < soon])
        loop = asyncio.get_running_loop()
        started = loop.time()  # intervals count from here: a slow round does not stretch them
        states: dict[str, TaskState] = {}
        retry_after = await self._read(mine, states)
        self._count_round(retry_after)
        self._settle(mine, states, retry_after, started)

    def _mine(self, job_ids: list[str]) -> list[Job]:
        """The due jobs this client should read now; the others are handed on or dropped."""
        state, loop = self.state, asyncio.get_running_loop()
        mine: list[Job] = []
        rows = state.ledger.get_many(job_ids)
        for job_id in job_ids:
            job = state.jobs[job_id]
            row = rows.get(job_id)
            if row is None:
                self.next_poll.pop(job_id, None)
                continue
            if row != job.row:
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

    async def _read(self, mine: list[Job], states: dict[str, TaskState]) -> float | None:
        """Fill ``states`` from the provider; the seconds to back off if the round failed."""
        try:
            await fetch_states(self.state, mine, states, batched=self._batched())
        except errors.RateLimitError as exc:
            return exc.retry_after or self.state.poll.max_interval
        except errors.BadResponseError as exc:
            # the provider is up and answered, only not in its contract's shape (a partial
            # listing, say): no reason to back off further than the usual pace
            log.warning("status read answered badly (%s); reading again", exc)
            return self._interval(mine)
        except (errors.APIError, errors.APIConnectionError) as exc:
            log.warning("status read failed (%s); backing off", exc)
            return self.state.poll.max_interval
        return None

    def _count_round(self, retry_after: float | None) -> None:
        """Back every read off after a failed round; time the recovery once one succeeds."""
        if retry_after is not None:
            self.backoff_until = asyncio.get_running_loop().time() + retry_after
            if self.round_failed_at is None:
                self.round_failed_at = time.monotonic()
        elif self.round_failed_at is not None:
            seconds = time.monotonic() - self.round_failed_at
            self.state.recoveries.append(("*", "status", seconds))
            self.round_failed_at = None

    def _settle(
        self, mine: list[Job], states: dict[str, TaskState], retry: float | None, started: float
    ) -> None:
        """Apply the round's states and set each job's next due time."""
        now = asyncio.get_running_loop().time()
        with self.state.ledger.batch():
            for job in mine:
                if job.phase != Phase.TRACKING:
                    # settled (a cancel's own read) or downloading while the round was out:
                    # the round's older answer must not undo that
                    self.next_poll.pop(job.id, None)
                    continue
                state = states.get(str(job.task_id))
                if retry is not None:
                    self.next_poll[job.id] = now + retry
                    continue
                if state is None:
                    self._missing(job)
                    continue
                self.state.recovered(job)
                self.apply_state(job, state)
                if job.phase == Phase.TRACKING:
                    self.next_poll[job.id] = started + self._interval([job])
                else:
                    self.next_poll.pop(job.id, None)
        if retry is None and self._batched():
            # one listing reads them all: the next round comes as soon as the policy would
            # poll a lone job, divided among the jobs that share the round's requests
            tracking = [j for j in mine if j.id in self.next_poll]
            if tracking:
                due = started + self._interval(tracking)
                for job in tracking:
                    self.next_poll[job.id] = due

    def _interval(self, jobs: list[Job]) -> float:
        """Seconds to the next status read of ``jobs`` read together (one request per
        ``batch_size`` of them): the lone-job interval of the youngest, shared among them."""
        policy = self.state.poll
        youngest = policy.interval(time.time() - max(j.created_at for j in jobs))
        requests = -(-len(jobs) // (self.state.dialect.batch_size or 1))
        return max(policy.min_interval, youngest * requests / len(jobs))

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
        """A provider's callback as a hint: progress forward only, a final status re-read."""
        self.state.callbacks_received += 1
        for row in self.state.ledger.active(self.state.route):
            if row.get("task_id") != state.task_id:
                continue
            job = self.state.job_from_row(row)
            if job.phase != Phase.TRACKING:
                return job  # already downloading or settled: a repeat changes nothing
            if state.status in TERMINAL:
                self.next_poll[job.id] = 0.0  # read it now instead of at the next interval
                self.start()
            elif _RANK[state.status] > _RANK.get(job.status, 0):
                fields: dict[str, Any] = {"status": state.status}
                if state.progress is not None:
                    fields["progress"] = state.progress
                self.state.update(job, **fields)
            return job
        return None


async def fetch_states(
    engine: EngineState, mine: list[Job], states: dict[str, TaskState], *, batched: bool
) -> None:
    """One listing per ``batch_size`` tasks side by side, or one read per task."""
    http, dialect = engine.http, engine.dialect
    assert http is not None
    sem = asyncio.Semaphore(8)

    async def one(job: Job) -> None:
        async with sem:
            engine.status_requests += 1
            try:
                body = await http.call(dialect.get_call(str(job.task_id)))
            except errors.NotFoundError:
                return  # the provider says the task is gone: a miss
            state = dialect.parse_task(body)
            states[state.task_id] = state

    async def listing(chunk: list[str]) -> None:
        async with sem:
            engine.status_requests += 1
            body = await http.call(dialect.list_call(chunk))
        for state in dialect.parse_list(body):
            states[state.task_id] = state

    if not batched:
        await asyncio.gather(*(one(j) for j in mine))
        return
    size = dialect.batch_size
    ids = [str(j.task_id) for j in mine if j.task_id]
    chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
    # side by side, and every listing settles before the first failure is raised
    outcomes = await asyncio.gather(*map(listing, chunks), return_exceptions=True)
    failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
    if failure is not None:
        raise failure
    # a task left out of a listing is not proof that it is gone: ask for it alone
    await asyncio.gather(*(one(j) for j in mine if str(j.task_id) not in states))
