"""The poll loop on its own: :class:`~seedance_nb.engine.scheduler.Scheduler` against a scripted
Ark listing (``httpx.MockTransport``, one dialect), over a real ledger, with no client, creator
or downloader (a stand-in records what it is handed).

What it promises: one listing per hundred tasks a round; a success handed to the downloader
once; an unchanged state writes nothing, and a round reads whole rows only where another
client wrote; a task the provider forgot fails after three misses;
a job another live client drives is left to it; a Retry-After holds every read back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx
from engine_support import Rig

from seedance_nb.engine.job import Job, Phase
from seedance_nb.engine.ledger import Ledger
from seedance_nb.engine.pacing import PollPolicy
from seedance_nb.engine.scheduler import Scheduler
from seedance_nb.providers.task import TaskState

FAST = PollPolicy(0.1, 0.2)


class ScriptedListing:
    """Ark's task listing: each task id in ``status`` is listed with that status (a task not
    in it is unknown to the provider); records every read and the ids it asked for."""

    def __init__(self, status: dict[str, str]) -> None:
        self.status = status
        self.reads: list[tuple[float, list[str]]] = []
        self.answer: Callable[[list[str]], httpx.Response] | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.method == "GET", request
        _, slash, one = request.url.path.partition("/tasks/")  # a lone task: read by its id
        ids = [one] if slash else parse_qs(request.url.query.decode())["filter.task_ids"]
        self.reads.append((time.monotonic(), ids))
        if self.answer is not None:
            return self.answer(ids)
        if slash:
            if one not in self.status:
                error = {"code": "ResourceNotFound", "message": "no such task"}
                return httpx.Response(404, json={"error": error})
            return httpx.Response(200, json=self.item(one))
        items = [self.item(i) for i in ids if i in self.status]
        return httpx.Response(200, json={"items": items, "total": len(items)})

    def item(self, task_id: str) -> dict[str, Any]:
        status = self.status[task_id]
        item: dict[str, Any] = {"id": task_id, "model": "m", "status": status, "created_at": 1}
        if status == "succeeded":
            item["content"] = {"video_url": f"https://cdn.example.com/{task_id}.mp4"}
            item["usage"] = {"completion_tokens": 40176, "total_tokens": 40176}
        return item

    def read_ids(self) -> list[str]:
        return [i for _, ids in self.reads for i in ids]


class Downloads:
    """Stands in for the downloader: records each job it is handed and settles it."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.handed: list[tuple[str, TaskState | None]] = []

    async def run(self, job: Job, state: TaskState | None) -> None:
        self.handed.append((job.id, state))
        self.rig.state.update(job, phase=Phase.DONE, status="succeeded", finished_at=time.time())


def drive(rig: Rig, jobs: list[Job], body: Callable[[Scheduler], Any]) -> Downloads:
    """Track ``jobs`` on a scheduler of their own, run ``body`` on its loop, then stop."""
    downloads = Downloads(rig)

    async def main() -> None:
        rig.state.loop = asyncio.get_running_loop()
        scheduler = Scheduler(rig.state, rig.leases, creator=None, downloader=downloads)  # type: ignore[arg-type]
        try:
            for job in jobs:
                scheduler.track(job)
            await body(scheduler)
        finally:
            rig.state.closed = True
            task = scheduler.stop()
            if task is not None:
                await asyncio.gather(task, *rig.state.tasks, return_exceptions=True)
            await rig.aclose()

    asyncio.run(main())
    return downloads


