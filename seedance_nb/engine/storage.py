"""Videos in object storage: every finished file is also written to a store, through fsspec.

``Client(storage="s3://bucket/prefix")`` (or ``SEEDANCE_STORAGE``) mirrors the workdir's
``videos/`` folder into the store: ``<prefix>/<job>.mp4``, ``<job>.last-frame.png`` and
``<job>.json``, each named by the job id. The local copy stays the cache notebooks play from.

**A temporary key, then a move.** fsspec's stores differ in when a written object becomes
visible: S3 and GCS when the writer closes, ``memory://`` when it opens, a local folder as it
grows. Writing to ``<key>.uploading-<nonce>``, checking its size, then moving it gives every
store one promise: the final key holds the complete object or nothing. On S3 the temporary
object is itself a multipart upload (parts of :data:`BLOCK` bytes, so memory stays near two
blocks whatever the size) that nobody can see until it completes; a cut leaves at most an
incomplete multipart upload, which the failure path aborts (a bucket lifecycle rule reclaims
one left by a killed process). The move is a server-side copy: no byte is sent twice. A
line that drops between the move's copy and its delete leaves a complete temporary copy
beside the final object; the next successful store of that file sweeps it away.

**Idempotent.** The ledger records the video's URL once all three files are stored, and a
recorded job is never uploaded again. Before sending a file, the final key is looked up: an
object there of the local file's size is this job's (keys are job ids, and only a complete
temporary object is ever moved there), so it is not sent again. ETags are not compared: a
multipart ETag depends on the part size, so it is no content hash to check against.

**Credentials** come from where fsspec and s3fs find them (the environment, AWS profiles,
``storage_options``) and go to the filesystem only: a URL with credentials in it is refused,
the repr shows the URL alone, and every failure is told by :meth:`Store.reason`, which strips
every known secret.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..errors import ConfigurationError, SeedanceError
from .job import Job
from .leases import LEASE_RENEW_SECONDS, Leases
from .settings import storage_setting
from .state import EngineState

log = logging.getLogger("seedance_nb")
T = TypeVar("T")

BLOCK = 8 << 20  # the multipart part size (S3's minimum is 5 MiB)
CHUNK = 1 << 20  # read from disk this much at a time
TEMP = ".uploading-"
SECRET_ENVS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")
_SECRET_WORDS = ("key", "secret", "token", "password", "credential")
# S3 answers a refused HEAD with a bare 403 or 404: say what that usually means
_HINTS = {
    PermissionError: "the store refused these credentials, or they may not write there",
    FileNotFoundError: "is the bucket there?",
}


class StoreError(SeedanceError):
    """An object store refused or lost a file; its message names no credential."""


def _clean_url(url: str) -> str:
    """The store's URL without a trailing slash; refused if it carries credentials."""
    url = str(url).strip().rstrip("/")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        where = f"{parts.scheme}://…@{parts.netloc.rsplit('@', 1)[1]}"
        raise ConfigurationError(
            f"the storage URL {where} has credentials in it: put them in the environment, "
            "an AWS profile or storage_options instead"
        )
    if "://" not in url:
        raise ConfigurationError(
            f"storage must be an fsspec URL such as s3://bucket/prefix, not {url[:60]!r}"
        )
    return url


def _check_installed(url: str) -> None:
    """Fail at construction, not at the first upload, when the store's package is missing."""
    try:
        import fsspec
    except ImportError:
        raise ConfigurationError(
            "storage needs fsspec (and s3fs for S3): pip install 'seedance-nb[storage]'"
        ) from None
    protocol = url.split("://", 1)[0]
    try:
        fsspec.get_filesystem_class(protocol)
    except (ImportError, ValueError) as exc:
        raise ConfigurationError(f"storage {protocol}:// is not available here: {exc}") from None


def _secret_values(options: Any) -> Iterator[str]:
    """The values of option keys that look like credentials, in nested dicts too."""
    if isinstance(options, dict):
        for key, value in options.items():
            if isinstance(value, str) and any(w in str(key).lower() for w in _SECRET_WORDS):
                yield value
            else:
                yield from _secret_values(value)


