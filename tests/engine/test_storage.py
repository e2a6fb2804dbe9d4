"""Videos in object storage: real S3 (moto's server on loopback), real cuts, real refusals.

Every finished MP4, last frame and sidecar is also written to the store under the job id;
a re-run never uploads twice; a cut or a refusal never loses the video (the job says "stored
locally only" and ``resume()`` stores it later); credentials never show; a video whose local
copy is gone comes back from the store. ``memory://`` covers the fast unit cases.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import client_kwargs
from storage_support import CutProxy, S3Server, start_s3

import seedance_nb as sd
from seedance_nb.display import job_html, job_text
from seedance_nb.emulator import Emulator
from seedance_nb.engine import storage
from seedance_nb.engine.ledger import SCHEMA, Ledger
from seedance_nb.engine.storage import Store
from seedance_nb.errors import ConfigurationError
from seedance_nb.jupyter.history import text_table

M10 = "seedance-1.0-pro"  # 2 s silent clips: the cheapest real renders
REQUEST: dict[str, Any] = {"model": M10, "duration": 2, "resolution": "480p"}
# fail fast against a store that is down: one botocore attempt per s3fs retry
CUTS = "SEEDANCE_STORAGE_CUTS"
FAST_FAIL = {"config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 2}}


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = start_s3(tmp_path_factory.mktemp("moto"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Credentials from the environment, as a user has them; no profile file of the machine."""
    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in ("SEEDANCE_STORAGE", "SEEDANCE_STORAGE_OPTIONS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAMOTOTESTING00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "moto-testing-secret-not-a-real-one")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def bucket(s3: S3Server) -> str:
    """A fresh, versioned bucket: its object versions count the PUTs that landed."""
    name = f"videos-{uuid.uuid4().hex[:10]}"
    client = s3.client()
    client.create_bucket(Bucket=name)
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.fixture
def few_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    import s3fs

    monkeypatch.setattr(s3fs.S3FileSystem, "retries", 2)


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)
    return value


def versions(s3: S3Server, bucket: str, key: str) -> int:
    got = s3.client().list_object_versions(Bucket=bucket, Prefix=key)
    return len([v for v in got.get("Versions", []) if v["Key"] == key])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ------------------------------------------------------------------------------ the happy path


