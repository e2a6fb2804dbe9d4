"""The team ledger on a real PostgreSQL server: its schema, its claims, its leases, its secrets.

Every test here talks to the session's server (``postgres`` fixture: ``initdb`` + ``pg_ctl`` on
127.0.0.1, password authentication) through a fresh database of its own.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import client_kwargs
from engine_support import versions_follow_every_write
from pg_support import free_port

import seedance_nb as sd
from seedance_nb.emulator import Emulator
from seedance_nb.engine import ledger_core
from seedance_nb.engine.leases import Leases, process_gone
from seedance_nb.engine.ledger import Ledger, open_ledger
from seedance_nb.engine.ledger_core import LedgerCore, schema_version
from seedance_nb.engine.ledger_postgres import PostgresLedger
from seedance_nb.engine.ledger_url import LedgerURL, mask_url

CLAIM: dict[str, Any] = {
    "route": "r",
    "provider": "ark",
    "tier": "t",
    "model_id": "m",
    "prompt": "p",
    "request": {"prompt": "p"},
}


def _claim(ledger: LedgerCore, request_hash: str, owner: str = "o") -> tuple[dict[str, Any], bool]:
    return ledger.claim(request_hash=request_hash, force=False, owner=owner, **CLAIM)


def _pg(url: str) -> Any:
    import psycopg
    from psycopg.rows import dict_row

    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


# ----------------------------------------------------------------------------- schema


def test_a_fresh_database_gets_the_schema_at_the_current_version(pg_url: str) -> None:
    ledger = open_ledger(pg_url)
    assert isinstance(ledger, PostgresLedger)
    job = _claim(ledger, "h1")[0]["id"]
    ledger.update(job, create_deadline=1.5e9 + 0.125, seed=2**40)
    ledger.close()
    with _pg(pg_url) as db:
        version = db.execute("SELECT version FROM seedance.schema_version").fetchall()
        types = {
            r["column_name"]: r["data_type"]
            for r in db.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema='seedance' AND table_name='jobs'"
            )
        }
    assert version == [{"version": schema_version()}]
    assert set(types) == set(ledger_core.columns())
    # timestamps keep sub-second precision (PostgreSQL's REAL would round them to minutes)
    assert types["lease_until"] == types["created_at"] == "double precision"
    assert types["seed"] == "bigint"
    again = open_ledger(pg_url)  # opening it again changes nothing and loses nothing
    row = again.get(job)
    assert row is not None and row["create_deadline"] == 1.5e9 + 0.125 and row["seed"] == 2**40
    assert _claim(again, "h1") == (row, False)
    again.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_adding_a_column_is_one_step_that_upgrades_a_ledger_in_place(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = request.getfixturevalue("pg_url") if backend == "postgres" else tmp_path / "l.sqlite"
    ledger = open_ledger(target)
    job = _claim(ledger, "h1")[0]["id"]
    ledger.update(job, status="running")
    ledger.close()
    # a later release appends one line to ADDED_COLUMNS
    monkeypatch.setattr(
        ledger_core, "ADDED_COLUMNS", (*ledger_core.ADDED_COLUMNS, ("reviewed_by", "TEXT"))
    )
    upgraded = open_ledger(target)
    row = upgraded.get(job)
    assert row is not None and row["status"] == "running" and row["reviewed_by"] is None
    assert upgraded.update(job, reviewed_by="ana")["reviewed_by"] == "ana"
    upgraded.close()
    if backend == "postgres":
        with _pg(str(target)) as db:
            got = db.execute("SELECT version FROM seedance.schema_version").fetchone()["version"]
    else:
        with sqlite3.connect(target) as db:
            got = db.execute("PRAGMA user_version").fetchone()[0]
    assert got == schema_version() == 1 + len(ledger_core.ADDED_COLUMNS)


def test_two_clients_opening_a_new_database_at_once_both_get_one_schema(pg_url: str) -> None:
    ledgers: list[LedgerCore] = []
    failures: list[BaseException] = []
    gate = threading.Barrier(6)

    def open_one() -> None:
        gate.wait()
        try:
            ledgers.append(open_ledger(pg_url))
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and len(ledgers) == 6
    for ledger in ledgers:
        ledger.close()


# ----------------------------------------------------------------------------- never pay twice


def test_machines_claiming_the_same_request_at_once_get_one_job(pg_url: str) -> None:
    # each ledger is its own connection: eight machines of a team, one request, the same moment
    ledgers = [PostgresLedger(LedgerURL(pg_url)) for _ in range(8)]
    for attempt in range(5):
        gate = threading.Barrier(len(ledgers))
        results: list[tuple[dict[str, Any], bool]] = []

        def claim(
            ledger: LedgerCore, owner: str, gate: threading.Barrier, results: list, attempt: int
        ) -> None:
            gate.wait()
            results.append(_claim(ledger, f"same-{attempt}", owner))

        threads = [
            threading.Thread(target=claim, args=(ledger, f"m{i}:1-x", gate, results, attempt))
            for i, ledger in enumerate(ledgers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sum(fresh for _, fresh in results) == 1, results
        assert len({row["id"] for row, _ in results}) == 1
    assert ledgers[0].count() == 5
    for ledger in ledgers:
        ledger.close()


def test_a_client_on_another_workdir_reuses_the_teams_job(
    emu: Emulator, pg_url: str, tmp_path: Path
) -> None:
    params = {"duration": 4, "resolution": "480p", "seed": 3}
    with sd.Client(**client_kwargs(emu, tmp_path / "a", ledger=pg_url)) as a:
        first = a.generate("one ledger for the team", timeout=60, **params)
    with sd.Client(**client_kwargs(emu, tmp_path / "b", ledger=pg_url)) as b:
        again = b.submit("one ledger for the team", **params)
        assert again.id == first.id and again.reused and again.status == "succeeded"
        assert [j.id for j in b.jobs()] == [first.id]
    assert sum(emu.stats()["creates"].values()) == 1
    assert not (tmp_path / "a" / "ledger.sqlite").exists()  # the team ledger, not a file


def test_the_budget_holds_for_the_whole_team(emu: Emulator, pg_url: str, tmp_path: Path) -> None:
    """Spend is counted from the shared ledger: what one machine spent leaves less for the
    next, and a submit past the team's budget reaches no server."""
    params = {"model": "seedance-2.0", "duration": 4, "resolution": "480p"}
    with sd.Client(**client_kwargs(emu, tmp_path / "a", ledger=pg_url, budget_usd=0.5)) as a:
        a.generate("the team's first clip", timeout=60, seed=1, **params)  # ≈ $0.28
    seen = sum(emu.stats()["requests"].values())
    with sd.Client(**client_kwargs(emu, tmp_path / "b", ledger=pg_url, budget_usd=0.5)) as b:
        assert b.spend().spent_usd > 0.25  # the other machine's clip
        with pytest.raises(sd.BudgetExceeded, match=r"\$0\.50"):
            b.submit("a second clip from another machine", seed=2, **params)
        again = b.submit("the team's first clip", seed=1, **params)  # reused: costs nothing
        assert again.reused
    assert sum(emu.stats()["requests"].values()) == seen


