"""A team on one PostgreSQL ledger: machines with their own workdirs, one paid task per request.

Each "machine" is a real Python process driving a :class:`seedance_nb.Client` with a workdir of
its own and the same ``ledger=postgresql://…`` on the session's real server. Two machines on one
host are told apart by ``SEEDANCE_OWNER_HOST`` (the host in their lease ids), so the same-host
shortcut (a dead pid loses its lease at once) cannot help: a machine that dies is taken over
when its lease runs out, as on two real hosts. The figures join the fault matrix report.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest
from process_support import spawn, until

import seedance_nb as sd
from seedance_nb.emulator import Emulator
from seedance_nb.engine import ledger_core

N = 4
KEY = "sk-team-" + "7" * 24
MACHINE = r"""
import json, sys
import seedance_nb as sd
a = json.loads(sys.argv[1])
client = sd.Client(provider="emulator", api_key=a["key"], base_url=a["base"],
                   workdir=a["workdir"], ledger=a["ledger"])
jobs = [client.submit(p, duration=4, resolution="480p") for p in a["prompts"]]
print("submitted", flush=True)
for job in jobs:
    job.wait(120)
print("done", " ".join(f"{j.id}={j.reused}" for j in jobs), flush=True)
client.close()
"""


@pytest.fixture
def emu(tmp_path: Path):
    emulator = Emulator(
        tmp_path / "emu", api_key=KEY, queued_seconds=0.5, running_seconds=2.0, faults=None
    ).start()
    yield emulator
    emulator.stop()


def _prompts(tag: str) -> list[str]:
    return [f"team ledger {tag} request {i}" for i in range(N)]


def _machine(
    emu: Emulator, workdir: Path, ledger: str, prompts: list[str], host: str
) -> subprocess.Popen[str]:
    args = {
        "key": KEY,
        "base": emu.base_url + "/api/v3",
        "workdir": str(workdir),
        "ledger": ledger,
        "prompts": prompts,
    }
    return spawn(MACHINE, args, SEEDANCE_OWNER_HOST=host)


def _rows(ledger: str) -> list[dict[str, Any]]:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(ledger, row_factory=dict_row) as db:
        return list(db.execute("SELECT * FROM seedance.jobs ORDER BY created_at"))


def _videos_lost(emu: Emulator, rows: list[dict[str, Any]]) -> int:
    """Jobs whose MP4 (wherever the ledger says it is) is not what the emulator served."""
    tasks = {t.id: t for t in emu.service.tasks()}
    lost = 0
    for row in rows:
        task = tasks.get(row["task_id"] or "")
        served = emu.service.file_path(task, "video.mp4") if task else None
        mine = Path(row["video_path"] or "/nonexistent")
        if served is None or not mine.exists() or mine.read_bytes() != served.read_bytes():
            lost += 1
    return lost


def _figures(name: str, emu: Emulator, ledger: str, jobs: int, roots: list[Path]) -> dict:
    rows = _rows(ledger)
    sightings = sum(
        p.read_bytes().count(KEY.encode()) for r in roots for p in r.rglob("*") if p.is_file()
    )
    sightings += sum(json.dumps(r, default=str).count(KEY) for r in rows)
    return {
        "row": name,
        "provider": "ark",
        "ledger": "postgres",
        "jobs": jobs,
        "upstream_tasks": len(emu.service.tasks()),
        "adopted": len({r["task_id"] for r in rows if r["task_id"]}),
        "videos_lost": _videos_lost(emu, rows),
        "stuck": sum(r["phase"] != "done" for r in rows),
        "ledger_rows": len(rows),
        "key_sightings": sightings,
        "tasks_per_request": len(emu.service.tasks()) / jobs,
    }


def test_two_machines_submitting_the_same_requests_at_once_pay_once(
    emu: Emulator, pg_url: str, tmp_path: Path, fault_matrix: list
) -> None:
    prompts = _prompts("same-time")
    a, b = tmp_path / "machine-a", tmp_path / "machine-b"
    machines = [
        _machine(emu, a, pg_url, prompts, "host-a"),
        _machine(emu, b, pg_url, list(reversed(prompts)), "host-b"),
    ]
    outs = [m.communicate(timeout=180) for m in machines]
    assert all(m.returncode == 0 for m in machines), [o[1][-2000:] for o in outs]
    fig = _figures("two machines, two workdirs, one ledger, same requests", emu, pg_url, N, [a, b])
    fault_matrix.append(fig)
    # counted on the emulator's side: one create, one task per request, whoever sent it
    assert sum(emu.stats()["creates"].values()) == N
    assert fig["upstream_tasks"] == fig["adopted"] == fig["ledger_rows"] == N, fig
    assert fig["videos_lost"] == 0 and fig["stuck"] == 0 and fig["key_sightings"] == 0, fig
    # both machines waited on the same N jobs; each job was sent by exactly one of them
    done = [dict(w.split("=") for w in o[0].split("\n")[1].split()[1:]) for o in outs]
    assert set(done[0]) == set(done[1]) == {r["id"] for r in _rows(pg_url)}
    assert all(done[0][j] == "True" or done[1][j] == "True" for j in done[0])
    assert not all(done[0][j] == "True" and done[1][j] == "True" for j in done[0])
    assert not (a / "ledger.sqlite").exists() and not (b / "ledger.sqlite").exists()


def test_a_machine_killed_mid_download_is_finished_by_another(
    emu: Emulator,
    pg_url: str,
    tmp_path: Path,
    fault_matrix: list,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emu.set_faults("download-trickle;trickle=20000")
    prompts = _prompts("mid-download")
    a, b = tmp_path / "machine-a", tmp_path / "machine-b"
    machine = _machine(emu, a, pg_url, prompts, "host-a")
    parts = a / "videos"
    until(lambda: parts.exists() and any(p.stat().st_size > 1000 for p in parts.glob("*.part")))
    machine.send_signal(signal.SIGKILL)
    machine.wait(10)
    held = [r for r in _rows(pg_url) if r["phase"] == "downloading"]
    assert held and all(r["owner"].startswith("host-a:") for r in held)
    emu.set_faults(None)
    # the other machine: its own workdir, the team's ledger, another host in its owner id
    monkeypatch.setenv("SEEDANCE_OWNER_HOST", "host-b")
    with sd.Client(
        provider="emulator",
        api_key=KEY,
        base_url=emu.base_url + "/api/v3",
        workdir=b,
        ledger=pg_url,
    ) as client:
        # how long host a's leases still run, on the ledger's (the server's) clock
        lease_left = max(r["lease_until"] for r in held) - client.ledger.now()
        jobs = [client.submit(p, duration=4, resolution="480p") for p in prompts]
        assert all(j.reused for j in jobs)
        for job in jobs:
            job.wait(120)
        taken = {r["id"] for r in held}
        took = [s for j, _step, s in client.async_client.recoveries if j in taken]
    rows = _rows(pg_url)
    fig = _figures("kill mid-download, finished on another machine", emu, pg_url, N, [a, b])
    fig.update(recoveries=len(took), recover_max=round(max(took), 2))
    fig["recover_p50"] = round(sorted(took)[len(took) // 2], 2)
    fault_matrix.append(fig)
    assert fig["upstream_tasks"] == fig["adopted"] == fig["ledger_rows"] == N, fig
    assert fig["videos_lost"] == 0 and fig["stuck"] == 0 and fig["key_sightings"] == 0, fig
    for row in rows:
        if row["id"] in taken:  # finished on machine b, in its own workdir
            assert Path(row["video_path"]).parent == b / "videos"
            assert row["owner"].startswith("host-b:")
    # host a might have been alive (another host's pid says nothing here): b waited for its
    # lease to run out, the heartbeat having stopped with the kill, then took over at once
    assert len(took) == len(taken) and 0 < lease_left <= ledger_core.LEASE_SECONDS
    assert all(lease_left - 0.5 <= s <= lease_left + 10 for s in took), (lease_left, took)
