"""What both ledger backends share: the columns, their stored forms, the schema steps, every query.

The SQLite ledger (``ledger.py``) and the PostgreSQL one (``ledger_postgres.py``) differ only in
how they connect, open a write transaction, lock a claim and record the schema version. Every
query is written once here, with ``?`` placeholders (the PostgreSQL backend turns them into
``%s``), and every job method is implemented once in :class:`LedgerCore`.

Adding a column is one line: append it to :data:`ADDED_COLUMNS`. That is one schema version
step for both backends; each ledger upgrades itself in place when a client opens it.
"""

from __future__ import annotations

import json
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from enum import Enum
from typing import Any

# The first release's table (schema version 1). Types are SQLite's names; the PostgreSQL
# backend maps REAL to DOUBLE PRECISION and INTEGER to BIGINT.
BASE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "TEXT PRIMARY KEY"),
    ("route", "TEXT NOT NULL"),
    ("provider", "TEXT NOT NULL"),
    ("request_hash", "TEXT NOT NULL"),
    ("tier", "TEXT"),
    ("model_id", "TEXT NOT NULL"),
    ("prompt", "TEXT NOT NULL"),
    ("request_json", "TEXT NOT NULL"),
    ("task_id", "TEXT"),
    ("status", "TEXT NOT NULL"),
    ("phase", "TEXT NOT NULL"),
    ("progress", "REAL"),
    ("raw_json", "TEXT"),
    ("usage_json", "TEXT"),
    ("error_json", "TEXT"),
    ("seed", "INTEGER"),
    ("video_path", "TEXT"),
    ("last_frame_path", "TEXT"),
    ("owner", "TEXT"),
    ("lease_until", "REAL"),
    ("create_sent_at", "REAL"),
    ("created_at", "REAL NOT NULL"),
    ("updated_at", "REAL NOT NULL"),
    ("finished_at", "REAL"),
)
# Columns added after the first release, oldest first: each one is a schema version step
# (version 1 + its position). Nullable, so older rows simply hold NULL.
ADDED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("create_deadline", "REAL"),
    # where the object store holds the video (never a credential); why the last upload failed
    # (told secret-free), cleared once it succeeds
    ("stored_url", "TEXT"),
    ("store_error", "TEXT"),
)

INDEXES = (
    "CREATE INDEX IF NOT EXISTS jobs_by_hash ON jobs(route, request_hash, created_at)",
    "CREATE INDEX IF NOT EXISTS jobs_by_created ON jobs(created_at)",
    "CREATE INDEX IF NOT EXISTS jobs_by_phase ON jobs(phase)",
)

# creating: a create is (or was) in flight; tracking: task id known, polling;
# downloading: succeeded upstream, file on its way; done: terminal and settled;
# unknown: create fate could not be reconciled (status 'unknown' too, so every listing of the
# row says so); rejected: the provider refused the create, or it never left this machine
# (nothing was paid, so the same request may be sent again).
ACTIVE_PHASES = ("creating", "tracking", "downloading")
LEASE_SECONDS = 15.0  # renewed every few seconds by the driving client

SAME_REQUEST = (
    "SELECT * FROM jobs WHERE route=? AND request_hash=? AND phase!='rejected' "
    "ORDER BY created_at DESC LIMIT 1"
)
_INSERT_FIELDS = (
    "id route provider request_hash tier model_id prompt request_json status phase owner "
    "lease_until created_at updated_at"
).split()
_INSERT = (
    f"INSERT INTO jobs ({', '.join(_INSERT_FIELDS)}) "
    f"VALUES ({','.join('?' for _ in _INSERT_FIELDS)})"
)
_CHUNK = 500  # ids per IN (...) list


def schema_version() -> int:
    """The version this code writes: the first table plus one step per added column."""
    return 1 + len(ADDED_COLUMNS)


def columns() -> list[str]:
    return [name for name, _ in (*BASE_COLUMNS, *ADDED_COLUMNS)]


def create_table(decl: Any = str) -> str:
    """The version-1 ``CREATE TABLE``, each column type passed through ``decl``."""
    lines = ",\n".join(f"    {name} {decl(kind)}" for name, kind in BASE_COLUMNS)
    return f"CREATE TABLE IF NOT EXISTS jobs (\n{lines}\n)"


def stored(key: str, value: Any) -> Any:
    """``value`` as the ``key`` column holds it (the ``*_json`` columns hold JSON text, an
    enum such as a job's phase its string value)."""
    if isinstance(value, Enum):
        return value.value
    if key.endswith("_json") and not isinstance(value, (str, type(None))):
        return json.dumps(value, default=str)
    return value


def new_job_id() -> str:
    return "job_" + uuid.uuid4().hex[:12]


