"""The job ledger: one SQLite file that remembers every request, task and video.

It is what makes "never pay twice" hold across re-runs, kernel restarts and two kernels on
one workdir: a request hash is claimed in a write transaction before any create is sent, and
the provider's task id is written the moment it is known. It never holds an API key, and
the file is private to the user (0600).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from enum import Enum
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    route TEXT NOT NULL,
    provider TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    tier TEXT,
    model_id TEXT NOT NULL,
    prompt TEXT NOT NULL,
    request_json TEXT NOT NULL,
    task_id TEXT,
    status TEXT NOT NULL,
    phase TEXT NOT NULL,
    progress REAL,
    raw_json TEXT,
    usage_json TEXT,
    error_json TEXT,
    seed INTEGER,
    video_path TEXT,
    last_frame_path TEXT,
    owner TEXT,
    lease_until REAL,
    create_sent_at REAL,
    create_deadline REAL,
    stored_url TEXT,
    store_error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS jobs_by_hash ON jobs(route, request_hash, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_at);
CREATE INDEX IF NOT EXISTS jobs_by_phase ON jobs(phase);
"""

# creating: a create is (or was) in flight; tracking: task id known, polling;
# downloading: succeeded upstream, file on its way; done: terminal and settled;
# unknown: create fate could not be reconciled (status 'unknown' too, so every listing of the
# row says so); rejected: the provider refused the create, or it never left this machine
# (nothing was paid, so the same request may be sent again).
ACTIVE_PHASES = ("creating", "tracking", "downloading")
LEASE_SECONDS = 15.0  # renewed every few seconds by the driving client
# columns added after the first release, with their types, for ALTER TABLE on older ledgers;
# stored_url: where the object store holds the video (no credential, ever); store_error: why
# the last upload failed (told secret-free), cleared once it succeeds
ADDED_COLUMNS = {"create_deadline": "REAL", "stored_url": "TEXT", "store_error": "TEXT"}

_COLUMNS = (
    "id route provider request_hash tier model_id prompt request_json task_id status phase "
    "progress raw_json usage_json error_json seed video_path last_frame_path owner lease_until "
    "create_sent_at create_deadline stored_url store_error created_at updated_at finished_at"
).split()


def stored(key: str, value: Any) -> Any:
    """``value`` as the ``key`` column holds it (the ``*_json`` columns hold JSON text, an
    enum such as a job's phase its string value)."""
    if isinstance(value, Enum):
        return value.value
    if key.endswith("_json") and not isinstance(value, (str, type(None))):
        return json.dumps(value, default=str)
    return value


def same_request(db: sqlite3.Connection, route: str, request_hash: str) -> dict[str, Any] | None:
    """The newest job for this request on this route that was not refused (a refused create
    was never paid, so it does not count): what "the same request returns the same job" finds."""
    row = db.execute(
        "SELECT * FROM jobs WHERE route=? AND request_hash=? AND phase!='rejected' "
        "ORDER BY created_at DESC LIMIT 1",
        (route, request_hash),
    ).fetchone()
    return dict(row) if row is not None else None