# ----------------------------------------------------------------------------- leases


def test_versions_move_with_every_write_another_machine_makes(pg_url: str) -> None:
    ledger, other = PostgresLedger(LedgerURL(pg_url)), PostgresLedger(LedgerURL(pg_url))
    versions_follow_every_write(ledger, other, CLAIM)


def test_a_lease_runs_out_on_the_servers_clock_not_a_skewed_hosts(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_core, "LEASE_SECONDS", 1.0)
    # host A's clock is two minutes slow: by its own clock its leases ran out long ago
    slow = PostgresLedger(LedgerURL(pg_url), clock=lambda: time.time() - 120)
    other = PostgresLedger(LedgerURL(pg_url))
    job = _claim(slow, "h", owner="host-a:11-aaaa")[0]["id"]
    assert abs(slow.now() - other.now()) < 0.5  # both on the server's clock
    # while A renews (its heartbeat) nobody takes the job, whatever A's clock says
    end = time.monotonic() + 2.0
    while time.monotonic() < end:
        slow.renew_leases([job], "host-a:11-aaaa")
        assert not other.take_lease(job, "host-b:22-bbbb")
        time.sleep(0.3)
    # A stops (its machine went away): one lease term later, B drives the job
    time.sleep(1.1)
    assert other.take_lease(job, "host-b:22-bbbb")
    assert not slow.take_lease(job, "host-a:11-aaaa")
    slow.close()
    other.close()