async def until(check: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_one_listing_reads_a_hundred_tasks(tmp_path: Path) -> None:
    listing = ScriptedListing({f"cgt-{i}": "running" for i in range(250)})
    rig = Rig(tmp_path, listing, poll=FAST)
    jobs = [rig.tracking(f"cgt-{i}", f"kite {i}") for i in range(250)]

    async def first_round(_s: Scheduler) -> None:
        await until(lambda: all(j.status == "running" for j in jobs))

    drive(rig, jobs, first_round)
    first = listing.reads[:3]
    assert sorted(len(ids) for _, ids in first) == [50, 100, 100]  # ⌈250 / 100⌉ listings
    assert sorted(i for _, ids in first for i in ids) == sorted(f"cgt-{i}" for i in range(250))


def test_a_success_goes_to_the_downloader_once_and_is_not_read_again(tmp_path: Path) -> None:
    listing = ScriptedListing({"cgt-ok": "succeeded", "cgt-slow": "running"})
    rig = Rig(tmp_path, listing, poll=FAST)
    ok, slow = rig.tracking("cgt-ok", "done soon"), rig.tracking("cgt-slow", "still going")

    async def rounds(_s: Scheduler) -> None:
        await until(lambda: ok.done)
        await until(lambda: listing.read_ids().count("cgt-slow") >= 4)

    downloads = drive(rig, [ok, slow], rounds)
    assert [job_id for job_id, _ in downloads.handed] == [ok.id]
    state = downloads.handed[0][1]
    assert state is not None and state.video_url == "https://cdn.example.com/cgt-ok.mp4"
    assert listing.read_ids().count("cgt-ok") == 1  # settled: never read again
    assert ok.row["usage_json"] and ok.tokens == 40176


def test_a_round_that_learns_nothing_writes_nothing(tmp_path: Path) -> None:
    listing = ScriptedListing({"cgt-1": "running"})
    rig = Rig(tmp_path, listing, poll=FAST)
    job = rig.tracking("cgt-1", "a long render")
    written: list[float] = []

    async def rounds(_s: Scheduler) -> None:
        await until(lambda: job.status == "running")
        written.append(rig.ledger.get(job.id)["updated_at"])
        reads = len(listing.reads)
        await until(lambda: len(listing.reads) >= reads + 3)
        written.append(rig.ledger.get(job.id)["updated_at"])

    drive(rig, [job], rounds)
    assert written[0] == written[1]


def test_a_round_reads_whole_rows_only_where_another_client_wrote(tmp_path: Path) -> None:
    listing = ScriptedListing({f"cgt-{i}": "running" for i in range(3)})
    rig = Rig(tmp_path, listing, poll=FAST)
    jobs = [rig.tracking(f"cgt-{i}", f"kite {i}") for i in range(3)]
    whole: list[list[str]] = []
    get_many = rig.ledger.get_many

    def counted(job_ids: list[str]) -> dict[str, dict[str, Any]]:
        whole.append(list(job_ids))
        return get_many(job_ids)

    rig.ledger.get_many = counted  # type: ignore[method-assign]
    other = Ledger(rig.ledger.path)  # another client of the same ledger file

    async def rounds(scheduler: Scheduler) -> None:
        await until(lambda: all(j.status == "running" for j in jobs))
        reads = len(listing.reads)
        await until(lambda: len(listing.reads) >= reads + 2)
        assert whole == [], whole  # nobody else wrote: the rows in memory are the rows
        other.update(jobs[1].id, status="cancelled", phase="done", finished_at=time.time())
        await until(lambda: jobs[1].done)  # seen at the next round, and no longer read
        reads = len(listing.reads)
        await until(lambda: len(listing.reads) >= reads + 2)

    drive(rig, jobs, rounds)
    other.close()
    assert whole and all(ids == [jobs[1].id] for ids in whole), whole
    assert jobs[1].status == "cancelled" and [j.status for j in (jobs[0], jobs[2])] == [
        "running",
        "running",
    ]
    assert listing.reads[-1][1] == ["cgt-0", "cgt-2"]


def test_a_task_the_provider_no_longer_knows_fails_after_three_misses(tmp_path: Path) -> None:
    listing = ScriptedListing({})  # the listing never shows it
    rig = Rig(tmp_path, listing, poll=FAST)
    job = rig.tracking("cgt-gone", "lost upstream")

    async def rounds(_s: Scheduler) -> None:
        await until(lambda: job.done)

    drive(rig, [job], rounds)
    # three rounds, each the listing and then the task asked for alone (a listing that leaves
    # a task out proves nothing), and no fourth
    assert listing.read_ids().count("cgt-gone") == 6
    assert job.status == "failed" and job.error is not None
    assert job.error.code == "TaskNotFound" and "cgt-gone" in job.error.message


def test_a_job_another_live_client_drives_is_left_to_it(tmp_path: Path) -> None:
    listing = ScriptedListing({"cgt-mine": "running", "cgt-theirs": "running"})
    rig = Rig(tmp_path, listing, poll=FAST)
    mine = rig.tracking("cgt-mine", "mine")
    theirs = rig.tracking("cgt-theirs", "theirs")
    # held by a client on another machine, its lease still good
    rig.ledger.update(theirs.id, owner="elsewhere:4242-abc", lease_until=time.time() + 600)
    theirs.refresh(rig.ledger.get(theirs.id) or {})

    async def rounds(_s: Scheduler) -> None:
        await until(lambda: listing.read_ids().count("cgt-mine") >= 3)

    drive(rig, [mine, theirs], rounds)
    assert "cgt-theirs" not in listing.read_ids()
    assert rig.ledger.get(theirs.id)["owner"] == "elsewhere:4242-abc"


def test_a_retry_after_holds_every_read_back(tmp_path: Path) -> None:
    listing = ScriptedListing({"cgt-a": "running", "cgt-b": "running"})
    listing.answer = lambda _ids: httpx.Response(
        429, headers={"Retry-After": "0.6"}, json={"error": {"code": "RateLimit"}}
    )
    rig = Rig(tmp_path, listing, poll=FAST)
    jobs = [rig.tracking("cgt-a", "a"), rig.tracking("cgt-b", "b")]

    async def rounds(_s: Scheduler) -> None:
        await until(lambda: len(listing.reads) >= 1)
        listing.answer = None  # the limit lifts
        await until(lambda: all(j.status == "running" for j in jobs))

    drive(rig, jobs, rounds)
    limited = listing.reads[0][0]
    # the HTTP layer itself waits out Retry-After before its one retry, then the round is
    # held back: no read at all within 0.6 s of the 429
    assert all(t == limited or t - limited >= 0.6 for t, _ in listing.reads)
