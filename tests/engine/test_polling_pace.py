"""Poll pacing: what a submit costs in reads, how rounds are paced, and what a failure holds.

Each test runs a real client against the emulator over loopback; a thin transport in front of
the socket logs every status read (and can refuse one task's reads) so the pace can be counted.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
from pathlib import Path
from typing import Any

import httpx

import seedance_nb as sd
from seedance_nb import catalog
from seedance_nb.emulator import Emulator
from seedance_nb.engine.pacing import SHARED_ROUND


class ReadLog(httpx.AsyncBaseTransport):
    """Forwards to the emulator; logs each status read as (loop time, task ids it names).

    ``refuse`` names a task whose single reads are answered 400 until ``refuse_until``.
    """

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.reads: list[tuple[float, tuple[str, ...]]] = []
        self.refuse: str | None = None
        self.refuse_until = 0.0
        self.refused = 0
        self.limited: list[float] = []  # when each read answered 429 was sent

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            now = asyncio.get_running_loop().time()
            listed = tuple(request.url.params.get_list("filter.task_ids"))
            ids = listed or (request.url.path.rstrip("/").rsplit("/", 1)[-1],)
            self.reads.append((now, ids))
            if self.refuse in ids and now < self.refuse_until:
                self.refused += 1
                body = {"error": {"code": "InvalidParameter", "message": "refused"}}
                return httpx.Response(400, json=body)
        response = await self.inner.handle_async_request(request)
        if request.method == "GET" and response.status_code == 429:
            self.limited.append(self.reads[-1][0])
        return response

    def reads_of(self, task_id: str) -> list[float]:
        return [t for t, ids in self.reads if task_id in ids]


def _client(emu: Emulator, workdir: Path, log: ReadLog, **kw: Any) -> sd.AsyncClient:
    return sd.AsyncClient(
        provider="emulator",
        base_url=emu.base_url + "/api/v3",
        workdir=workdir,
        http_client=httpx.AsyncClient(transport=log),
        **kw,
    )


def test_a_burst_of_submits_reads_nothing_and_then_shares_one_listing(tmp_path: Path) -> None:
    # a for loop of submits: each job's first state is its create's answer, and the first read
    # is the next scheduled round, one listing for all of them (not one listing per submit)
    emu = Emulator(tmp_path / "emu", queued_seconds=60, running_seconds=1).start()
    log = ReadLog()

    async def main() -> tuple[list[sd.Job], int, int]:
        async with _client(emu, tmp_path / "w", log, poll=sd.PollPolicy(1.0, 1.0)) as client:
            started = asyncio.get_running_loop().time()
            jobs = [
                await client.submit(f"sweep {i}", duration=4, resolution="480p") for i in range(12)
            ]
            submitted = asyncio.get_running_loop().time() - started
            await asyncio.sleep(0.3)
            during = len(log.reads)
            await asyncio.sleep(max(0.0, 1.6 - submitted))  # one round interval after the first
            return jobs, during, len(log.reads)

    try:
        jobs, during, after = asyncio.run(main())
    finally:
        emu.stop()
    assert {j.status for j in jobs} == {"queued"}  # the create's answer, not a read
    assert during == 0, f"{during} status reads while submitting: a submit started a round"
    assert after >= 1
    # the rounds after the burst are listings of every job, not reads of one
    assert all(len(ids) == 12 for _, ids in log.reads[:after]), log.reads


def test_a_new_job_joins_the_round_already_scheduled(tmp_path: Path) -> None:
    # a job submitted while others are tracked is read in their next round, in the same
    # listing: rounds are paced for the whole client, not per job
    emu = Emulator(tmp_path / "emu", queued_seconds=60, running_seconds=1).start()
    log = ReadLog()

    async def main() -> list[tuple[float, tuple[str, ...]]]:
        async with _client(emu, tmp_path / "w", log, poll=sd.PollPolicy(0.8, 0.8)) as client:
            first = await client.submit("early one", duration=4, resolution="480p")
            await asyncio.sleep(0.5)
            second = await client.submit("late one", duration=4, resolution="480p")
            await asyncio.sleep(1.6)
            assert first.task_id and second.task_id
            return [(t, ids) for t, ids in log.reads]

    try:
        reads = asyncio.run(main())
    finally:
        emu.stop()
    assert reads, "no round ran"
    assert all(len(ids) == 2 for _, ids in reads), reads  # never a read of the newcomer alone
    gaps = [b - a for (a, _), (b, _) in itertools.pairwise(reads)]
    assert all(g >= SHARED_ROUND * 0.8 - 0.05 for g in gaps), gaps


def test_a_shared_listing_comes_sooner_than_a_lone_jobs_read(tmp_path: Path) -> None:
    # a lone job is read once per interval (≤ one read a second on Ark); jobs that share a
    # listing are read at SHARED_ROUND of it: each one's share of the requests is still
    # smaller than a lone job's, and a finished video is seen sooner
    emu = Emulator(tmp_path / "emu", queued_seconds=60, running_seconds=1).start()
    logs = {1: ReadLog(), 3: ReadLog()}

    async def gaps(jobs: int) -> list[float]:
        log = logs[jobs]
        async with _client(emu, tmp_path / str(jobs), log, poll=sd.PollPolicy(0.8, 0.8)) as c:
            for i in range(jobs):
                await c.submit(f"pace {jobs} {i}", duration=4, resolution="480p")
            await asyncio.sleep(4.2)
        times = [t for t, _ in log.reads]
        return [b - a for a, b in itertools.pairwise(times)]

    try:
        lone, shared = asyncio.run(gaps(1)), asyncio.run(gaps(3))
    finally:
        emu.stop()
    # medians: one late wake-up on a loaded machine stretches a gap, not the pace
    assert len(lone) >= 3 and 0.75 <= statistics.median(lone) <= 0.9, lone
    assert len(shared) >= 4 and 0.55 <= statistics.median(shared) <= 0.68, shared
    assert all(len(ids) == 3 for _, ids in logs[3].reads)  # one listing a round, not one a job


def test_a_failed_read_holds_back_only_its_own_job(tmp_path: Path) -> None:
    # a gateway read one task per request: one task's reads fail for a while; the others go on
    # being read at their pace (they used to wait out the longest interval with it)
    emu = Emulator(tmp_path / "emu", queued_seconds=60, running_seconds=1).start()
    log = ReadLog()
    prefix = catalog.get_provider("orcarouter").emulator_prefix

    async def main() -> tuple[sd.Job, list[sd.Job], float]:
        client = sd.AsyncClient(
            provider="orcarouter",
            api_key="test-key",
            base_url=emu.base_url + prefix,
            workdir=tmp_path / "w",
            http_client=httpx.AsyncClient(transport=log),
            poll=sd.PollPolicy(0.3, 4.0, growth=0.0),
        )
        async with client:
            jobs = [
                await client.submit(f"gateway {i}", duration=4, resolution="480p") for i in range(3)
            ]
            sick = jobs[0]
            assert sick.task_id is not None
            log.refuse = sick.task_id
            failing_from = asyncio.get_running_loop().time()
            log.refuse_until = failing_from + 1.5
            await asyncio.sleep(2.0)
            return sick, jobs[1:], failing_from

    try:
        sick, healthy, failing_from = asyncio.run(main())
    finally:
        emu.stop()
    assert log.refused >= 1
    window = (failing_from + 0.4, failing_from + 1.9)
    for job in healthy:
        assert job.task_id is not None
        seen = [t for t in log.reads_of(job.task_id) if window[0] <= t <= window[1]]
        assert len(seen) >= 3, f"{job.task_id} read {len(seen)}× in 1.5 s at a 0.3 s pace"
    assert sick.phase == "tracking" and not sick.done  # held back, not given up


def test_retry_after_holds_every_read_back(tmp_path: Path) -> None:
    # a 429 on one read is the key's limit, not the task's: no read at all until it has passed
    emu = Emulator(tmp_path / "emu", queued_seconds=60, running_seconds=1).start()
    log = ReadLog()
    prefix = catalog.get_provider("orcarouter").emulator_prefix

    async def main() -> None:
        client = sd.AsyncClient(
            provider="orcarouter",
            api_key="test-key",
            base_url=emu.base_url + prefix,
            workdir=tmp_path / "w",
            http_client=httpx.AsyncClient(transport=log),
            poll=sd.PollPolicy(0.2, 4.0, growth=0.0),
        )
        async with client:
            for i in range(3):
                await client.submit(f"limited {i}", duration=4, resolution="480p")
            await asyncio.sleep(0.5)
            emu.set_faults("status-429*1;retry-after=1.5")
            await asyncio.sleep(2.5)

    try:
        asyncio.run(main())
    finally:
        emu.stop()
    assert len(log.limited) == 1, "the 429 did not fire"
    first = log.limited[0]
    after = [t for t, _ in log.reads if t > first + 0.05]
    assert after, "nothing was read after the Retry-After"
    assert after[0] >= first + 1.4, f"read again {after[0] - first:.2f} s after a 1.5 s Retry-After"


def test_default_cadence_comes_from_the_catalog() -> None:
    from seedance_nb.engine.pacing import default_policy

    ark = default_policy(False, catalog.get_provider("ark"))
    assert ark.interval(0) <= 1.0 and ark.interval(60) <= 1.0  # a lone job: ≤ 1 read/s
    orca = default_policy(False, catalog.get_provider("orcarouter"))
    assert (orca.min_interval, orca.max_interval) == (5.0, 10.0)  # "poll every 5-10 s"
    comet = default_policy(False, catalog.get_provider("cometapi"))
    assert (comet.min_interval, comet.max_interval) == (10.0, 20.0)  # "every 10 to 20 s"
    for name in ("orcarouter", "cometapi", "evolink", "seedance2ink"):
        assert catalog.get_provider(name).cadence.source  # every cadence says where it is from