def test_only_this_hosts_dead_processes_lose_their_lease_at_once(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    monkeypatch.setenv("SEEDANCE_OWNER_HOST", "host-b")
    ledger = open_ledger(pg_url)
    here, there = f"host-b:{dead.pid}-aaaa", f"host-a:{dead.pid}-aaaa"
    assert process_gone(here) and not process_gone(there)  # same pid, another machine
    mine = Leases(ledger, "host-b:1-bbbb")
    on_a = _claim(ledger, "h-a", owner=there)[0]["id"]
    on_b = _claim(ledger, "h-b", owner=here)[0]["id"]
    assert not mine.take(on_a)  # its lease holds until it runs out: A may be alive
    assert mine.take(on_b)  # a dead process on this host: taken at once
    ledger.close()


# ----------------------------------------------------------------------------- secrets


def _logged(records: list[logging.LogRecord]) -> str:
    return "\n".join(r.getMessage() + (str(r.exc_info) if r.exc_info else "") for r in records)


class _All(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_the_password_never_shows(
    emu: Emulator, postgres: Any, pg_url: str, tmp_path: Path
) -> None:
    password = postgres.password
    assert password in pg_url
    root = logging.getLogger()
    keep, level = _All(), root.level
    root.addHandler(keep)
    root.setLevel(logging.DEBUG)
    shown: list[str] = []
    try:
        with sd.Client(**client_kwargs(emu, tmp_path / "w", ledger=pg_url)) as client:
            job = client.generate("a sealed password", duration=4, resolution="480p", timeout=60)
            shown += [repr(client), str(client), repr(client.ledger), repr(job), job.summary()]
            shown += [repr(client.async_client._settings), client.ledger.where]
        # a refused password, and a server that is not there: clear errors, no password
        nobody = pg_url.replace(f":{postgres.port}/", f":{free_port()}/")
        for bad in (postgres.url(password="wrong-" + password), nobody):
            with pytest.raises(sd.ConfigurationError) as refused:
                sd.Client(**client_kwargs(emu, tmp_path / "w2", ledger=bad))
            shown += [str(refused.value), repr(refused.value)]
            assert "could not open the ledger at postgresql://seedance_test:***@" in str(
                refused.value
            )
    finally:
        root.removeHandler(keep)
        root.setLevel(level)
    shown.append(_logged(keep.records))
    with _pg(pg_url) as db:  # the ledger itself: every value of every row
        shown += [repr(r) for r in db.execute("SELECT * FROM seedance.jobs")]
    shown += [p.read_bytes().decode("latin-1") for p in (tmp_path / "w").rglob("*") if p.is_file()]
    leaks = [text for text in shown if password in text]
    assert leaks == []
    assert "***" in repr(LedgerURL(pg_url)) and "***" in repr(client)


def test_a_password_in_the_query_is_masked_too() -> None:
    url = "postgresql://db.example.com/team?user=ana&password=s%40cret&sslmode=require"
    assert mask_url(url) == (
        "postgresql://db.example.com/team?user=ana&password=***&sslmode=require"
    )
    sealed = LedgerURL(url)
    assert "cret" not in repr(sealed) + str(sealed)
    assert sealed.scrub("auth for s@cret and s%40cret failed") == "auth for *** and *** failed"
    with pytest.raises(sd.ConfigurationError) as wrong:
        LedgerURL("mysql://ana:s3cret@db/team")
    assert "s3cret" not in str(wrong.value) and "postgresql://" in str(wrong.value)


def test_config_shows_the_ledger_with_its_password_masked(
    ip: Any,
    pg_url: str,
    postgres: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from seedance_nb.jupyter import runner

    ip.user_ns["team_ledger"] = pg_url
    try:
        ip.run_line_magic("config", "Seedance.ledger = team_ledger")
        value = ip.run_line_magic("config", "Seedance.ledger")
        ip.run_line_magic("config", "Seedance")
        printed = capsys.readouterr().out
        assert value == LedgerURL(pg_url) and runner._ledger == value  # every view's client
        assert "Current: LedgerURL('postgresql://seedance_test:***@127.0.0.1" in printed
        assert postgres.password not in repr(value) + str(value) + printed
        ip.run_line_magic("config", "Seedance.ledger = 'mysql://x:hunter2@db/t'")
        refused = capsys.readouterr().out + caplog.text  # IPython logs a refused %config
        assert "unsupported ledger URL 'mysql://x:***@db/t'" in refused
        assert "hunter2" not in refused
        assert ip.run_line_magic("config", "Seedance.ledger") == value  # left as it was
    finally:
        ip.run_line_magic("config", "Seedance.ledger = None")
        ip.user_ns.pop("team_ledger", None)
    assert runner._ledger is None


def test_importing_the_package_or_using_the_sqlite_default_loads_no_psycopg(
    tmp_path: Path,
) -> None:
    code = (
        "import sys, seedance_nb as sd\n"
        "assert 'psycopg' not in sys.modules\n"
        f"c = sd.Client(provider='emulator', base_url='http://127.0.0.1:9/api/v3', "
        f"workdir={str(tmp_path / 'w')!r})\n"
        "assert 'psycopg' not in sys.modules, 'the SQLite default imported psycopg'\n"
        "assert type(c.ledger).__name__ == 'Ledger'\n"
        "c.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert isinstance(open_ledger(tmp_path / "w" / "ledger.sqlite"), Ledger)


def test_the_command_line_reads_the_teams_ledger(
    emu: Emulator, pg_url: str, postgres: Any, tmp_path: Path
) -> None:
    with sd.Client(**client_kwargs(emu, tmp_path / "a", ledger=pg_url)) as client:
        job = client.generate("listed from the shell", duration=4, resolution="480p", timeout=60)
    env = {k: v for k, v in os.environ.items() if not k.endswith("API_KEY")}
    env.update(SEEDANCE_LEDGER_URL=pg_url, SEEDANCE_WORKDIR=str(tmp_path / "elsewhere"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "seedance_nb.cli", *args]
        return subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)

    listed, shown, missing = cli("jobs", "--json"), cli("show", job.id), cli("show", "job_nope")
    assert [j["id"] for j in json.loads(listed.stdout)] == [job.id], listed.stderr
    assert shown.returncode == 0 and job.id in shown.stdout
    assert missing.returncode != 0 and "postgresql://seedance_test:***@" in missing.stderr
    everything = "".join(p.stdout + p.stderr for p in (listed, shown, missing))
    assert postgres.password not in everything
    assert not (tmp_path / "elsewhere" / "ledger.sqlite").exists()


def test_a_connection_the_server_dropped_is_opened_again(pg_url: str) -> None:
    import psycopg

    ledger = PostgresLedger(LedgerURL(pg_url))
    job = _claim(ledger, "h")[0]["id"]
    with _pg(pg_url) as admin:  # the server ends every other session (a restart, a failover)
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname=current_database() AND pid<>pg_backend_pid()"
        )
    with pytest.raises(psycopg.OperationalError):
        ledger.update(job, status="running")  # the write that met the drop fails, and says so
    assert ledger.update(job, status="running")["status"] == "running"  # the next reconnects
    ledger.close()
    with pytest.raises(RuntimeError, match="closed"):
        ledger.get(job)  # a closed ledger stays closed
