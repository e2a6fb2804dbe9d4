"""One round's status reads: listings of up to ``batch_size`` tasks, or one read per task.

Each read's failure is kept with the jobs it concerns, so the scheduler can hold back only
those (a failed listing: its chunk; a failed single read: its job) and read the rest on time.

A round of a thousand jobs is ten listings, each a hundred-task URL to build and a hundred
tasks to parse (about a millisecond apiece). They are sent concurrently but take turns on the
event loop: one listing is started per turn and one answer parsed at a time, a slice of it
per turn, so their work never piles into one turn that a keystroke or a cell would wait behind.
"""

from __future__ import annotations

import asyncio
import time

from .. import errors
from ..providers.task import TaskState
from .job import Job
from .loop_share import sliced
from .state import EngineState

CONCURRENT_READS = 8
PARSE_SLICE = 25  # tasks of a listing parsed per turn of the loop (~0.1 ms)


async def fetch_states(
    engine: EngineState, mine: list[Job], states: dict[str, TaskState], *, batched: bool
) -> dict[str, errors.SeedanceError]:
    """Fill ``states`` (task id → state); return job id → the error its read ended with."""
    http, dialect = engine.http, engine.dialect
    assert http is not None
    sem = asyncio.Semaphore(CONCURRENT_READS)
    failed: dict[str, errors.SeedanceError] = {}

    async def one(job: Job) -> None:
        async with sem:
            engine.status_requests += 1
            try:
                state = dialect.parse_task(await http.call(dialect.get_call(str(job.task_id))))
            except errors.NotFoundError:
                return  # the provider says the task is gone: a miss
            except errors.SeedanceError as exc:
                failed[job.id] = exc
                return
        states[state.task_id] = state

    parsing = asyncio.Lock()  # one listing's answer parsed at a time, a slice per turn

    async def listing(chunk: list[Job]) -> None:
        async with sem:
            engine.status_requests += 1
            try:
                body = await http.call(dialect.list_call([str(j.task_id) for j in chunk]))
                async with parsing:
                    await asyncio.sleep(0)  # the answer's arrival and decoding had this turn
                    items = dialect.list_items(body)
                    listed = await sliced(items, PARSE_SLICE, parse_some)
            except errors.SeedanceError as exc:
                failed.update((j.id, exc) for j in chunk)
                return
        for state in listed:
            states[state.task_id] = state

    def parse_some(items: list[object]) -> list[TaskState]:
        return [dialect.parse_task(item) for item in items]

    if not batched:
        await asyncio.gather(*(one(j) for j in mine))
        return failed
    size = dialect.batch_size
    bound = [j for j in mine if j.task_id]
    chunks = [bound[i : i + size] for i in range(0, len(bound), size)]
    # one listing's request built per turn of the loop; they are answered concurrently
    sent = await sliced(chunks, 1, lambda head: [asyncio.ensure_future(listing(head[0]))])
    await asyncio.gather(*sent)
    # a task left out of a listing that was read is not proof that it is gone: ask for it alone
    await asyncio.gather(
        *(one(j) for j in bound if str(j.task_id) not in states and j.id not in failed)
    )
    return failed


class ListingFaults:
    """Times a failed listing's recovery: one fault per failed listing, not one per job,
    recovered once every job it left unread has been read again."""

    def __init__(self, state: EngineState) -> None:
        self.state = state
        self.failed_at: float | None = None
        self.unread: set[str] = set()  # jobs a failed listing left unread since

    def failed(self, failed: dict[str, errors.SeedanceError]) -> None:
        if failed and self.failed_at is None:
            self.failed_at = time.monotonic()
        self.unread |= set(failed)

    def read(self, job_id: str) -> None:
        self.unread.discard(job_id)
        if not self.unread and self.failed_at is not None:
            seconds = time.monotonic() - self.failed_at
            self.state.recoveries.append(("*", "status", seconds))
            self.failed_at = None


__all__ = ["CONCURRENT_READS", "PARSE_SLICE", "ListingFaults", "fetch_states"]
