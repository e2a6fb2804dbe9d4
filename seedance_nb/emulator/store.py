"""Durable emulator state: SQLite for tasks and assets, content-addressed blobs on disk.

Everything a restarted emulator needs lives under ``state_dir`` so a notebook whose kernel (or
emulator process) restarted can keep polling the same task ids and downloading their files.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    dialect TEXT NOT NULL,
    provider TEXT NOT NULL,
    model TEXT NOT NULL,
    created_at REAL NOT NULL,
    queued_s REAL NOT NULL,
    running_s REAL NOT NULL,
    outcome TEXT NOT NULL,
    error_code TEXT,
    error_message TEXT,
    expires_after REAL,
    cancelled_at REAL,
    render_spec TEXT,
    render_key TEXT,
    render_done_at REAL,
    render_error TEXT,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_created ON tasks (created_at);
CREATE TABLE IF NOT EXISTS assets (
    id TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    content_type TEXT NOT NULL,
    filename TEXT,
    size INTEGER NOT NULL,
    created_at REAL NOT NULL
);
"""


@dataclass
class TaskRecord:
    """One stored task. Status is never stored: it is derived from time and the render."""

    id: str
    dialect: str
    provider: str
    model: str
    created_at: float
    queued_s: float
    running_s: float
    outcome: str  # what the task will end as: succeeded | failed | expired
    error_code: str | None = None
    error_message: str | None = None
    expires_after: float | None = None
    cancelled_at: float | None = None
    render_spec: dict[str, Any] | None = None
    render_key: str | None = None
    render_done_at: float | None = None
    render_error: str | None = None
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def running_at(self) -> float:
        return self.created_at + self.queued_s

    @property
    def finish_at(self) -> float:
        return self.created_at + self.queued_s + self.running_s

    def state(self, now: float | None = None) -> tuple[str, float]:
        """``(status, updated_at)`` at ``now``: queued → running → a terminal status.

        A task reads ``succeeded`` only once its render is completely written, however long
        the nominal running time was.
        """
        now = time.time() if now is None else now
        if self.cancelled_at is not None:
            return "cancelled", self.cancelled_at
        if now < self.running_at:
            return "queued", self.created_at
        if self.outcome == "expired":
            return "expired", self.running_at
        if now < self.finish_at:
            return "running", self.running_at
        if self.outcome == "failed":
            return "failed", self.finish_at
        if self.render_error is not None:
            return "failed", max(self.finish_at, self.render_done_at or self.finish_at)
        if self.render_done_at is None:
            if self.expires_after is not None and now > self.created_at + self.expires_after:
                return "expired", self.created_at + self.expires_after
            return "running", self.running_at
        return "succeeded", max(self.finish_at, self.render_done_at)

    def status(self, now: float | None = None) -> str:
        return self.state(now)[0]

    def progress(self, now: float | None = None) -> int:
        """0-100 for gateways that report progress; 99 while a late render finishes."""
        now = time.time() if now is None else now
        status = self.status(now)
        if status in ("succeeded", "failed", "expired"):
            return 100
        if status in ("queued", "cancelled"):
            return 0
        share = (now - self.running_at) / max(self.running_s, 1e-6)
        return max(1, min(99, int(share * 100)))

    def error(self, now: float | None = None) -> dict[str, str] | None:
        status = self.status(now)
        if status == "failed":
            if self.outcome == "failed":
                return {
                    "code": self.error_code or "InternalServiceError",
                    "message": self.error_message or "The task failed.",
                }
            return {
                "code": "InternalServiceError",
                "message": f"The emulator could not render the video: {self.render_error}",
            }
        if status == "expired":
            return {
                "code": self.error_code or "TaskExpired",
                "message": self.error_message or "The task was not completed in time.",
            }
        return None


_COLUMNS = (
    "id",
    "dialect",
    "provider",
    "model",
    "created_at",
    "queued_s",
    "running_s",
    "outcome",
    "error_code",
    "error_message",
    "expires_after",
    "cancelled_at",
    "render_spec",
    "render_key",
    "render_done_at",
    "render_error",
    "fields",
)