def test_a_finished_video_lands_in_the_bucket_byte_identical(
    emulator: Emulator, s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    url = f"s3://{bucket}/team/videos"
    options = {"endpoint_url": s3.endpoint}
    kw = client_kwargs(emulator, tmp_path / "w")
    with sd.Client(**kw, storage=url, storage_options=options) as client:
        job = client.generate("a kite over dunes", **REQUEST, return_last_frame=True, timeout=60)
        assert job.stored_url == f"{url}/{job.id}.mp4" and job.store_error is None
        row = client.ledger.get(job.id)
        assert row is not None and row["stored_url"] == job.stored_url
        (listed,) = client.jobs()
        assert listed.stored_url == job.stored_url  # client.jobs() says where it lives
        assert f"stored at {job.stored_url}" in job_text(job)
        assert job.stored_url in job_html(job) and f"stored={job.stored_url}" in repr(job)
        table = text_table(client.jobs())
        assert table.splitlines()[0].split()[-1] == "stored" and job.stored_url in table
        assert repr(client).endswith(f"storage={url}>")
    names = [f"{job.id}{suffix}" for suffix in (".json", ".last-frame.png", ".mp4")]
    assert s3.keys(bucket) == [f"team/videos/{n}" for n in names]  # no temporary key left
    for name in names:
        local = job.video_path.parent / name
        assert s3.body(bucket, f"team/videos/{name}") == local.read_bytes()
    assert job.video_path.is_file()  # the local copy stays the cache notebooks play from


def test_without_storage_nothing_changes(emulator: Emulator, tmp_path: Path) -> None:
    with sd.Client(**client_kwargs(emulator, tmp_path / "w")) as client:
        job = client.generate("a kite", **REQUEST, timeout=60)
        assert client.storage is None and "storage=" not in repr(client)
        assert job.stored_url is None and job.store_error is None
        assert "stored" not in job_text(job) + repr(job) + text_table([job])


def test_storage_from_the_environment_with_the_standard_endpoint_variable(
    emulator: Emulator, s3: S3Server, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_STORAGE", f"s3://{bucket}/env")
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3.endpoint)  # botocore's own variable
    with sd.Client(**client_kwargs(emulator, tmp_path / "w")) as client:
        assert client.storage == f"s3://{bucket}/env"
        job = client.generate("a kite from the environment", **REQUEST, timeout=60)
    assert s3.body(bucket, f"env/{job.id}.mp4") == job.video_path.read_bytes()


# ------------------------------------------------------------------------------ idempotent


def test_a_rerun_never_uploads_twice(
    emulator: Emulator, s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    kw = client_kwargs(emulator, tmp_path / "w")
    store = {"storage": f"s3://{bucket}/p", "storage_options": {"endpoint_url": s3.endpoint}}
    with sd.Client(**kw, **store) as first:
        job = first.generate("one take only", **REQUEST, timeout=60)
    key = f"p/{job.id}.mp4"
    puts = s3.puts(f"/{bucket}/")
    assert puts >= 2 and versions(s3, bucket, key) == 1  # the temporary PUT, the move's copy
    with sd.Client(**kw, **store) as second:
        again = second.generate("one take only", **REQUEST, timeout=60)
        assert again.reused and again.id == job.id and again.stored_url == job.stored_url
        second.resume()
        time.sleep(0.5)
    # the ledger lost the record (a crash between the move and the write): the object is
    # found complete under its key, and recorded without a byte sent
    with sd.Client(**kw, **store) as third:
        third.ledger.update(job.id, stored_url=None, store_error="simulated lost write")
        third.resume()
        wait_for(lambda: (third.ledger.get(job.id) or {}).get("stored_url"))
        assert third.get_job(job.id).store_error is None
    assert s3.puts(f"/{bucket}/") == puts and versions(s3, bucket, key) == 1


def test_an_upload_streams_in_constant_memory(s3: S3Server, bucket: str, tmp_path: Path) -> None:
    """A 64 MiB file goes up with at most a few parts in memory (measured: ≈ 26 MiB for 16
    MiB and for 96 MiB alike), never the whole file."""
    import tracemalloc

    video = tmp_path / "big.mp4"
    with video.open("wb") as out:
        for _ in range(64):
            out.write(os.urandom(1 << 20))
    store = Store(f"s3://{bucket}/mem", {"endpoint_url": s3.endpoint})
    store.put(Path(__file__), "warm-up.py")  # session, credentials and connections first
    tracemalloc.start()
    try:
        store.put(video, "big.mp4")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * storage.BLOCK, f"{peak / 2**20:.1f} MiB"
    head = s3.client().head_object(Bucket=bucket, Key="mem/big.mp4")
    assert head["ContentLength"] == 64 << 20


# ------------------------------------------------------------------------------ cuts


def test_uploads_cut_mid_stream_leave_no_object_and_lose_nothing(
    s3: S3Server, bucket: str, tmp_path: Path, few_retries: None
) -> None:
    """A 20 MiB file goes up in 8 MiB multipart parts through a proxy that drops the line
    after a byte budget: in the first part, between parts, in the last part (and, with
    ``SEEDANCE_STORAGE_CUTS=N``, N more cuts at random points: RELIABILITY.md's figure)."""
    proxy = CutProxy(int(s3.endpoint.rsplit(":", 1)[1]))
    video = tmp_path / "big.mp4"
    video.write_bytes(os.urandom(20 << 20))
    before = digest(video)
    store = Store(f"s3://{bucket}/cut", {"endpoint_url": proxy.endpoint, **FAST_FAIL})
    budgets = [1 << 20, 6 << 20, 9 << 20, 17 << 20, (39 << 19) + 4096]
    extra = random.Random(16)
    budgets += [extra.randrange(1, 20 << 20) for _ in range(int(os.environ.get(CUTS, "0")))]
    try:
        for budget in budgets:
            proxy.arm(budget)
            with pytest.raises(Exception):  # noqa: B017 - whatever the store raises
                store.put(video, "clip.mp4")
            assert s3.keys(bucket, "cut/") == []  # neither the final nor a temporary object
            assert digest(video) == before
        assert proxy.cuts == len(budgets)
        proxy.restore()
        assert store.put(video, "clip.mp4") == f"s3://{bucket}/cut/clip.mp4"
    finally:
        proxy.close()
    assert s3.keys(bucket, "cut/") == ["cut/clip.mp4"]
    assert hashlib.sha256(s3.body(bucket, "cut/clip.mp4")).hexdigest() == before


class FlakyDisk(type(Path())):  # type: ignore[misc]
    """A local file whose reads fail after ``limit`` bytes (a disk error mid-upload)."""

    limit = 12 << 20

    def open(self, *args: Any, **kwargs: Any) -> Any:
        return _FailingReader(super().open(*args, **kwargs), self.limit)


class _FailingReader:
    def __init__(self, f: Any, limit: int) -> None:
        self.f, self.left = f, limit

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0:
            raise OSError("injected: the disk failed mid-read")
        data = bytes(self.f.read(min(n, self.left) if n >= 0 else self.left))
        self.left -= len(data)
        return data

    def __enter__(self) -> _FailingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.f.close()


def test_a_source_that_fails_mid_upload_leaves_no_object_and_no_open_upload(
    s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    """The network is fine here, so a writer that closed (committed) on error would leave
    12 MiB under a key: the upload must be aborted instead."""
    video = tmp_path / "big.mp4"
    video.write_bytes(os.urandom(20 << 20))
    store = Store(f"s3://{bucket}/flaky", {"endpoint_url": s3.endpoint})
    with pytest.raises(OSError, match="injected"):
        store.put(FlakyDisk(video), "clip.mp4")
    assert s3.keys(bucket, "flaky/") == []
    uploads = s3.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u for u in uploads if u["Key"].startswith("flaky/")] == []  # aborted, not left
    assert store.put(video, "clip.mp4").endswith("/flaky/clip.mp4")
    assert s3.body(bucket, "flaky/clip.mp4") == video.read_bytes()


def test_a_job_whose_upload_is_cut_is_done_locally_and_stored_on_resume(
    emulator: Emulator, s3: S3Server, bucket: str, tmp_path: Path, few_retries: None
) -> None:
    proxy = CutProxy(int(s3.endpoint.rsplit(":", 1)[1]))
    options = {"endpoint_url": proxy.endpoint, **FAST_FAIL}
    kw = client_kwargs(emulator, tmp_path / "w")
    try:
        with sd.Client(**kw, storage=f"s3://{bucket}/p", storage_options=options) as client:
            proxy.arm(8000)  # a few KB into the first upload
            job = client.generate("cut on the way up", **REQUEST, timeout=120)
            assert proxy.cuts == 1 and job.status == "succeeded" and job.video_path.is_file()
            assert job.stored_url is None and job.store_error
            assert "stored locally only" in job_text(job)
            keys = s3.keys(bucket)
            assert f"p/{job.id}.mp4" not in keys  # whatever is there is complete:
            for key in (k for k in keys if storage.TEMP not in k):
                assert s3.body(bucket, key) == (job.video_path.parent / key[2:]).read_bytes()
            proxy.restore()
            client.resume()
            wait_for(lambda: job.stored_url, timeout=60)
            assert job.store_error is None and "stored locally only" not in job_text(job)
    finally:
        proxy.close()
    assert s3.body(bucket, f"p/{job.id}.mp4") == job.video_path.read_bytes()
    assert not [k for k in s3.keys(bucket) if storage.TEMP in k]


# ------------------------------------------------------------------------------ refusals


@pytest.fixture(scope="module")
def s3_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    """A moto server that checks credentials: only its own key gets in."""
    server = start_s3(tmp_path_factory.mktemp("moto-auth"), auth=True)
    try:
        yield server
    finally:
        server.stop()


def test_refused_credentials_lose_nothing_never_show_and_resume_stores_later(
    emulator: Emulator,
    s3_auth: S3Server,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    few_retries: None,
) -> None:
    s3_auth.client().create_bucket(Bucket="team-videos")
    key_id, secret = "AKIAREFUSED000000042", "refused-Secret/Value+never-shown-anywhere"
    caplog.set_level(logging.DEBUG)  # every logger, botocore's included
    kw = client_kwargs(emulator, tmp_path / "w")
    bad = {"endpoint_url": s3_auth.endpoint, "key": key_id, "secret": secret, **FAST_FAIL}
    with sd.Client(**kw, storage="s3://team-videos/p", storage_options=bad) as client:
        job = client.generate("refused at the door", **REQUEST, timeout=120)
        assert job.status == "succeeded" and job.video_path.is_file()
        assert job.stored_url is None and "refused these credentials" in str(job.store_error)
        shown = [repr(client), repr(job), job_html(job), job_text(job), str(job.store_error)]
        shown.append(str(client.ledger.get(job.id)))
        assert "stored locally only" in job_text(job) and "stored locally only" in job_html(job)
    on_disk = b"".join(p.read_bytes() for p in (tmp_path / "w").rglob("*") if p.is_file())
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("seedance"))
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for text in (key_id, secret):
        assert text.encode() not in on_disk and text not in ours
        assert not [s for s in shown if text in s]
    assert secret not in everything and secret not in caplog.text
    assert "could not store" in ours  # the failure was logged, secret-free
    # the right key, from the environment this time: the next client stores it on resume
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_auth.key["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_auth.key["aws_secret_access_key"])
    good = {"endpoint_url": s3_auth.endpoint}
    with sd.Client(**kw, storage="s3://team-videos/p", storage_options=good) as later:
        later.resume()
        stored = wait_for(lambda: (later.ledger.get(job.id) or {}).get("stored_url"))
    assert stored == f"s3://team-videos/p/{job.id}.mp4"
    assert s3_auth.body("team-videos", f"p/{job.id}.mp4") == job.video_path.read_bytes()


def test_a_missing_bucket_is_retried_by_resume_on_the_same_client(
    emulator: Emulator, s3: S3Server, tmp_path: Path, few_retries: None
) -> None:
    name = f"not-yet-{uuid.uuid4().hex[:8]}"
    options = {"endpoint_url": s3.endpoint, **FAST_FAIL}
    kw = client_kwargs(emulator, tmp_path / "w")
    with sd.Client(**kw, storage=f"s3://{name}/p", storage_options=options) as client:
        job = client.generate("a bucket nobody made", **REQUEST, timeout=120)
        assert job.status == "succeeded" and job.video_path.is_file()
        assert "is the bucket there?" in str(job.store_error)
        s3.client().create_bucket(Bucket=name)
        client.resume()
        wait_for(lambda: job.stored_url)
    assert s3.body(name, f"p/{job.id}.mp4") == job.video_path.read_bytes()


# ------------------------------------------------------------------------------ fetch back


def test_a_video_whose_local_copy_is_gone_comes_back_from_the_store(
    emulator: Emulator, s3: S3Server, bucket: str, tmp_path: Path
) -> None:
    kw = client_kwargs(emulator, tmp_path / "w")
    store = {"storage": f"s3://{bucket}/p", "storage_options": {"endpoint_url": s3.endpoint}}
    with sd.Client(**kw, **store) as first:
        job = first.generate("a clip to lose", **REQUEST, return_last_frame=True, timeout=60)
    video, frame = job.video_path, job.last_frame_path
    assert video is not None and frame is not None
    original = video.read_bytes()
    video.unlink()
    frame.unlink()
    with sd.Client(**kw, **store) as second:  # the notebook re-run: the same request
        again = second.submit("a clip to lose", **REQUEST, return_last_frame=True)
        assert again.reused and again.video_path.read_bytes() == original
        assert again.last_frame_path is not None and again.last_frame_path.is_file()
    video.unlink()
    with sd.Client(**kw, **store) as third:
        assert third.get_job(job.id).video_path.read_bytes() == original


# ------------------------------------------------------------------------------ memory://


def test_a_second_put_writes_nothing_and_a_cut_write_leaves_no_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(f"memory://unit-{uuid.uuid4().hex[:8]}/v")
    fs, root = store._filesystem()
    local = tmp_path / "clip.mp4"
    local.write_bytes(os.urandom(3 * storage.CHUNK + 17))
    opened: list[str] = []
    real_open = fs.open

    def spy(path: str, mode: str = "rb", **kw: Any) -> Any:
        if "w" in mode:
            opened.append(path)
        return real_open(path, mode, **kw)

    monkeypatch.setattr(fs, "open", spy)
    assert store.put(local, "clip.mp4") == f"{store.url}/clip.mp4"
    assert store.put(local, "clip.mp4") == f"{store.url}/clip.mp4"
    assert len(opened) == 1 and fs.cat(f"{root}/clip.mp4") == local.read_bytes()

    class Cut:  # a writer whose line drops after two chunks
        def __init__(self, f: Any) -> None:
            self.f, self.n = f, 0

        def write(self, data: bytes) -> int:
            self.n += 1
            if self.n > 2:
                raise ConnectionResetError("injected cut")
            return int(self.f.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self.f, name)

    monkeypatch.setattr(fs, "open", lambda path, mode="rb", **kw: Cut(real_open(path, mode, **kw)))
    with pytest.raises(ConnectionResetError):
        store.put(local, "other.mp4")
    assert fs.ls(root, detail=False) == [f"{root}/clip.mp4"]  # no object, no temporary one


def test_a_cut_write_aborts_instead_of_committing_the_part(tmp_path: Path) -> None:
    """fsspec's buffered files commit whatever they hold when closed: a failed write must
    discard (S3: abort the multipart upload) and never close."""
    calls: list[str] = []

    class Writer:
        closed = False

        def write(self, data: bytes) -> int:
            raise OSError("line dropped")

        def discard(self) -> None:
            calls.append("discard")

        def close(self) -> None:
            calls.append("close")

    class FS:
        def open(self, path: str, mode: str, block_size: int) -> Writer:
            return Writer()

    local = tmp_path / "a.mp4"
    local.write_bytes(b"x" * 10)
    with pytest.raises(OSError, match="line dropped"):
        storage._write(FS(), local, "k")
    assert calls == ["discard"]


# ------------------------------------------------------------------------------ settings


def test_the_storage_url_and_options_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_STORAGE", "memory://env-bucket/p/")
    monkeypatch.setenv("SEEDANCE_STORAGE_OPTIONS", '{"skip_instance_cache": true}')
    with sd.Client(workdir=tmp_path / "w") as client:
        assert client.storage == "memory://env-bucket/p"
    with sd.Client(workdir=tmp_path / "w", storage="memory://arg/q") as client:
        assert client.storage == "memory://arg/q"  # an argument wins over the environment


def test_credentials_in_the_url_or_bad_options_are_refused_without_being_echoed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigurationError) as refused:
        sd.Client(workdir=tmp_path / "w", storage="s3://AKIAX:hunter2-secret@bucket/p")
    assert "hunter2" not in str(refused.value) and "AKIAX" not in str(refused.value)
    assert not (tmp_path / "w").exists()  # refused before any side effect
    monkeypatch.setenv("SEEDANCE_STORAGE_OPTIONS", '{"secret": "hunter2-secret"')
    with pytest.raises(ConfigurationError) as bad:
        sd.Client(workdir=tmp_path / "w", storage="memory://b/p")
    assert "hunter2" not in str(bad.value)
    monkeypatch.delenv("SEEDANCE_STORAGE_OPTIONS")
    with pytest.raises(ConfigurationError, match="fsspec URL"):
        sd.Client(workdir=tmp_path / "w", storage="just-a-folder")


def test_a_failure_is_told_without_the_secrets_it_may_carry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret-123456")
    store = Store("memory://b/p", {"client_kwargs": {"aws_session_token": "tok-987654"}})
    why = store.reason(PermissionError("denied for env-secret-123456 with tok-987654"))
    assert why.startswith("PermissionError: denied for *** with *** (the store refused")
    assert repr(store) == "<Store memory://b/p>"


def test_the_magic_passes_its_storage_trait_to_the_client(tmp_path: Path) -> None:
    from traitlets.config import Config

    from seedance_nb.jupyter.magic import Seedance

    config = Config({"Seedance": {"storage": "memory://magic-bucket/nb"}})  # %config does this
    magic = Seedance(shell=None, config=config)
    client = magic.client(workdir=tmp_path / "w")
    assert client.storage == "memory://magic-bucket/nb"


def test_an_older_ledger_gains_the_storage_columns(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    old = SCHEMA.replace("    stored_url TEXT,\n", "").replace("    store_error TEXT,\n", "")
    assert old != SCHEMA
    with sqlite3.connect(path) as db:
        db.executescript(old)
    ledger = Ledger(path)
    types = {r[1]: r[2] for r in ledger._db.execute("PRAGMA table_info(jobs)")}
    assert types["stored_url"] == "TEXT" and types["store_error"] == "TEXT"
    ledger.close()


def test_a_retry_whose_local_file_is_gone_says_so(emulator: Emulator, tmp_path: Path) -> None:
    kw = client_kwargs(emulator, tmp_path / "w")
    url = f"memory://gone-{uuid.uuid4().hex[:8]}/p"
    with sd.Client(**kw, storage=url) as client:
        job = client.generate("a file that goes away", **REQUEST, timeout=60)
        assert job.stored_url == f"{url}/{job.id}.mp4"
        job.video_path.unlink()
        client.ledger.update(job.id, stored_url=None, store_error="an earlier failure")
        client.resume()
        wait_for(lambda: client.get_job(job.id).store_error == "the local video file is gone")
