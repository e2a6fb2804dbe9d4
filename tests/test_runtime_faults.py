"""The runtime under network faults, against the real emulator over a socket.

A client-side transport forwards each request to the emulator and then misbehaves, so the
upstream effect (a task was or was not created) is real and countable.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

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
        provider="emulator", base_url=emu.base_url + "/api/v3", workdir=workdir,
        http_client=httpx.AsyncClient(transport=transport), request_timeout=3.0,
    )  # fmt: skip


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
        client = sd.AsyncClient(provider="emulator", base_url=emu.base_url + "/api/v3",
                                workdir=tmp_path / "w", max_download_bytes=10_000)  # fmt: skip
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
    emu = Emulator(tmp_path / "emu", queued_seconds=0.5, running_seconds=1.5,
                   faults="status-partial*4").start()  # fmt: skip
    try:
        client = sd.Client(provider="emulator", base_url=emu.base_url + "/api/v3",
                           workdir=tmp_path / "w", poll=sd.PollPolicy(0.1, 0.1))  # fmt: skip
        with client:
            job = client.submit("left out of the listing", duration=4, resolution="480p")
            assert job.wait(30).status == "succeeded" and job.video_path is not None
        assert emu.stats()["faults"]["status-partial"] == 4
    finally:
        emu.stop()


class ListingRecorder(httpx.AsyncBaseTransport):
    """Forwards to the emulator; times every batched listing, and refuses the first one that
    reads a lone task (the second chunk of a 101-job round) with a 400, which is not retried
    inside the call, so the round itself sees the failure."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.listings: list[tuple[float, float, int]] = []  # start, end, task ids
        self.failed_chunk = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        ids = request.url.params.get_list("filter.task_ids")
        if request.method != "GET" or not ids:
            return await self.inner.handle_async_request(request)
        loop = asyncio.get_running_loop()
        start = loop.time()
        try:
            if len(ids) == 1 and not self.failed_chunk:
                self.failed_chunk = True
                await asyncio.sleep(0.05)
                return httpx.Response(400, json={"error": {"code": "InvalidParameter",
                                                           "message": "refused once"}})  # fmt: skip
            response = await self.inner.handle_async_request(request)
            await response.aread()
            return response
        finally:
            self.listings.append((start, loop.time(), len(ids)))


def test_a_round_reads_its_listings_side_by_side_and_one_failure_backs_off_the_round(
    tmp_path: Path,
) -> None:
    # 101 jobs take two listings per round (100 ids + 1); they go out together, and when one
    # is lost the whole round waits and is read again: nobody is taken for gone
    emu = Emulator(tmp_path / "emu", queued_seconds=0.3, running_seconds=0.6).start()
    recorder = ListingRecorder()

    async def run() -> list[sd.Job]:
        client = sd.AsyncClient(
            provider="emulator", base_url=emu.base_url + "/api/v3", workdir=tmp_path / "w",
            http_client=httpx.AsyncClient(transport=recorder), poll=sd.PollPolicy(0.2, 0.5),
        )  # fmt: skip
        async with client:
            jobs = [await client.submit(f"crowd {i} [[fail]]", duration=4, resolution="480p")
                    for i in range(101)]  # fmt: skip
            await asyncio.gather(*(j.wait_async(60) for j in jobs), return_exceptions=True)
            return jobs

    try:
        jobs = asyncio.run(run())
    finally:
        emu.stop()
    assert recorder.failed_chunk
    assert {(j.status, j.error and j.error.code) for j in jobs} == {
        ("failed", "InternalServiceError")  # the emulator's [[fail]], not TaskNotFound
    }
    big = [(s, e) for s, e, n in recorder.listings if n == 100]
    small = [(s, e) for s, e, n in recorder.listings if n == 1]
    assert any(bs < se and ss < be for bs, be in big for ss, se in small), "never side by side"
