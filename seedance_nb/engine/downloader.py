"""Streaming a finished video to disk: constant memory, resumable, atomic, size-capped.

The signed URL goes to a CDN, so no API key is ever attached here. The file appears under
its final name only when complete (``.part`` + rename), so "the file exists" means "done".
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx

from ..errors import DownloadCapExceeded, DownloadError

CHUNK = 1 << 20  # no longer used for re-chunking (see below); kept for importers
DEFAULT_MAX_BYTES = 4 * 1024**3
# Flush to disk in the background every this many bytes: the disk works while the network
# does, and the final fsync is short (the page cache would otherwise hold the whole file).
SYNC_EVERY = 32 << 20


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
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
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
            mode = "ab" if have else "wb"
            with part.open(mode, buffering=0) as f:
                written, unsynced = have, 0
                syncing: asyncio.Future[None] | None = None
                try:
                    # each piece is written as it arrives: no re-chunking copy, and a cut
                    # loses nothing that was received
                    async for chunk in response.aiter_bytes():
                        written += len(chunk)
                        if written > max_bytes:
                            raise DownloadCapExceeded(f"video exceeds the {max_bytes:,}-byte cap")
                        f.write(chunk)
                        unsynced += len(chunk)
                        if unsynced >= SYNC_EVERY and (syncing is None or syncing.done()):
                            syncing = asyncio.ensure_future(
                                asyncio.to_thread(os.fdatasync, f.fileno())
                            )
                            unsynced = 0
                finally:
                    if syncing is not None:
                        await asyncio.gather(syncing, return_exceptions=True)
                # off the event loop: an fsync can take a while on a busy disk
                await asyncio.to_thread(os.fsync, f.fileno())
    except httpx.HTTPError as exc:
        raise DownloadError(
            f"download interrupted ({exc.__class__.__name__}); will resume"
        ) from None
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


def _total(response: httpx.Response, have: int) -> int | None:
    if response.status_code == 206:
        content_range = response.headers.get("content-range", "")
        if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
            return int(content_range.rsplit("/", 1)[1])
    length = response.headers.get("content-length")
    if length and length.isdigit():
        return int(length) + (have if response.status_code == 206 else 0)
    return None