class Store:
    """Thread-safe access to the state directory (one connection, one lock; WAL for readers)."""

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir)
        self.files = self.root / "files"
        self.blobs = self.files / "blobs"
        self.renders = self.files / "renders"
        for d in (self.root, self.blobs, self.renders):
            d.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(
            self.root / "emulator.sqlite3",
            timeout=15,
            check_same_thread=False,
            isolation_level=None,
        )
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
        self.secret = self._load_secret()

    def _load_secret(self) -> bytes:
        """Per-state-dir signing key: URLs stay valid across restarts, never across dirs."""
        path = self.root / "signing.key"
        try:
            data = path.read_bytes()
            if len(data) >= 32:
                return data
        except FileNotFoundError:
            pass
        data = secrets.token_bytes(32)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return data

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ----------------------------------------------------------------------------- tasks

    def insert(self, task: TaskRecord) -> None:
        row = self._row(task)
        with self._lock:
            self._db.execute(
                f"INSERT INTO tasks ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
                row,
            )

    def get(self, task_id: str) -> TaskRecord | None:
        with self._lock:
            cur = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM tasks WHERE id = ?", (task_id,)
            )
            row = cur.fetchone()
        return self._task(row) if row else None

    def query(
        self,
        *,
        dialect: str | None = None,
        since: float | None = None,
        models: Iterable[str] | None = None,
        ids: Iterable[str] | None = None,
        providers: Iterable[str] | None = None,
    ) -> list[TaskRecord]:
        """Tasks newest first, narrowed in SQL; status filters are applied by the caller."""
        where, args = [], []
        if dialect is not None:
            where.append("dialect = ?")
            args.append(dialect)
        if since is not None:
            where.append("created_at >= ?")
            args.append(since)
        for col, values in (("model", models), ("id", ids), ("provider", providers)):
            if values is not None:
                vals = list(values)
                where.append(f"{col} IN ({', '.join('?' * len(vals))})" if vals else "0")
                args.extend(vals)
        sql = f"SELECT {', '.join(_COLUMNS)} FROM tasks"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY created_at DESC, rowid DESC"
        with self._lock:
            rows = self._db.execute(sql, args).fetchall()
        return [self._task(r) for r in rows]

    def update(self, task_id: str, **values: Any) -> None:
        if not values:
            return
        sets = ", ".join(f"{k} = ?" for k in values)
        args = [json.dumps(v) if k in ("fields", "render_spec") else v for k, v in values.items()]
        with self._lock:
            self._db.execute(f"UPDATE tasks SET {sets} WHERE id = ?", [*args, task_id])

    def delete(self, task_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM tasks WHERE id = ?", (task_id,))

    def pending_renders(self) -> list[TaskRecord]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_COLUMNS)} FROM tasks WHERE render_done_at IS NULL "
                "AND render_error IS NULL AND cancelled_at IS NULL AND outcome = 'succeeded' "
                "AND render_spec IS NOT NULL"
            ).fetchall()
        return [self._task(r) for r in rows]

    @staticmethod
    def _row(task: TaskRecord) -> list[Any]:
        out = []
        for col in _COLUMNS:
            v = getattr(task, col)
            out.append(json.dumps(v) if col in ("fields", "render_spec") and v is not None else v)
        return out

    @staticmethod
    def _task(row: tuple[Any, ...]) -> TaskRecord:
        data = dict(zip(_COLUMNS, row, strict=True))
        data["fields"] = json.loads(data["fields"] or "{}")
        data["render_spec"] = json.loads(data["render_spec"]) if data["render_spec"] else None
        return TaskRecord(**data)

    # ----------------------------------------------------------------------------- blobs

    def put_blob(self, data: bytes) -> str:
        """Store bytes by content hash (atomically); returns the hash."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.blobs / digest
        if not path.exists():
            fd, tmp = tempfile.mkstemp(prefix=".blob.", dir=self.blobs)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, path)
        return digest

    def blob(self, digest: str) -> bytes | None:
        if not digest or not all(c in "0123456789abcdef" for c in digest):
            return None
        try:
            return (self.blobs / digest).read_bytes()
        except FileNotFoundError:
            return None

    # ----------------------------------------------------------------------------- assets

    def add_asset(
        self, asset_id: str, data: bytes, content_type: str, filename: str | None
    ) -> None:
        digest = self.put_blob(data)
        with self._lock:
            self._db.execute(
                "INSERT INTO assets (id, sha256, content_type, filename, size, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (asset_id, digest, content_type, filename, len(data), time.time()),
            )

    def asset(self, asset_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, sha256, content_type, filename, size, created_at FROM assets "
                "WHERE id = ?",
                (asset_id,),
            ).fetchone()
        if row is None:
            return None
        keys = ("id", "sha256", "content_type", "filename", "size", "created_at")
        return dict(zip(keys, row, strict=True))