class LedgerCore(ABC):
    """Every job method, written once; a backend supplies the connection and transactions.

    Every method is one short transaction. ``_tx()`` yields the connection inside a write
    transaction (joining the open one inside :meth:`batch`); ``_read()`` yields it for reads.
    """

    NO_LIMIT: Any = -1  # what LIMIT takes for "no limit"

    # what a backend provides -----------------------------------------------------------------
    @abstractmethod
    def _tx(self) -> AbstractContextManager[Any]: ...

    @abstractmethod
    def _read(self) -> AbstractContextManager[Any]: ...

    def _write(self) -> AbstractContextManager[Any]:
        """For writes whose every statement stands alone (each is atomic by itself): a
        backend whose transactions cost round trips may run them without one."""
        return self._tx()

    @abstractmethod
    def _execute(self, db: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
        """Run ``sql`` (``?`` placeholders); a cursor with fetchone, fetchall and rowcount."""

    @abstractmethod
    def _lock_claim(self, db: Any, route: str, request_hash: str) -> None:
        """Hold off any other claim of this request until the transaction ends."""

    @abstractmethod
    def _column_names(self, db: Any) -> set[str]: ...

    @abstractmethod
    def _decl(self, kind: str) -> str: ...

    @abstractmethod
    def _get_version(self, db: Any) -> int: ...

    @abstractmethod
    def _set_version(self, db: Any, version: int) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the ledger is, safe to show (a path, or the URL with its password masked)."""

    def now(self) -> float:
        """The ledger's clock (seconds since the epoch): what every lease is written and
        judged by. Local time here; a shared ledger uses its server's."""
        return time.time()

    def checkpoint(self) -> int:
        """Fold a write-ahead log back in, where the backend has one; the frames left."""
        return 0

    # helpers -----------------------------------------------------------------------------
    def _rows(self, db: Any, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        return [dict(r) for r in self._execute(db, sql, params).fetchall()]

    def _one(self, db: Any, sql: str, params: tuple[Any, ...] = ()) -> dict[str, Any] | None:
        row = self._execute(db, sql, params).fetchone()
        return dict(row) if row is not None else None

    def _migrate(self, db: Any) -> None:
        """Bring the schema to :func:`schema_version` in place, one step at a time (inside
        the caller's write transaction). Each step is safe to run twice, so a ledger written
        before versions were recorded (version 0) is upgraded the same way. A newer ledger
        is left alone: it holds every column this code reads."""
        current, target = self._get_version(db), schema_version()
        if current >= target:
            return
        self._execute(db, create_table(self._decl))
        for statement in INDEXES:
            self._execute(db, statement)
        have = self._column_names(db)
        for name, kind in ADDED_COLUMNS[max(current - 1, 0) :]:
            if name not in have:
                self._execute(db, f"ALTER TABLE jobs ADD COLUMN {name} {self._decl(kind)}")
        self._set_version(db, target)

    # jobs --------------------------------------------------------------------------------
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
        The check and the insert share one write transaction, locked against every other claim
        of the request, so two kernels (or two machines) cannot both win.
        """
        with self._tx() as db:
            now = self.now()
            self._lock_claim(db, route, request_hash)
            if not force:
                found = self._one(db, SAME_REQUEST, (route, request_hash))
                if found is not None:
                    return found, False
            job_id = new_job_id()
            request_json = json.dumps(request, default=str)
            values = [job_id, route, provider, request_hash, tier, model_id, prompt, request_json]
            values += ["queued", "creating", owner, now + LEASE_SECONDS, now, now]
            self._execute(db, _INSERT, tuple(values))
            row = self._one(db, "SELECT * FROM jobs WHERE id=?", (job_id,))
            assert row is not None
            return row, True

    def find(self, route: str, request_hash: str) -> dict[str, Any] | None:
        """The job :meth:`claim` would return for this request, without claiming anything."""
        with self._read() as db:
            return self._one(db, SAME_REQUEST, (route, request_hash))

    def update(self, job_id: str, **fields: Any) -> dict[str, Any]:
        known = columns()
        for key in fields:
            if key not in known or key == "id":
                raise KeyError(f"no ledger column {key!r}")
        fields = {k: stored(k, v) for k, v in fields.items()}
        fields["updated_at"] = self.now()
        sets = ", ".join(f"{k}=?" for k in fields)
        with self._write() as db:  # the row read back may be newer still: never older
            self._execute(db, f"UPDATE jobs SET {sets} WHERE id=?", (*fields.values(), job_id))
            row = self._one(db, "SELECT * FROM jobs WHERE id=?", (job_id,))
        if row is None:
            raise KeyError(job_id)
        return row

    def take_lease(self, job_id: str, owner: str) -> bool:
        """Become the one client that drives this job, if nobody else holds it now: nobody
        does when the holder handed it over or its lease ran out on the ledger's clock."""
        with self._write() as db:
            now = self.now()
            cur = self._execute(
                db,
                "UPDATE jobs SET owner=?, lease_until=? WHERE id=? AND "
                "(owner IS NULL OR owner=? OR lease_until IS NULL OR lease_until<?)",
                (owner, now + LEASE_SECONDS, job_id, owner, now),
            )
            return int(cur.rowcount) == 1

    def renew_leases(self, job_ids: list[str], owner: str) -> None:
        """The heartbeat: push the leases this owner holds out by :data:`LEASE_SECONDS`."""
        if not job_ids:
            return
        with self._write() as db:
            until = self.now() + LEASE_SECONDS
            for chunk in _chunks(job_ids):
                marks = ",".join("?" for _ in chunk)
                self._execute(
                    db,
                    f"UPDATE jobs SET lease_until=? WHERE owner=? AND id IN ({marks})",
                    (until, owner, *chunk),
                )

    def release_leases(self, owner: str) -> None:
        """A closing client hands its jobs to whoever opens the ledger next."""
        with self._write() as db:
            self._execute(db, "UPDATE jobs SET lease_until=0 WHERE owner=?", (owner,))

    def batch(self) -> AbstractContextManager[Any]:
        """Group many writes (a whole poll round) into one transaction: one commit, not one
        per job, so a round of hundreds of jobs holds the event loop for a moment only."""
        return self._tx()

    def get_many(self, job_ids: list[str]) -> dict[str, dict[str, Any]]:
        rows: dict[str, dict[str, Any]] = {}
        with self._read() as db:
            for chunk in _chunks(job_ids):
                marks = ",".join("?" for _ in chunk)
                for row in self._rows(db, f"SELECT * FROM jobs WHERE id IN ({marks})", chunk):
                    rows[row["id"]] = row
        return rows

    def versions(self, job_ids: list[str]) -> dict[str, tuple[Any, Any, Any]]:
        """Each row's ``(updated_at, owner, lease_until)``: every write of a job's content
        sets ``updated_at`` (:meth:`update`) and a lease moves only the other two, so a poll
        round reads whole rows only where these moved (a sixth of the cost per row)."""
        out: dict[str, tuple[Any, Any, Any]] = {}
        with self._read() as db:
            for chunk in _chunks(job_ids):
                marks = ",".join("?" for _ in chunk)
                sql = f"SELECT id, updated_at, owner, lease_until FROM jobs WHERE id IN ({marks})"
                for r in self._rows(db, sql, chunk):
                    out[r["id"]] = (r["updated_at"], r["owner"], r["lease_until"])
        return out

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._read() as db:
            return self._one(db, "SELECT * FROM jobs WHERE id=?", (job_id,))

    def history(self, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
        """Newest first; a negative ``limit`` means all of them."""
        limit_value = self.NO_LIMIT if limit < 0 else limit
        with self._read() as db:
            return self._rows(
                db,
                "SELECT * FROM jobs ORDER BY created_at DESC LIMIT ? OFFSET ?",
                (limit_value, offset),
            )

    def active(self, route: str) -> list[dict[str, Any]]:
        marks = ",".join("?" for _ in ACTIVE_PHASES)
        with self._read() as db:
            return self._rows(
                db,
                f"SELECT * FROM jobs WHERE route=? AND phase IN ({marks}) ORDER BY created_at",
                (route, *ACTIVE_PHASES),
            )

    def unbound(self, route: str, *, since: float) -> list[dict[str, Any]]:
        """Jobs created after ``since`` whose create went out (or may have) without a task
        id coming back: still creating, or of unknown outcome. A listed task could be theirs."""
        with self._read() as db:
            return self._rows(
                db,
                "SELECT * FROM jobs WHERE route=? AND phase IN ('creating','unknown') "
                "AND task_id IS NULL AND created_at>=?",
                (route, since),
            )

    def unstored(self) -> list[dict[str, Any]]:
        """Finished videos whose upload to the object store failed (any route): what
        ``resume()`` tries to store again."""
        with self._read() as db:
            return self._rows(
                db,
                "SELECT * FROM jobs WHERE phase='done' AND status='succeeded' "
                "AND stored_url IS NULL AND store_error IS NOT NULL ORDER BY created_at",
            )

    def spend_rows(self) -> list[dict[str, Any]]:
        """What spend is counted from: every job that was not refused (a refused create was
        never paid), oldest first, with the columns a cost needs."""
        with self._read() as db:
            return self._rows(
                db,
                "SELECT id, route, provider, tier, model_id, status, phase, usage_json, "
                "request_json, created_at FROM jobs WHERE phase!='rejected' ORDER BY created_at",
            )

    def task_ids(self, route: str) -> set[str]:
        with self._read() as db:
            rows = self._rows(
                db, "SELECT task_id FROM jobs WHERE route=? AND task_id IS NOT NULL", (route,)
            )
        return {r["task_id"] for r in rows}

    def count(self) -> int:
        with self._read() as db:
            row = self._one(db, "SELECT COUNT(*) AS n FROM jobs")
        return int(row["n"]) if row else 0


def _chunks(ids: list[str]) -> Iterator[tuple[str, ...]]:
    for i in range(0, len(ids), _CHUNK):
        yield tuple(ids[i : i + _CHUNK])
