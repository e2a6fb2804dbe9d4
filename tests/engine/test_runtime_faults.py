"""The runtime under network faults, against the real emulator over a socket.

A client-side transport forwards each request to the emulator and then misbehaves, so the
upstream effect (a task was or was not created) is real and countable.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

import seedance_nb as sd
from seedance_nb.emulator import Emulator


class FaultyTransport(httpx.AsyncBaseTransport):
    """Forwards to the real server; loses the answers to the first ``drop_creates`` creates."""

    def __init__(self, drop_creates: int = 0, fail_list: bool = False) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.drop_creates = drop_creates
        self.fail_list = fail_list
        self.creates_sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.fail_list and request.method == "GET" and "filter.model" in str(request.url):
            raise httpx.ConnectError("listing unreachable", request=request)
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            self.creates_sent += 1
            if self.creates_sent <= self.drop_creates:
                await response.aclose()
                raise httpx.ReadTimeout("answer lost after the task was made", request=request)
        return response


def _creates(emu: Emulator) -> int:
    return sum(emu.stats()["creates"].values())


def _client(emu: Emulator, workdir: Path, transport: httpx.AsyncBaseTransport) -> sd.AsyncClient:
    return sd.AsyncClient(
        provider="emulator",
        base_url=emu.base_url + "/api/v3",
        workdir=workdir,
        http_client=httpx.AsyncClient(transport=transport),
        request_timeout=3.0,
    )


def test_lost_create_answer_is_reconciled_not_resent(emu: Emulator, tmp_path: Path) -> None:
    async def main() -> sd.Job:
        transport = FaultyTransport(drop_creates=1)
        async with _client(emu, tmp_path / "w", transport) as client:
            job = await client.submit("a lost answer", duration=4, resolution="480p")
            await job
            assert transport.creates_sent == 1
            return job

    job = asyncio.run(main())
    assert _creates(emu) == 1
    assert job.status == "succeeded" and job.task_id and job.video_path and job.video_path.exists()


def test_unreachable_listing_leaves_job_unknown_and_sends_nothing_more(
    emu: Emulator, tmp_path: Path
) -> None:
    async def main() -> None:
        transport = FaultyTransport(drop_creates=1, fail_list=True)
        async with _client(emu, tmp_path / "w", transport) as client:
            with pytest.raises(sd.UnknownOutcomeError) as info:
                await client.submit("fate unknown", duration=4, resolution="480p")
            job = info.value.job
            assert job is not None and job.outcome_unknown and job.done
            # the same request again must not create a second task
            again = await client.submit("fate unknown", duration=4, resolution="480p")
            assert again.id == job.id
            assert transport.creates_sent == 1

    asyncio.run(main())
    assert _creates(emu) == 1


def test_rejected_create_pays_nothing_and_can_be_sent_again(emu: Emulator, tmp_path: Path) -> None:
    client = sd.Client(
        provider="emulator", base_url=emu.base_url + "/api/v3", workdir=tmp_path / "w"
    )
    with client:
        with pytest.raises(sd.APIError) as info:
            client.submit("blocked [[input-moderation]]", duration=4, resolution="480p")
        assert (
            info.value.status_code == 400 and info.value.code == "InputTextSensitiveContentDetected"
        )
        assert _creates(emu) == 0
        history = client.jobs()
        assert history[0].status == "failed" and history[0].phase == "rejected"


def test_job_survives_its_client_and_a_new_client_finishes_it(tmp_path: Path) -> None:
    emu = Emulator(state_dir=tmp_path / "emu", queued_seconds=1.0, running_seconds=1.0).start()
    try:
        base = emu.base_url + "/api/v3"
        first = sd.Client(provider="emulator", base_url=base, workdir=tmp_path / "w")
        job = first.submit("outlive the kernel", duration=4, resolution="480p")
        assert not job.done
        first.close()  # the "kernel" dies mid-render
        with sd.Client(provider="emulator", base_url=base, workdir=tmp_path / "w") as second:
            resumed = second.resume()
            assert [j.id for j in resumed] == [job.id]
            done = resumed[0].wait(30)
            assert done.video_path is not None and done.video_path.stat().st_size > 1000
            # and the same request is still the same job, not a new task
            assert second.submit("outlive the kernel", duration=4, resolution="480p").id == job.id
        assert _creates(emu) == 1
    finally:
        emu.stop()


def test_a_video_over_the_size_cap_fails_the_job_instead_of_filling_the_disk(
    emu: Emulator, tmp_path: Path
) -> None:
    async def main() -> sd.Job:
        client = sd.AsyncClient(
            provider="emulator",
            base_url=emu.base_url + "/api/v3",
            workdir=tmp_path / "w",
            max_download_bytes=10_000,
        )
        async with client:
            job = await client.submit("too big to keep", duration=4, resolution="480p")
            with pytest.raises(sd.JobFailed):
                await job.wait_async(30)
            return job

    job = asyncio.run(main())
    assert job.done and job.status == "failed" and job.error is not None
    assert job.error.code == "DownloadFailed" and "10,000-byte cap" in job.error.message
    videos = tmp_path / "w" / "videos"
    assert not list(videos.glob("*.mp4")) and not list(videos.glob("*.part"))
    assert _creates(emu) == 1


def test_listings_that_leave_a_task_out_do_not_end_the_job(tmp_path: Path) -> None:
    # three batched reads in a row answer "{}": that proves nothing about the task, which is
    # asked for alone instead; before, three such answers ended the job as TaskNotFound
    emu = Emulator(
        tmp_path / "emu", queued_seconds=0.5, running_seconds=1.5, faults="status-partial*4"
    ).start()
    try:
        client = sd.Client(
            provider="emulator",
            base_url=emu.base_url + "/api/v3",
            workdir=tmp_path / "w",
            poll=sd.PollPolicy(0.1, 0.1),
        )
        with client:
            job = client.submit("left out of the listing", duration=4, resolution="480p")
            assert job.wait(30).status == "succeeded" and job.video_path is not None
        assert emu.stats()["faults"]["status-partial"] == 4
    finally:
        emu.stop()


@dataclass
class Listing:
    """One batched listing as the transport saw it (loop clock)."""

    ids: int
    phase: str  # the recorder's phase when it arrived
    start: float
    end: float = 0.0
    outcome: int | str = "unanswered"  # the HTTP status, or "cancelled"
    met: bool = False  # (armed round) its sibling arrived while it was still here
    task_ids: tuple[str, ...] = ()


class ListingRecorder(httpx.AsyncBaseTransport):
    """Forwards to the emulator and logs every batched listing; counts the crowd's creates.

    Phases, by what has been seen rather than by the clock: ``watching`` until a lone listing
    (a 101-job round's second chunk) arrives after the whole crowd was created; ``armed`` for
    the next round, whose listings wait at a door for each other (they meet only if they were
    sent side by side), then the lone one is refused with a 400 (not retried inside the call,
    so the round sees the failure) and the 100-task one is answered ``late`` seconds later
    (a round that backed off at the first failure would not wait for it); ``backed off`` for
    the rounds after, forwarded as they are; ``read again`` once one of them read every task
    (``next_round`` is set when the round after that starts: the one before has been applied).
    """

    meet_timeout = 10.0  # only a runtime that sends a round's listings one by one waits this
    late = 0.3

    def __init__(self, crowd: int) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.crowd = crowd
        self.created = 0
        self.listings: list[Listing] = []
        self.phase = "watching"
        self.read_again = asyncio.Event()
        self.next_round = asyncio.Event()
        self._whole_round_seen = False
        self._in_flight = 0
        self._at_door: list[tuple[Listing, asyncio.Event]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ids = request.url.params.get_list("filter.task_ids")
        if request.method != "GET" or not ids:
            response = await self.inner.handle_async_request(request)
            if request.method == "POST" and response.status_code == 200:
                self.created += 1
            return response
        loop = asyncio.get_running_loop()
        entry = Listing(ids=len(ids), phase=self.phase, start=loop.time(), task_ids=tuple(ids))
        self.listings.append(entry)
        if entry.phase == "read again":
            self.next_round.set()
        if len(ids) == 1 and self.created == self.crowd:
            self._whole_round_seen = True  # only a round of 101 jobs has a lone chunk now
        self._in_flight += 1
        try:
            if entry.phase == "armed":
                await self._meet(entry)
                if len(ids) == 1:
                    entry.outcome = 400
                    return httpx.Response(
                        400, json={"error": {"code": "InvalidParameter", "message": "refused once"}}
                    )
                await asyncio.sleep(self.late)
            response = await self.inner.handle_async_request(request)
            await response.aread()
            entry.outcome = response.status_code
            return response
        except asyncio.CancelledError:
            entry.outcome = "cancelled"
            raise
        finally:
            entry.end = loop.time()
            self._in_flight -= 1
            self._advance(entry)

    async def _meet(self, entry: Listing) -> None:
        """Wait (up to ``meet_timeout``) for the round's other listing to arrive as well."""
        if self._at_door:
            other, arrived = self._at_door.pop()
            other.met = entry.met = True
            arrived.set()
            return
        arrived = asyncio.Event()
        self._at_door.append((entry, arrived))
        try:
            await asyncio.wait_for(arrived.wait(), self.meet_timeout)
        except asyncio.TimeoutError:
            self._at_door.remove((entry, arrived))

    def _advance(self, entry: Listing) -> None:
        """Next phase once the round in flight is over (rounds never overlap each other)."""
        if self._in_flight:
            return
        if self.phase == "watching" and self._whole_round_seen:
            self.phase = "armed"
        elif self.phase == "armed":
            self.phase = "backed off"
        elif self.phase == "backed off" and entry.ids == 1 and entry.outcome == 200:
            self.phase = "read again"
            self.read_again.set()


def test_a_round_reads_its_listings_side_by_side_and_one_failure_backs_off_only_its_jobs(
    tmp_path: Path,
) -> None:
    # 101 jobs take two listings per round (100 ids + 1); they go out together, and when one
    # is lost the round waits for the other; the lost listing's job alone is held back and read
    # again, the other 100 go on at their pace: nobody is taken for gone. The tasks stay queued (600 s) however slowly a loaded machine submits the crowd,
    # so every round after the last create carries all 101 and none ends before the checks.
    crowd = 101
    emu = Emulator(tmp_path / "emu", queued_seconds=600, running_seconds=0.6).start()
    recorder = ListingRecorder(crowd)

    async def run() -> tuple[list[tuple[str, str, float]], list[tuple[str, bool, Any]]]:
        client = sd.AsyncClient(
            provider="emulator",
            base_url=emu.base_url + "/api/v3",
            workdir=tmp_path / "w",
            http_client=httpx.AsyncClient(transport=recorder),
            poll=sd.PollPolicy(0.2, 0.5),
        )
        async with client:
            # [[fail]]: no render runs in the background
            jobs = [
                await client.submit(f"crowd {i} [[fail]]", duration=4, resolution="480p")
                for i in range(crowd)
            ]
            await asyncio.wait_for(recorder.read_again.wait(), 60)
            await asyncio.wait_for(recorder.next_round.wait(), 60)
            return list(client.recoveries), [(j.status, j.done, j.error) for j in jobs]

    try:
        recoveries, jobs = asyncio.run(run())
    finally:
        emu.stop()
    armed = sorted((e for e in recorder.listings if e.phase == "armed"), key=lambda e: e.ids)
    side_by_side = "the round's listings were not sent side by side"
    assert [e.ids for e in armed] == [1, 100], side_by_side
    lone, big = armed
    assert lone.met and big.met, side_by_side
    assert lone.outcome == 400
    assert big.outcome == 200, "the other listing was not read to its end"
    (held,) = lone.task_ids
    later = sorted((e for e in recorder.listings if e.start > big.end), key=lambda e: e.start)
    # the 100 that were read go on at their pace, before the refused one is asked for again
    assert later and held not in later[0].task_ids and later[0].ids == 100
    assert later[0].start < big.end + 0.5, "the jobs that were read were held back too"
    again = [e for e in later if held in e.task_ids]
    assert again and again[0].start > later[0].start and again[0].outcome == 200
    # nobody was taken for gone: every job is still followed, read as queued
    assert set(jobs) == {("queued", False, None)}
    (status_recovery,) = [dt for _job, step, dt in recoveries if step == "status"]
    assert 0 < status_recovery < 5


class _HoldFirstListing(httpx.AsyncBaseTransport):
    """Holds the first status listing's answer until told: a round in flight."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.held = asyncio.Event()
        self.go = asyncio.Event()
        self.armed = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if self.armed and request.method == "GET" and "filter.task_ids" in str(request.url):
            self.armed = False
            await response.aread()
            self.held.set()
            await self.go.wait()
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


def test_a_round_answer_read_before_a_cancel_does_not_undo_it(tmp_path: Path) -> None:
    """A listing read while the task was queued, landing after the user's cancel settled the
    job, must not turn the cancelled job back into a queued one."""
    emu = Emulator(state_dir=tmp_path / "emu", queued_seconds=600).start()
    transport = _HoldFirstListing()

    async def main() -> tuple[str, bool]:
        async with sd.AsyncClient(
            provider="emulator",
            base_url=emu.base_url + "/api/v3",
            workdir=tmp_path / "w",
            http_client=httpx.AsyncClient(transport=transport),
            poll=sd.PollPolicy(0.2, 0.5),
        ) as client:
            job = await client.submit("a held round", duration=4, resolution="480p")
            await asyncio.wait_for(transport.held.wait(), 10)
            await job.cancel_async()
            assert job.status == "cancelled" and job.done
            transport.go.set()
            await asyncio.sleep(1.0)  # the held round lands, and a later one may run
            return job.status, job.done

    try:
        assert asyncio.run(main()) == ("cancelled", True)
    finally:
        emu.stop()
