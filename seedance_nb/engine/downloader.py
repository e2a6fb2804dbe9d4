"""Streaming a finished video to disk: constant memory, resumable, atomic, size-capped.

The signed URL goes to a CDN, so no API key is ever attached here. The file appears under
its final name only when complete (``.part`` + rename), so "the file exists" means "done".
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from .. import errors
from ..errors import DownloadCapExceeded, DownloadError
from ..providers.task import TaskState
from .job import Job, Phase
from .leases import LEASE_RENEW_SECONDS, Leases
from .loop_share import RENEW_SLICE, sliced
from .state import EngineState
from .storage import Storing

log = logging.getLogger("seedance_nb")

MP4_MAGIC = b"ftyp"
DOWNLOAD_ATTEMPTS = 8  # in a row without progress, before the download is parked for later
DOWNLOAD_PARK_SECONDS = 60.0

CHUNK = 1 << 20  # no longer used for re-chunking (see below); kept for importers
DEFAULT_MAX_BYTES = 4 * 1024**3
# Flush to disk in the background every this many bytes: the disk works while the network
# does, and the final fsync is short (the page cache would otherwise hold the whole file).
SYNC_EVERY = 32 << 20
SLOW_WRITE = 0.005  # seconds: a write into the page cache this slow means the disk is behind
SLOW_DISK_SECONDS = 30.0  # then writes go to a worker thread for this long
QUEUED_BYTES = 2 << 20  # received bytes waiting for the disk meanwhile, at most, per download
# Transfers at once per client: a thousand videos finishing together queue here instead of
# in the connection pool, so the event loop serves a bounded number of streams per turn. Each
# stream costs the loop ~0.4 ms per chunk it brings; 16 streams on loopback kept every turn
# busy for ~6 ms (1,000-job loop lag p99 9.5 ms), 4 for ~1.5 ms (5.7 ms) with every video
# still on disk as fast as Ark finished them. A CDN serves each stream at tens of MB/s, so
# four already fill most links.
DOWNLOAD_SLOTS = 4


class URLExpired(DownloadError):
    """The signed URL no longer works (403/404/410): re-read the task for a fresh one."""


async def download(
    client: httpx.AsyncClient,
    url: str,
    dest: Path,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    expect: bytes | None = None,
) -> int:
    """Fetch ``url`` into ``dest``; resume a ``.part`` left by a cut; return the size."""
    if not url.lower().startswith(("http://", "https://")):
        raise DownloadError(f"refusing to download from a non-http URL: {url[:40]!r}")
    part = dest.with_name(dest.name + ".part")
    have = await asyncio.to_thread(_resume_point, part)
    headers = {"Range": f"bytes={have}-"} if have else {}
    try:
        async with client.stream("GET", url, headers=headers) as response:
            if response.status_code in (401, 403, 404, 410):
                raise URLExpired(f"download refused with HTTP {response.status_code}")
            if response.status_code == 416 and have:
                part.unlink(missing_ok=True)
                raise DownloadError("server refused the resume range; starting over")
            if response.status_code >= 400:
                raise DownloadError(f"download failed with HTTP {response.status_code}")
            if response.status_code == 200:
                have = 0  # the server ignored the range: start again
            total = _total(response, have)
            if total is not None and total > max_bytes:
                raise DownloadCapExceeded(
                    f"video is {total:,} bytes, over the {max_bytes:,}-byte cap"
                )
            await _write_body(response, part, have, max_bytes)
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"download interrupted ({exc.__class__.__name__}); will resume"
        ) from None
    return await asyncio.to_thread(_complete, part, dest, total, expect)


# The file system's part of a download runs on a worker thread: a thousand videos finishing
# together are a thousand opens, stats and renames, each a system call that can wait on a busy
# disk, and the notebook's event loop must not wait with them.


def _resume_point(part: Path) -> int:
    """Bytes of ``part`` already on disk (its folder made if need be)."""
    part.parent.mkdir(parents=True, exist_ok=True)
    return _size(part)


def _size(part: Path) -> int:
    return part.stat().st_size if part.exists() else 0


def _complete(part: Path, dest: Path, total: int | None, expect: bytes | None) -> int:
    """Check ``part`` (whole, the expected format) and give it its final name; its size."""
    size = part.stat().st_size
    if total is not None and size != total:
        raise DownloadError(f"download incomplete: {size:,} of {total:,} bytes; will resume")
    if expect is not None:
        with part.open("rb") as f:
            head = f.read(16)
        if expect not in head:
            part.unlink(missing_ok=True)
            raise DownloadError("the downloaded file is not the expected format")
    os.replace(part, dest)
    return size


async def _write_body(response: httpx.Response, part: Path, have: int, max_bytes: int) -> None:
    """Append the body to ``part`` as it arrives; flush to disk in the background."""
    mode = "ab" if have else "wb"
    with await asyncio.to_thread(part.open, mode, buffering=0) as f:
        disk = _Disk(f)
        written, unsynced = have, 0
        syncing: asyncio.Future[None] | None = None
        try:
            async for chunk in response.aiter_bytes():
                written += len(chunk)
                if written > max_bytes:
                    raise DownloadCapExceeded(f"video exceeds the {max_bytes:,}-byte cap")
                await disk.write(chunk)
                unsynced += len(chunk)
                if unsynced >= SYNC_EVERY and (syncing is None or syncing.done()):
                    syncing = asyncio.ensure_future(asyncio.to_thread(os.fdatasync, f.fileno()))
                    unsynced = 0
        finally:
            await disk.drain()  # a cut keeps every byte received: the resume starts after it
            if syncing is not None:
                await asyncio.gather(syncing, return_exceptions=True)
        # off the event loop: an fsync can take a while on a busy disk
        await asyncio.to_thread(os.fsync, f.fileno())


_slow_disk_until = 0.0  # monotonic time until which video writes go to a worker thread


class _Disk:
    """Writes a download's pieces: on the loop while the disk keeps up, else on a thread.

    A write into the page cache takes microseconds, so each piece is written as it arrives,
    on the loop (a worker thread per piece would cost a third of the throughput). When the
    disk falls behind, the kernel holds the writer for up to hundreds of milliseconds, and
    that writer must not be the notebook's event loop: after one write that slow, every
    download writes on a worker thread for ``SLOW_DISK_SECONDS``, the pieces that arrive
    meanwhile going together in the next write (at most ``QUEUED_BYTES`` wait)."""

    def __init__(self, f: Any) -> None:
        self.f = f
        self.queued: list[bytes] = []
        self.queued_bytes = 0
        self.writing: asyncio.Future[None] | None = None

    async def write(self, chunk: bytes) -> None:
        global _slow_disk_until
        started = time.monotonic()
        if started >= _slow_disk_until and self.writing is None:
            self.f.write(chunk)
            if time.monotonic() - started > SLOW_WRITE:
                _slow_disk_until = time.monotonic() + SLOW_DISK_SECONDS
                log.info("the disk is falling behind: video writes leave the event loop")
            return
        self.queued.append(chunk)
        self.queued_bytes += len(chunk)
        if self.writing is not None and not self.writing.done():
            if self.queued_bytes < QUEUED_BYTES:
                return
            await self.writing  # the disk sets the pace; memory stays bounded
        self._next()

    def _next(self) -> None:
        if self.writing is not None:
            self.writing.result()  # a failed write goes up here
        pieces, self.queued, self.queued_bytes = self.queued, [], 0
        self.writing = asyncio.ensure_future(asyncio.to_thread(self.f.writelines, pieces))

    async def drain(self) -> None:
        """Every piece received onto disk (before an fsync, or a cut goes up)."""
        if self.writing is None:
            return
        await asyncio.gather(self.writing, return_exceptions=True)
        self.writing.result()  # a failed write goes up: nothing is written after a gap
        if self.queued:
            await asyncio.to_thread(self.f.writelines, self.queued)


def _total(response: httpx.Response, have: int) -> int | None:
    if response.status_code == 206:
        content_range = response.headers.get("content-range", "")
        if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
            return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("content-length")
    if length and length.isdigit():
        return int(length) + (have if response.status_code == 206 else 0)
    return None


class Downloader:
    """Brings a succeeded task's video (and last frame) to disk, then settles the job."""

    def __init__(
        self,
        state: EngineState,
        leases: Leases,
        track: Callable[[Job], None],
        storing: Storing | None = None,
    ) -> None:
        self.state = state
        self.leases = leases
        self.track = track  # a parked download is handed back here later
        self.storing = storing  # the object store's part, if the client has a store
        self._slots: asyncio.Semaphore | None = None
        self._heartbeat: asyncio.Task[None] | None = None

    async def run(self, job: Job, state: TaskState | None) -> None:
        """Download ``job``'s video once at a time, holding its lease throughout."""
        if job.id in self.state.downloading:
            return
        self.state.downloading.add(job.id)
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = self.state.spawn(self._keep_leases())
        try:
            await self._run(job, state)
        finally:
            self.state.downloading.discard(job.id)

    async def _keep_leases(self) -> None:
        """Hold the leases of every download of this client (waiting for a slot or
        streaming), so no other client starts a second one: one heartbeat renews them all,
        a slice per turn of the loop. A download starts with a lease taken or renewed moments
        before (good for ``LEASE_SECONDS``), so the first renewal can wait a beat; a
        thousand videos finishing together then cost no write each as they start."""
        while self.state.downloading:
            await asyncio.sleep(LEASE_RENEW_SECONDS)
            await sliced(sorted(self.state.downloading), RENEW_SLICE, self.leases.renew)

    async def _run(self, job: Job, state: TaskState | None) -> None:
        folder = self.state.workdir / "videos"
        part = folder / f"{job.id}.mp4.part"
        failures = 0
        while True:
            have = await asyncio.to_thread(_size, part)
            try:
                if state is None:
                    state = await self._read(job)
                if self._slots is None:
                    self._slots = asyncio.Semaphore(DOWNLOAD_SLOTS)
                async with self._slots:  # the lease's heartbeat runs while it waits
                    await self._fetch(job, state, folder)
                break
            except URLExpired:
                self.state.fault_seen(job, "download")
                state = None  # re-read the task for a fresh signed URL
                failures += 1
            except DownloadCapExceeded as exc:
                self.state.forget_fault(job)
                self._fail(job, exc)
                return
            except (
                errors.DownloadError,
                errors.APIError,
                errors.APIConnectionError,
                errors.BadResponseError,
            ) as exc:
                self.state.fault_seen(job, "download")
                log.warning("download of %s failed (%s); retrying", job.id, exc)
                grew = await asyncio.to_thread(_size, part) > have
                failures = 0 if grew else failures + 1  # a cut that made progress is not a failure
                await asyncio.sleep(min(30.0, 0.25 * 2**failures))
            if failures >= DOWNLOAD_ATTEMPTS:
                self._park(job)
                return
        assert state is not None
        await asyncio.to_thread(self._write_sidecar, job, state, folder)
        # once every file is complete on disk; still "downloading", so a client killed
        # mid-upload leaves the job to the next one
        stored = await self.storing.upload(job, folder) if self.storing is not None else {}
        self._finish(job, state, folder, stored)

    async def _read(self, job: Job) -> TaskState:
        """The task as the provider shows it now (a fresh signed URL, say)."""
        http, dialect = self.state.http, self.state.dialect
        assert http is not None
        return dialect.parse_task(await http.call(dialect.get_call(str(job.task_id))))

    async def _fetch(self, job: Job, state: TaskState, folder: Path) -> None:
        """One attempt: fetch what is not on disk yet."""
        files = self.state.files
        assert self.state.http is not None and files is not None
        if state.video_url is None:
            raise errors.DownloadError(
                f"{self.state.provider.name} reported success without a video URL"
            )
        video = folder / f"{job.id}.mp4"
        frame = folder / f"{job.id}.last-frame.png"
        if not video.exists():
            cap = self.state.max_download_bytes
            await download(files, state.video_url, video, max_bytes=cap, expect=MP4_MAGIC)
        if state.last_frame_url and not frame.exists():
            await download(
                files, state.last_frame_url, frame, max_bytes=64 * 1024 * 1024, expect=b"PNG"
            )

    def _park(self, job: Job) -> None:
        """Too many failures in a row: try again in a while, from the scheduler."""
        log.error("could not download %s yet; trying again in %.0fs", job.id, DOWNLOAD_PARK_SECONDS)
        self.state.update(job, phase=Phase.DOWNLOADING)
        assert self.state.loop is not None
        self.state.loop.call_later(DOWNLOAD_PARK_SECONDS, self.track, job)

    def _write_sidecar(self, job: Job, state: TaskState, folder: Path) -> None:
        """The provider's payload beside the video, written whole or not at all."""
        payload = {
            "job": job.id,
            "provider": self.state.provider.name,
            "task_id": job.task_id,
            "request": job.request.model_dump(mode="json"),
            "response": state.raw,
        }
        sidecar = folder / f"{job.id}.json"
        tmp = sidecar.with_suffix(".json.part")
        tmp.write_text(json.dumps(payload, indent=2, default=str))
        os.replace(tmp, sidecar)

    def _finish(self, job: Job, state: TaskState, folder: Path, stored: dict[str, Any]) -> None:
        """Settle the job as succeeded with its files (and where the store holds them)."""
        fields: dict[str, Any] = {
            **stored,
            "phase": Phase.DONE,
            "status": "succeeded",
            "finished_at": time.time(),
            "video_path": str(folder / f"{job.id}.mp4"),
            "raw_json": state.raw,
            "progress": 1.0,
        }
        frame = folder / f"{job.id}.last-frame.png"
        if frame.exists():
            fields["last_frame_path"] = str(frame)
        if state.usage is not None:
            fields["usage_json"] = state.usage.as_dict()
        if state.seed is not None:
            fields["seed"] = state.seed
        self.state.update(job, **fields)
        self.state.recovered(job)

    def _fail(self, job: Job, exc: Exception) -> None:
        error = {"code": "DownloadFailed", "message": str(exc)}
        self.state.update(
            job, phase=Phase.DONE, status="failed", finished_at=time.time(), error_json=error
        )
