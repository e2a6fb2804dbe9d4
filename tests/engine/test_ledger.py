"""The ledger file itself: private, upgraded in place, and consistent under batched writes."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
from engine_support import versions_follow_every_write

from seedance_nb.engine.ledger import SCHEMA, Ledger
from seedance_nb.engine.ledger_core import schema_version

_CLAIM: dict[str, Any] = {
    "route": "r",
    "provider": "ark",
    "tier": "t",
    "model_id": "m",
    "prompt": "p",
    "request": {"prompt": "p"},
    "owner": "o",
}


def _claim(ledger: Ledger, n: int) -> str:
    row, fresh = ledger.claim(request_hash=f"h{n}", force=False, **_CLAIM)
    assert fresh
    return str(row["id"])


def test_a_ledger_from_an_earlier_version_is_upgraded_in_place(tmp_path: Path) -> None:
    # the first release's file: no create_deadline, no schema version recorded, one job in it
    path = tmp_path / "ledger.sqlite"
    assert "create_deadline" not in SCHEMA
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.execute(
            "INSERT INTO jobs (id, route, provider, request_hash, model_id, prompt, "
            "request_json, status, phase, created_at, updated_at) "
            "VALUES ('job_old', 'r', 'ark', 'h0', 'm', 'p', '{}', 'succeeded', 'done', 1, 1)"
        )
        assert db.execute("PRAGMA user_version").fetchone()[0] == 0
    ledger = Ledger(path)
    again, fresh = ledger.claim(request_hash="h0", force=False, **_CLAIM)
    assert not fresh and again["id"] == "job_old" and again["create_deadline"] is None
    job = _claim(ledger, 1)
    assert ledger.update(job, create_deadline=123.0)["create_deadline"] == 123.0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    ledger.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema_version() == 4
        columns = {r[1]: r[2] for r in db.execute("PRAGMA table_info(jobs)")}
    assert columns["stored_url"] == columns["store_error"] == "TEXT"


def test_a_failing_batch_writes_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    a, b = _claim(ledger, 1), _claim(ledger, 2)
    with pytest.raises(RuntimeError), ledger.batch():
        ledger.update(a, status="running")
        ledger.update(b, status="running")
        raise RuntimeError("the round failed halfway")
    assert {r["status"] for r in ledger.get_many([a, b]).values()} == {"queued"}
    with ledger.batch():
        ledger.update(a, status="running")
        ledger.update(b, status="succeeded")
    assert {k: v["status"] for k, v in ledger.get_many([a, b, "nope"]).items()} == {
        a: "running",
        b: "succeeded",
    }
    ledger.close()


def test_versions_move_with_every_write_another_connection_makes(tmp_path: Path) -> None:
    ledger, other = Ledger(tmp_path / "l.sqlite"), Ledger(tmp_path / "l.sqlite")
    versions_follow_every_write(ledger, other, _CLAIM)


def test_background_checkpoints_leave_commits_in_the_wal_until_checkpoint(tmp_path: Path) -> None:
    # the async runtime's ledger never checkpoints inside a commit on the event loop (a
    # checkpoint fsyncs); checkpoint() from a worker thread folds the WAL into the file
    path = tmp_path / "ledger.sqlite"
    ledger = Ledger(path, background_checkpoints=True)
    jobs = [_claim(ledger, n) for n in range(300)]
    with ledger.batch():
        for job in jobs:
            ledger.update(job, raw_json={"pad": "x" * 2000})

    def rows_in_main_file() -> tuple[int, int]:  # the file alone, as if the WAL were lost
        copy = tmp_path / f"copy-{len(list(tmp_path.iterdir()))}.sqlite"
        copy.write_bytes(path.read_bytes())
        with sqlite3.connect(copy) as db:
            try:
                rows = db.execute("SELECT raw_json FROM jobs").fetchall()
            except sqlite3.OperationalError:  # not even the table made it
                return 0, 0
        return len(rows), sum(1 for (raw,) in rows if raw and "pad" in raw)

    # past SQLite's automatic threshold (1000 pages), yet nothing was folded in
    assert Path(str(path) + "-wal").stat().st_size > 1000 * 4096
    assert rows_in_main_file() == (0, 0)
    assert ledger.checkpoint() == 0
    assert rows_in_main_file() == (300, 300)
    ledger.close()


def test_unbound_lists_the_creates_whose_task_could_still_be_theirs(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    creating, unknown, tracking, rejected, old = (_claim(ledger, n) for n in range(5))
    ledger.update(unknown, phase="unknown", status="unknown")
    ledger.update(tracking, phase="tracking", task_id="cgt-1")
    ledger.update(rejected, phase="rejected", status="failed")
    ledger.update(old, created_at=1.0)
    since = ledger.get(creating)["created_at"] - 60  # type: ignore[index]
    assert {r["id"] for r in ledger.unbound("r", since=since)} == {creating, unknown}
    assert ledger.unbound("other route", since=0) == []
    assert old in {r["id"] for r in ledger.unbound("r", since=0)}
    ledger.close()


def test_a_request_that_never_left_may_be_claimed_again(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite")
    first = _claim(ledger, 1)
    ledger.update(first, phase="rejected", status="failed")  # what a NotSentError leaves
    again, fresh = ledger.claim(request_hash="h1", force=False, **_CLAIM)
    assert fresh and again["id"] != first
    # an unknown outcome is not claimed again without force: it may have made a paid task
    ledger.update(again["id"], phase="unknown", status="unknown")
    same, fresh = ledger.claim(request_hash="h1", force=False, **_CLAIM)
    assert not fresh and same["id"] == again["id"] and same["status"] == "unknown"
    ledger.close()