class Store:
    """One object store (an fsspec URL and its options); its methods block: run them in a
    worker thread. Safe to share between threads."""

    def __init__(self, url: str, options: dict[str, Any] | None = None) -> None:
        self.url = _clean_url(url)
        self._options = dict(options or {})
        _check_installed(self.url)
        self._fs: Any = None
        self._root = ""
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<Store {self.url}>"

    def _filesystem(self) -> tuple[Any, str]:
        """The filesystem, made on first use (never cached across clients: credentials set
        after an earlier client are found by a new one)."""
        with self._lock:
            if self._fs is None:
                import fsspec

                fs, root = fsspec.core.url_to_fs(
                    self.url, skip_instance_cache=True, **self._options
                )
                self._fs, self._root = fs, root.rstrip("/")
        return self._fs, self._root

    def url_of(self, name: str) -> str:
        return f"{self.url}/{name}"

    def has(self, name: str, size: int) -> bool:
        """Whether the final key holds a complete copy (an object of ``size`` bytes)."""
        fs, root = self._filesystem()
        path = f"{root}/{name}"
        fs.invalidate_cache(path)
        try:
            info = fs.info(path)
        except FileNotFoundError:
            return False
        return info.get("type", "file") == "file" and info.get("size") == size

    def put(self, local: Path, name: str) -> str:
        """Store ``local`` as ``name`` unless a complete copy is there; returns its URL."""
        size = local.stat().st_size
        fs, root = self._filesystem()
        final = f"{root}/{name}"
        if not self.has(name, size):
            temp = f"{final}{TEMP}{uuid.uuid4().hex[:8]}"
            try:
                _write(fs, local, temp)
                fs.invalidate_cache(temp)
                got = fs.info(temp).get("size")
                if got != size:
                    raise StoreError(f"the store holds {got} of {size:,} bytes of {name}")
                fs.mv(temp, final)
            except BaseException:
                with contextlib.suppress(Exception):
                    fs.rm(temp)
                raise
        _sweep(fs, final)
        return self.url_of(name)

    def get(self, name: str, local: Path) -> None:
        """Fetch ``name`` back to ``local``, which appears only once complete."""
        fs, root = self._filesystem()
        local.parent.mkdir(parents=True, exist_ok=True)
        part = local.with_name(local.name + ".fetching")
        try:
            with fs.open(f"{root}/{name}", "rb", block_size=BLOCK) as src, part.open("wb") as dst:
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                dst.flush()
                os.fsync(dst.fileno())
            os.replace(part, local)
        finally:
            part.unlink(missing_ok=True)

    def reason(self, exc: BaseException) -> str:
        """``exc`` in one line fit for the ledger, a log and a view: known secrets removed."""
        text = " ".join(f"{type(exc).__name__}: {exc}".split())
        for kind, hint in _HINTS.items():
            if isinstance(exc, kind):
                text += f" ({hint})"
                break
        secrets = [*_secret_values(self._options), *(os.environ.get(e) for e in SECRET_ENVS)]
        fs = self._fs
        secrets += [getattr(fs, "key", None), getattr(fs, "secret", None)]
        for secret in secrets:
            if isinstance(secret, str) and len(secret) >= 4:
                text = text.replace(secret, "***")
        return text if len(text) <= 300 else text[:299] + "…"


def _sweep(fs: Any, final: str) -> None:
    """Remove temporary copies an earlier attempt could not (the line dropped between the
    move's copy and its delete): complete objects, but clutter beside the final one."""
    with contextlib.suppress(Exception):
        fs.invalidate_cache()
        for leftover in fs.glob(f"{final}{TEMP}*"):
            fs.rm(leftover)


def _write(fs: Any, local: Path, path: str) -> None:
    """Stream ``local`` to ``path`` in chunks; on any failure abort, never commit a part."""
    f = fs.open(path, "wb", block_size=BLOCK)
    try:
        with local.open("rb") as src:
            while chunk := src.read(CHUNK):
                f.write(chunk)
    except BaseException:
        with contextlib.suppress(Exception):
            f.discard()  # S3: aborts the multipart upload
        with contextlib.suppress(Exception):
            f.closed = True  # so garbage collection does not close, i.e. commit, the part
        raise
    f.close()


def open_store(storage: str | None, options: dict[str, Any] | None) -> Store | None:
    """The client's store: the arguments, else ``SEEDANCE_STORAGE`` and
    ``SEEDANCE_STORAGE_OPTIONS`` (see :func:`settings.storage_setting`); None without one."""
    url, opts = storage_setting(storage, options)
    return Store(url, opts) if url else None


