"""The job ledger: one SQLite file that remembers every request, task and video.

It is what makes "never pay twice" hold across re-runs, kernel restarts and two kernels on
one workdir: a request hash is claimed in a write transaction before any create is sent, and
the provider's task id is written the moment it is known. It never holds an API key, and
the file is private to the user (0600). A team shares one ledger on PostgreSQL instead
(``ledger_postgres.py``); :func:`open_ledger` picks the backend, and every job method and query
is shared by both (``ledger_core.py``).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .ledger_core import (
    ACTIVE_PHASES,
    ADDED_COLUMNS,
    INDEXES,
    LEASE_SECONDS,
    SAME_REQUEST,
    LedgerCore,
    create_table,
    new_job_id,
    stored,
)
from .ledger_url import LedgerURL, ledger_location

# the first release's schema (version 1), as SQLite runs it
SCHEMA = ";\n".join((create_table(), *INDEXES)) + ";\n"


def same_request(db: sqlite3.Connection, route: str, request_hash: str) -> dict[str, Any] | None:
    """The newest job for this request on this route that was not refused (a refused create
    was never paid, so it does not count): what "the same request returns the same job" finds."""
    row = db.execute(SAME_REQUEST, (route, request_hash)).fetchone()
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


def open_ledger(
    target: str | Path | LedgerURL, *, background_checkpoints: bool = False
) -> LedgerCore:
    """The ledger at ``target``: a ``postgresql://`` URL (psycopg 3, loaded only then) or
    an SQLite file path."""
    where = ledger_location(target)
    if isinstance(where, LedgerURL):
        from .ledger_postgres import PostgresLedger

        return PostgresLedger(where)
    return Ledger(where, background_checkpoints=background_checkpoints)


class Ledger(LedgerCore):
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
        with self._tx() as db:
            self._migrate(db)
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

    # the backend's part ------------------------------------------------------------------
    @property
    def where(self) -> str:
        return str(self.path)

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    def _execute(self, db: sqlite3.Connection, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return db.execute(sql, params)

    def _lock_claim(self, db: sqlite3.Connection, route: str, request_hash: str) -> None:
        """Nothing more: ``BEGIN IMMEDIATE`` already holds every other writer off."""

    def _column_names(self, db: sqlite3.Connection) -> set[str]:
        return {r["name"] for r in db.execute("PRAGMA table_info(jobs)")}

    def _decl(self, kind: str) -> str:
        return kind

    def _get_version(self, db: sqlite3.Connection) -> int:
        return int(db.execute("PRAGMA user_version").fetchone()[0])

    def _set_version(self, db: sqlite3.Connection, version: int) -> None:
        db.execute(f"PRAGMA user_version={int(version)}")


__all__ = [
    "ACTIVE_PHASES",
    "ADDED_COLUMNS",
    "LEASE_SECONDS",
    "SCHEMA",
    "Ledger",
    "new_job_id",
    "open_ledger",
    "same_request",
    "stored",
]