def _enable_wal(db: sqlite3.Connection, seconds: float = 30.0) -> None:
    """Switch a ledger to WAL. Two processes opening a new ledger at once can get "database
    is locked" here without SQLite's busy handler being asked, so wait and try again."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def new_job_id() -> str:
    return "job_" + uuid.uuid4().hex[:12]


class Ledger:
    """Thread-safe access to ``ledger.sqlite``; every method is one short transaction."""

    def __init__(self, path: Path, *, background_checkpoints: bool = False) -> None:
        """``background_checkpoints``: never checkpoint the WAL inside a commit (a checkpoint
        fsyncs, and a busy disk can hold it for hundreds of ms); the owner calls
        :meth:`checkpoint` from a worker thread instead, as the async runtime does."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not self.path.exists():
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        os.chmod(self.path, 0o600)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            str(self.path), timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._db.row_factory = sqlite3.Row
        _enable_wal(self._db)
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        if background_checkpoints:
            self._db.execute("PRAGMA wal_autocheckpoint=0")
        with self._tx():
            for statement in SCHEMA.strip().split(";"):
                if statement.strip():
                    self._db.execute(statement)
            have = {r["name"] for r in self._db.execute("PRAGMA table_info(jobs)")}
            for column in ADDED_COLUMNS:  # ledgers written by an earlier version
                if column not in have:
                    kind = ADDED_COLUMNS[column]
                    self._db.execute(f"ALTER TABLE jobs ADD COLUMN {column} {kind}")
        for suffix in ("-wal", "-shm"):
            side = Path(str(self.path) + suffix)
            if side.exists():
                os.chmod(side, 0o600)

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._db.in_transaction:  # inside batch(): the outer transaction commits
                yield self._db
                return
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def checkpoint(self) -> int:
        """Copy committed WAL frames into the database, on a connection of its own, so it can
        run in a worker thread; PASSIVE neither waits for nor blocks the writer. Returns the
        frames still in the WAL."""
        db = sqlite3.connect(str(self.path), timeout=30.0, isolation_level=None)
        try:
            _busy, frames, copied = db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return max(frames - copied, 0)
        finally:
            db.close()

    # ---------------------------------------------------------------------------------------
    def claim(
        self,
        *,
        route: str,
        request_hash: str,
        provider: str,
        tier: str | None,
        model_id: str,
        prompt: str,
        request: dict[str, Any],
        owner: str,
        force: bool,
    ) -> tuple[dict[str, Any], bool]:
        """Return the job for this request, creating its row if there is none (or ``force``).

        The boolean says whether the row is new, i.e. whether the caller must send the create.
        The check and the insert share one write transaction, so two kernels cannot both win.
        """
        now = time.time()
        with self._tx() as db:
            if not force:
                found = same_request(db, route, request_hash)
                if found is not None:
                    return found, False
            job_id = new_job_id()
            db.execute(
                "INSERT INTO jobs (id, route, provider, request_hash, tier, model_id, prompt, "
                "request_json, status, phase, owner, lease_until, created_at, updated_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    job_id,
                    route,
                    provider,
                    request_hash,
                    tier,
                    model_id,
                    prompt,
                    json.dumps(request, default=str),
                    "queued",
                    "creating",
                    owner,
                    now + LEASE_SECONDS,
                    now,
                    now,
                ),
            )
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
            return dict(row), True

    def find(self, route: str, request_hash: str) -> dict[str, Any] | None:
        """The job :meth:`claim` would return for this request, without claiming anything."""
        with self._lock:
            return same_request(self._db, route, request_hash)

    def update(self, job_id: str, **fields: Any) -> dict[str, Any]:
        for key in fields:
            if key not in _COLUMNS or key == "id":
                raise KeyError(f"no ledger column {key!r}")
        fields = {k: stored(k, v) for k, v in fields.items()}
        fields["updated_at"] = time.time()
        sets = ", ".join(f"{k}=?" for k in fields)
        with self._tx() as db:
            db.execute(f"UPDATE jobs SET {sets} WHERE id=?", (*fields.values(), job_id))
            row = db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        if row is None:
            raise KeyError(job_id)
        return dict(row)

    def take_lease(self, job_id: str, owner: str) -> bool:
        """Become the one client that drives this job, if nobody else holds it now."""
        now = time.time()
        with self._tx() as db:
            cur = db.execute(
                "UPDATE jobs SET owner=?, lease_until=? WHERE id=? AND "
                "(owner IS NULL OR owner=? OR lease_until IS NULL OR lease_until<?)",
                (owner, now + LEASE_SECONDS, job_id, owner, now),
            )
            return cur.rowcount == 1

    def renew_leases(self, job_ids: list[str], owner: str) -> None:
        if not job_ids:
            return
        until = time.time() + LEASE_SECONDS
        with self._tx() as db:
            db.executemany(
                "UPDATE jobs SET lease_until=? WHERE id=? AND owner=?",
                [(until, j, owner) for j in job_ids],
            )

    def release_leases(self, owner: str) -> None:
        """A closing client hands its jobs to whoever opens the workdir next."""
        with self._tx() as db:
            db.execute("UPDATE jobs SET lease_until=0 WHERE owner=?", (owner,))

    def batch(self) -> AbstractContextManager[sqlite3.Connection]:
        """Group many writes (a whole poll round) into one transaction: one commit, not one
        per job, so a round of hundreds of jobs holds the event loop for a moment only."""
        return self._tx()

    def get_many(self, job_ids: list[str]) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        with self._lock:
            for i in range(0, len(job_ids), 500):
                chunk = job_ids[i : i + 500]
                marks = ",".join("?" for _ in chunk)
                for row in self._db.execute(f"SELECT * FROM jobs WHERE id IN ({marks})", chunk):
                    rows[row["id"]] = dict(row)
        return rows

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone()
        return dict(row) if row else None

    def history(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs ORDER BY created_at DESC LIMIT ? OFFSET ?", (limit, offset)
            ).fetchall()
        return [dict(r) for r in rows]

    def active(self, route: str) -> list[dict[str, Any]]:
        marks = ",".join("?" for _ in ACTIVE_PHASES)
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM jobs WHERE route=? AND phase IN ({marks}) ORDER BY created_at",
                (route, *ACTIVE_PHASES),
            ).fetchall()
        return [dict(r) for r in rows]

    def unbound(self, route: str, *, since: float) -> list[dict[str, Any]]:
        """Jobs created after ``since`` whose create went out (or may have) without a task
        id coming back: still creating, or of unknown outcome. A listed task could be theirs."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE route=? AND phase IN ('creating','unknown') "
                "AND task_id IS NULL AND created_at>=?",
                (route, since),
            ).fetchall()
        return [dict(r) for r in rows]

    def unstored(self) -> list[dict[str, Any]]:
        """Finished videos whose upload to the object store failed (any route): what
        ``resume()`` tries to store again."""
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM jobs WHERE phase='done' AND status='succeeded' "
                "AND stored_url IS NULL AND store_error IS NOT NULL ORDER BY created_at"
            ).fetchall()
        return [dict(r) for r in rows]

    def task_ids(self, route: str) -> set[str]:
        with self._lock:
            rows = self._db.execute(
                "SELECT task_id FROM jobs WHERE route=? AND task_id IS NOT NULL", (route,)
            ).fetchall()
        return {r[0] for r in rows}

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])

    def spend_rows(self) -> list[dict[str, Any]]:
        """What spend is counted from: every job that was not refused (a refused create was
        never paid), oldest first, with the columns a cost needs."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, route, provider, tier, model_id, status, phase, usage_json, "
                "request_json, created_at FROM jobs WHERE phase!='rejected' ORDER BY created_at"
            ).fetchall()
        return [dict(r) for r in rows]