class Storing:
    """The engine's part that stores a finished job's files, retries failed uploads and
    fetches a video back when its local copy is gone.

    An upload runs while the job is still ``downloading`` and under its lease, so a client
    killed mid-upload leaves the job to the next one, which finds the files on disk and
    uploads them. A failed upload never fails the job: it settles ``done`` with the reason in
    ``store_error`` ("stored locally only"), and every ``resume()`` tries again until it works.
    """

    def __init__(self, state: EngineState, leases: Leases, store: Store | None) -> None:
        self.state = state
        self.leases = leases
        self.store = store
        self.busy: set[str] = set()  # jobs whose upload or fetch runs in this client
        self._pool: ThreadPoolExecutor | None = None

    @property
    def url(self) -> str | None:
        return self.store.url if self.store is not None else None

    async def _blocking(self, fn: Callable[..., T], *args: Any) -> T:
        """Run a store call on threads of its own: a slow store never holds back the
        downloader's fsyncs in the loop's default executor."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="seedance-store")
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def upload(self, job: Job, folder: Path) -> dict[str, Any]:
        """Store the job's files (the video last); returns the ledger fields that say how it
        went: ``stored_url``, or ``store_error`` with a secret-free reason. Never raises."""
        store = self.store
        if store is None:
            return {}
        names = (f"{job.id}.last-frame.png", f"{job.id}.json", f"{job.id}.mp4")
        if not (folder / names[-1]).exists():  # a retry after the local copy was deleted
            return {"stored_url": None, "store_error": "the local video file is gone"}
        try:
            url = None
            for name in names:
                path = folder / name
                if path.exists():
                    url = await self._blocking(store.put, path, name)
        except Exception as exc:
            why = store.reason(exc)
            log.warning(
                "could not store %s in %s (%s); it is kept locally and resume() tries again",
                job.id,
                store.url,
                why,
            )
            return {"stored_url": None, "store_error": why}
        log.info("stored %s at %s", job.id, url)
        return {"stored_url": url, "store_error": None}

    def retry_all(self) -> None:
        """Try again every finished video whose upload failed (any route of this ledger)."""
        if self.store is None or self.state.loop is None:
            return
        for row in self.state.ledger.unstored():
            if row["id"] not in self.busy:
                self.state.spawn(self.retry(self.state.job_from_row(row)))

    async def retry(self, job: Job) -> None:
        """One more upload of a settled job, holding its lease so no other client uploads it
        at the same moment."""
        if job.id in self.busy or not self.leases.take(job.id):
            return
        self.busy.add(job.id)
        heartbeat = self.state.spawn(self._hold(job.id))
        try:
            video = job.video_path or self.state.workdir / "videos" / f"{job.id}.mp4"
            self.state.update(job, **await self.upload(job, video.parent))
        finally:
            heartbeat.cancel()
            self.busy.discard(job.id)

    async def _hold(self, job_id: str) -> None:
        while True:
            self.leases.renew([job_id])
            await asyncio.sleep(LEASE_RENEW_SECONDS)

    async def restore(self, job: Job) -> Job:
        """Fetch a stored video (and its last frame) back into this workdir when its local
        copy is gone; a failing store is logged, and the job still says where it lives."""
        store, url = self.store, job.stored_url
        if store is None or url is None or not url.startswith(store.url + "/"):
            return job
        if job.id in self.busy or (job.video_path is not None and job.video_path.exists()):
            return job
        video = self.state.workdir / "videos" / f"{job.id}.mp4"
        frame = video.with_name(f"{job.id}.last-frame.png")
        self.busy.add(job.id)
        try:
            if not video.exists():
                await self._blocking(store.get, url[len(store.url) + 1 :], video)
            if job.last_frame_path is not None and not frame.exists():
                with contextlib.suppress(FileNotFoundError):
                    await self._blocking(store.get, frame.name, frame)
            log.info("fetched %s back from %s", job.id, store.url)
        except Exception as exc:
            why = store.reason(exc)
            log.warning("could not fetch %s back from %s (%s)", job.id, store.url, why)
            return job
        finally:
            self.busy.discard(job.id)
        paths = {"video_path": str(video)}
        if frame.exists():
            paths["last_frame_path"] = str(frame)
        self.state.update(job, **paths)
        return job

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
