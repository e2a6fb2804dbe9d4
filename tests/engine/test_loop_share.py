"""A thousand jobs share the event loop: a round works in slices, transfers queue for a slot.

The figures (loop lag with 1,000 jobs in flight) are in ``benchmarks/bench_pace.py``; these
tests pin the mechanisms: the loop runs other tasks between a round's slices, and no more
than ``DOWNLOAD_SLOTS`` videos stream at once while every one still reaches disk.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import seedance_nb as sd
from seedance_nb.emulator import Emulator
from seedance_nb.engine import downloader, loop_share
from seedance_nb.engine.loop_share import sliced


def test_a_sliced_step_lets_other_tasks_run_between_slices() -> None:
    events: list[str] = []

    def step(chunk: list[int]) -> list[int]:
        events.append(f"slice {chunk[0]}")
        return [x * 2 for x in chunk]

    async def other() -> None:
        for _ in range(3):
            events.append("other")
            await asyncio.sleep(0)

    async def main() -> list[int]:
        task = asyncio.get_running_loop().create_task(other())
        await asyncio.sleep(0)  # let it start
        out = await sliced(list(range(7)), 3, step)
        await task
        return out

    out = asyncio.run(main())
    assert out == [0, 2, 4, 6, 8, 10, 12]  # every item, in order
    slices = [i for i, e in enumerate(events) if e.startswith("slice")]
    assert len(slices) == 3
    # another task ran between each pair of slices: none of them follow one another directly
    assert all(b - a > 1 for a, b in itertools.pairwise(slices)), events


def test_a_slow_slice_makes_the_next_ones_smaller() -> None:
    # the first items cost 4 ms each (successes whose writes are slow, say), the rest nothing:
    # slices shrink until one fits the budget, then grow back to the given size
    sizes: list[int] = []

    def step(chunk: list[int]) -> None:
        sizes.append(len(chunk))
        slow = sum(1 for x in chunk if x < 12)
        end = time.perf_counter() + 0.004 * slow
        while time.perf_counter() < end:
            pass

    asyncio.run(sliced(list(range(200)), 20, step))
    assert sizes[0] == 20  # a quick machine's slice is the size asked for
    assert sizes[1] < 20 and min(sizes) == 1  # 80 ms of work: the next slices are shorter
    assert sizes[-2] == 20 or sizes[-1] == 20  # and grow back once the items are cheap
    assert sum(sizes) == 200


def test_slice_sizes_follow_the_budget() -> None:
    budget = loop_share.TURN_BUDGET
    assert loop_share.next_size(50, 50, 4 * budget) == 12  # in proportion to the overrun
    assert loop_share.next_size(3, 50, 10 * budget) == 1  # never below one item
    assert loop_share.next_size(10, 50, budget / 10) == 20  # doubled when quick
    assert loop_share.next_size(40, 50, budget / 10) == 50  # never above the size asked
    assert loop_share.next_size(10, 50, budget / 2) == 10  # about right: kept


def test_videos_finishing_together_stream_a_few_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloader, "DOWNLOAD_SLOTS", 2)
    real = downloader.download
    streaming, most = 0, 0

    async def counted(*args: Any, **kw: Any) -> int:
        nonlocal streaming, most
        streaming += 1
        most = max(most, streaming)
        try:
            await asyncio.sleep(0.05)  # long enough for the others to pile up if unbounded
            return await real(*args, **kw)
        finally:
            streaming -= 1

    monkeypatch.setattr(downloader, "download", counted)
    emu = Emulator(tmp_path / "emu", queued_seconds=0.2, running_seconds=0.5).start()

    try:
        jobs = asyncio.run(_finish_jobs(emu, tmp_path / "w", "slots", 6))
    finally:
        emu.stop()
    assert all(j.status == "succeeded" and j.video_path and j.video_path.exists() for j in jobs)
    assert most == 2, f"{most} transfers at once"


def test_one_heartbeat_holds_every_downloads_lease(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one slot, slow transfers, a short beat: the job streaming and those waiting for the slot
    # are renewed together (one write for all, not one per job), and the beat stops with them
    monkeypatch.setattr(downloader, "DOWNLOAD_SLOTS", 1)
    monkeypatch.setattr(downloader, "LEASE_RENEW_SECONDS", 0.2)
    real = downloader.download
    beats: list[list[str]] = []
    real_keep = downloader.Downloader._keep_leases

    async def keep(self: downloader.Downloader) -> None:
        original = self.leases.renew

        def renew(job_ids: list[str]) -> None:
            beats.append(list(job_ids))
            original(job_ids)

        self.leases.renew = renew  # type: ignore[method-assign]
        try:
            await real_keep(self)
        finally:
            self.leases.renew = original  # type: ignore[method-assign]

    async def slow(*args: Any, **kw: Any) -> int:
        await asyncio.sleep(1.0)  # the others finish rendering meanwhile and wait for the slot
        return await real(*args, **kw)

    monkeypatch.setattr(downloader.Downloader, "_keep_leases", keep)
    monkeypatch.setattr(downloader, "download", slow)
    emu = Emulator(tmp_path / "emu", queued_seconds=0.2, running_seconds=0.3).start()

    async def after() -> None:
        during = len(beats)
        await asyncio.sleep(0.6)  # a beat still running would renew again here
        assert len(beats) == during, beats[during:]

    try:
        jobs = asyncio.run(_finish_jobs(emu, tmp_path / "w", "wait", 3, after))
    finally:
        emu.stop()
    assert all(j.status == "succeeded" for j in jobs)
    assert max(len(b) for b in beats) >= 2, beats  # several downloads in one renewal
    assert {j for b in beats for j in b} == {j.id for j in jobs}  # every one held


def test_a_disk_that_falls_behind_does_not_hold_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(downloader, "_slow_disk_until", 0.0, raising=False)
    # every write to a video's .part file takes 0.3 s (the kernel holding a writer while the
    # disk catches up): after the first, the writes leave the loop, which keeps ticking, and
    # the videos still arrive whole
    real_open = Path.open

    class SlowDisk:
        def __init__(self, f: Any) -> None:
            self.f = f

        def __enter__(self) -> SlowDisk:
            return self

        def __exit__(self, *exc: object) -> None:
            self.f.close()

        def write(self, data: bytes) -> int:
            time.sleep(0.3)
            return int(self.f.write(data))

        def writelines(self, pieces: list[bytes]) -> None:
            time.sleep(0.3)
            self.f.writelines(pieces)

        def fileno(self) -> int:
            return int(self.f.fileno())

        def close(self) -> None:
            self.f.close()

    def slow_open(self: Path, mode: str = "r", *args: Any, **kw: Any) -> Any:
        f = real_open(self, mode, *args, **kw)
        writing = self.name.endswith(".mp4.part") and mode in ("wb", "ab")
        return SlowDisk(f) if writing else f

    monkeypatch.setattr(Path, "open", slow_open)
    gaps: list[float] = []

    async def ticking() -> None:
        loop = asyncio.get_running_loop()
        last = loop.time()
        while True:
            await asyncio.sleep(0.01)
            gaps.append(loop.time() - last)
            last = loop.time()

    emu = Emulator(tmp_path / "emu", queued_seconds=0.1, running_seconds=0.2).start()

    async def main() -> list[sd.Job]:
        ticker = asyncio.get_running_loop().create_task(ticking())
        try:
            return await _finish_jobs(emu, tmp_path / "w", "disk", 2)
        finally:
            ticker.cancel()

    try:
        jobs = asyncio.run(main())
    finally:
        emu.stop()
    assert all(j.status == "succeeded" and j.video_path and j.video_path.exists() for j in jobs)
    assert all(j.video_path.read_bytes()[4:8] == b"ftyp" for j in jobs if j.video_path)
    # the first slow write tells; after it, none holds the loop
    stalls = [g for g in gaps if g > 0.2]
    assert len(stalls) <= 1, f"the loop stood still {len(stalls)} times: {stalls}"


def test_after_a_failed_write_nothing_is_written_past_the_gap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the disk is behind (writes on a worker thread) and one write fails (disk full): the
    # pieces queued behind it must not land after the gap, or a resume would build a video
    # with a hole in it from the .part file's size
    monkeypatch.setattr(downloader, "_slow_disk_until", time.monotonic() + 60)
    landed: list[bytes] = []

    class FullDisk:
        def writelines(self, pieces: list[bytes]) -> None:
            if not landed:
                landed.append(b"<gap>")
                time.sleep(0.1)  # the next piece arrives while this write is out
                raise OSError(28, "No space left on device")
            landed.extend(pieces)

    async def main() -> None:
        disk = downloader._Disk(FullDisk())
        await disk.write(b"first")  # on a worker thread: it fails there, a moment later
        await disk.write(b"second")  # queued behind it
        await disk.drain()  # the stream ended: the failure goes up, "second" stays unwritten

    with pytest.raises(OSError, match="No space"):
        asyncio.run(main())
    assert landed == [b"<gap>"]


async def _finish_jobs(
    emu: Emulator,
    workdir: Path,
    tag: str,
    count: int,
    after: Callable[[], Awaitable[None]] | None = None,
) -> list[sd.Job]:
    """Submit ``count`` jobs on one client, wait for all of them, then run ``after`` on it."""
    async with sd.AsyncClient(
        provider="emulator", base_url=emu.base_url + "/api/v3", workdir=workdir
    ) as client:
        jobs = [
            await client.submit(f"{tag} {i}", duration=4, resolution="480p") for i in range(count)
        ]
        await asyncio.gather(*(j.wait_async(60) for j in jobs))
        if after is not None:
            await after()
        return jobs
