"""The command line, run as a user runs it: a subprocess on a fresh workdir, no key (so the
offline emulator), checked by its stdout, stderr, exit code and what it left in the workdir."""

from __future__ import annotations

import argparse
import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from seedance_nb import catalog, cli
from seedance_nb.engine.settings import EMULATOR_NOTICE
from seedance_nb.request import schema as params

KEY_ENVS = sorted({env for p in catalog.PROVIDERS.values() for env in p.key_env})
CHEAP = ["--duration", "4", "--resolution", "480p"]  # 40,176 tokens ≈ $0.28 on seedance-2.0


def _env(workdir: Path, **extra: str) -> dict[str, str]:
    drop = {
        *KEY_ENVS,
        "SEEDANCE_PROVIDER",
        "SEEDANCE_EMULATOR_URL",
        "SEEDANCE_CONFIRM_USD",
        "SEEDANCE_EMULATOR_FAULTS",
    }
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"SEEDANCE_WORKDIR": str(workdir), "SEEDANCE_EMULATOR_SPEED": "0.2", **extra})
    return env


def run(
    workdir: Path, *args: str, timeout: float = 120, **extra: str
) -> subprocess.CompletedProcess[str]:
    """``seedance-nb ARGS`` with stdin, stdout and stderr not a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "seedance_nb.cli", *args],
        capture_output=True,
        text=True,
        env=_env(workdir, **extra),
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def run_tty(workdir: Path, *args: str, answer: str | None) -> tuple[int, str, bool]:
    """``seedance-nb ARGS`` on a pseudo-terminal; types ``answer`` when asked ``[y/N]``.
    Returns the exit code, everything the terminal showed, and whether it was asked."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "seedance_nb.cli", *args],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=_env(workdir),
        close_fds=True,
    )
    os.close(slave)
    seen, asked = b"", False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 4096)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
                if not asked and b"[y/N]" in seen:
                    asked = True
                    if answer is not None:
                        os.write(master, answer.encode() + b"\n")
            elif proc.poll() is not None:
                break
        else:
            proc.kill()
            raise AssertionError(f"seedance-nb did not finish: {seen.decode(errors='replace')}")
        return proc.wait(30), seen.decode(errors="replace"), asked
    finally:
        os.close(master)


def ledger_rows(workdir: Path) -> list[dict[str, Any]]:
    path = workdir / "ledger.sqlite"
    if not path.exists():
        return []
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM jobs ORDER BY created_at")]
    finally:
        db.close()


def emulator_tasks(workdir: Path) -> int:
    path = workdir / "emulator" / "emulator.sqlite3"
    if not path.exists():
        return 0
    db = sqlite3.connect(path)
    try:
        return int(db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0])
    finally:
        db.close()


def _generate_parser() -> argparse.ArgumentParser:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices["generate"]


# ------------------------------------------------------------------------------- options


def test_generate_offers_every_request_parameter_with_a_help_line_naming_what_is_allowed() -> None:
    gen = _generate_parser()
    actions = [a for a in gen._actions if a.option_strings and a.dest != "help"]
    dests = {a.dest for a in actions}
    for name in params.NAMES:
        assert name in dests, f"request parameter {name} has no option in `generate`"
    for action in actions:
        assert action.help and action.help != argparse.SUPPRESS, action.option_strings
    offers = [o for p in catalog.PROVIDERS.values() for o in p.offers.values() if o.available]
    for p in params.PARAMS:
        action = next(a for a in actions if a.dest == p.name and p.flag in a.option_strings)
        assert "Allowed:" in action.help or p.kind == "bool", (p.name, action.help)
        if p.kind == "choice":
            every = {str(v) for o in offers for v in p.choices(o) or ()}
            missing = [v for v in every if v not in action.help]
            assert every and not missing, (p.name, missing)
    duration = next(a for a in actions if a.dest == "duration")
    low = min(d for o in offers for d in o.durations)
    high = max(d for o in offers for d in o.durations)
    assert f"{low}-{high}" in duration.help
    provider = next(a for a in actions if "--provider" in a.option_strings)
    assert all(name in provider.help for name in catalog.PROVIDER_NAMES)


def test_generate_help_lists_the_missing_parameters(tmp_path: Path) -> None:
    shown = run(tmp_path, "generate", "--help")
    assert shown.returncode == 0, shown.stderr
    for flag in (
        "--camera-fixed",
        "--service-tier",
        "--callback-url",
        "--last-frame-out",
        "--watermark",
        "--option",
        "--dry-run",
        "--json",
        "--yes",
        "--confirm-above",
    ):
        assert flag in shown.stdout, flag
    assert "flex" in shown.stdout and "21:9" in shown.stdout and "1080p" in shown.stdout


# ------------------------------------------------------------------- nothing to start


def test_commands_that_need_no_provider_start_no_emulator_and_print_no_notice(
    tmp_path: Path,
) -> None:
    first = run(tmp_path, "generate", "A kite over dunes", *CHEAP)
    assert first.returncode == 0, first.stderr
    job_id = ledger_rows(tmp_path)[0]["id"]
    emulator = tmp_path / "emulator"
    assert emulator.is_dir()
    import shutil

    shutil.rmtree(emulator)  # from here on, any emulator start would make it again
    for args in (
        ["jobs"],
        ["jobs", "--json"],
        ["show", job_id],
        ["show", job_id, "--json"],
        ["models"],
        ["models", "--provider", "evolink"],
        ["--help"],
        ["generate", "--help"],
        ["generate", "x", "--duration", "99"],
        ["show", "job_000000000000"],
        ["resume"],
    ):
        done = run(tmp_path, *args)
        assert not emulator.exists(), f"{args} started the emulator"
        assert EMULATOR_NOTICE not in done.stderr + done.stdout, args
    refused = run(tmp_path, "generate", "x", "--duration", "99")
    assert refused.returncode == 2
    assert "duration=99" in refused.stderr and "4-15 s" in refused.stderr


def test_generate_says_the_emulator_notice_once_and_not_as_an_error(tmp_path: Path) -> None:
    done = run(tmp_path, "generate", "A paper boat in the rain", *CHEAP)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count(EMULATOR_NOTICE) == 1
    line = next(x for x in done.stderr.splitlines() if EMULATOR_NOTICE in x)
    assert "error" not in line.lower().replace(EMULATOR_NOTICE.lower(), "")
    assert "error" not in done.stderr.lower()
    video = Path(done.stdout.strip())
    assert video.is_file() and video.stat().st_size > 1000


# ------------------------------------------------------------------------------ reuse


def test_a_reused_request_says_so_and_prints_no_old_wall_time_as_new(tmp_path: Path) -> None:
    first = run(tmp_path, "generate", "A lighthouse at dusk", *CHEAP)
    assert first.returncode == 0, first.stderr
    assert "done:" in first.stderr and "reused" not in first.stderr
    again = run(tmp_path, "generate", "A lighthouse at dusk", *CHEAP)
    assert again.returncode == 0, again.stderr
    job_id = ledger_rows(tmp_path)[0]["id"]
    assert f"same request as {job_id}" in again.stderr
    assert "reused, nothing charged; --force to pay for a new take" in again.stderr
    assert "done:" not in again.stderr  # the old summary (and its wall time) is not replayed
    assert EMULATOR_NOTICE not in again.stderr  # a settled job is read from the ledger
    assert again.stdout.strip() == first.stdout.strip()
    assert len(ledger_rows(tmp_path)) == 1 and emulator_tasks(tmp_path) == 1
    as_json = run(tmp_path, "generate", "A lighthouse at dusk", *CHEAP, "--json")
    data = json.loads(as_json.stdout)
    assert data["reused"] is True and data["job"]["id"] == job_id
    assert data["job"]["status"] == "succeeded" and "reused" in data["note"]
    forced = run(tmp_path, "generate", "A lighthouse at dusk", *CHEAP, "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["reused"] is False
    assert len(ledger_rows(tmp_path)) == 2 and emulator_tasks(tmp_path) == 2


# ------------------------------------------------------------------------------ confirm


def test_an_expensive_request_asks_on_a_terminal_and_no_sends_nothing(tmp_path: Path) -> None:
    args = ("generate", "A whale breaches", *CHEAP, "--confirm-above", "0.1")
    code, shown, asked = run_tty(tmp_path, *args, answer="n")
    assert asked, shown
    assert "estimate ≈ 40,176 tokens ≈ $0.28 for seedance-2.0" in shown
    assert code == 1 and "not sent" in shown
    assert ledger_rows(tmp_path) == [] and not (tmp_path / "emulator").exists()

    code, shown, asked = run_tty(tmp_path, *args, answer="y")
    assert asked and code == 0, shown
    assert len(ledger_rows(tmp_path)) == 1 and emulator_tasks(tmp_path) == 1

    code, shown, asked = run_tty(tmp_path, *args, answer=None)  # a re-run costs nothing
    assert code == 0 and not asked, shown
    assert "reused, nothing charged" in shown
    assert len(ledger_rows(tmp_path)) == 1


def test_an_expensive_request_without_a_terminal_needs_yes(tmp_path: Path) -> None:
    refused = run(tmp_path, "generate", "A whale breaches", *CHEAP, SEEDANCE_CONFIRM_USD="0.1")
    assert refused.returncode == 2
    assert "≈ $0.28" in refused.stderr and "--yes" in refused.stderr
    assert ledger_rows(tmp_path) == [] and not (tmp_path / "emulator").exists()
    cheap_enough = run(tmp_path, "generate", "A whale breaches", *CHEAP, "--confirm-above", "1")
    assert cheap_enough.returncode == 0, cheap_enough.stderr
    forced = run(
        tmp_path,
        "generate",
        "A whale breaches",
        *CHEAP,
        "--force",
        "--yes",
        SEEDANCE_CONFIRM_USD="0.1",
    )
    assert forced.returncode == 0, forced.stderr
    assert len(ledger_rows(tmp_path)) == 2
    bad = run(tmp_path, "generate", "A whale breaches", *CHEAP, SEEDANCE_CONFIRM_USD="lots")
    assert bad.returncode == 2 and "SEEDANCE_CONFIRM_USD" in bad.stderr


# ------------------------------------------------------------------------------ dry run


def test_dry_run_shows_the_exact_request_and_estimate_and_sends_nothing(tmp_path: Path) -> None:
    shown = run(tmp_path, "generate", "A fox in snow", *CHEAP, "--seed", "7", "--dry-run")
    assert shown.returncode == 0, shown.stderr
    assert "nothing sent" in shown.stdout and "40,176 tokens" in shown.stdout
    assert "POST " in shown.stdout and "/contents/generations/tasks" in shown.stdout
    data = json.loads(
        run(
            tmp_path, "generate", "A fox in snow", *CHEAP, "--seed", "7", "--dry-run", "--json"
        ).stdout
    )
    assert data["dry_run"] is True and data["method"] == "POST"
    assert data["body"]["model"] == catalog.PROVIDERS["emulator"].offers["seedance-2.0"].model_id
    assert data["body"]["seed"] == 7 and data["estimated_tokens"] == 40176
    assert data["estimated_cost_usd"] == pytest.approx(40176 * 7 / 1e6)
    assert ledger_rows(tmp_path) == [] and emulator_tasks(tmp_path) == 0


# ------------------------------------------------------------------------ jobs, show, models


def test_show_and_jobs_report_the_job_in_text_and_json(tmp_path: Path) -> None:
    made = run(tmp_path, "generate", "A red balloon", *CHEAP, "--seed", "5", "--json")
    assert made.returncode == 0, made.stderr
    job = json.loads(made.stdout)["job"]
    assert job["status"] == "succeeded" and Path(job["video_path"]).is_file()
    shown = run(tmp_path, "show", job["id"])
    assert shown.returncode == 0, shown.stderr
    for text in (
        job["id"],
        "succeeded",
        job["video_path"],
        "A red balloon",
        "seed 5",
        "480p",
        job["task_id"],
    ):
        assert str(text) in shown.stdout, text
    data = json.loads(run(tmp_path, "show", job["id"], "--json").stdout)
    assert data["id"] == job["id"] and data["request"]["seed"] == 5
    assert data["video_path"] == job["video_path"]
    listed = json.loads(run(tmp_path, "jobs", "--json").stdout)
    assert [j["id"] for j in listed] == [job["id"]]
    text = run(tmp_path, "jobs").stdout
    assert job["id"] in text and "succeeded" in text
    missing = run(tmp_path, "show", "job_nothere")
    assert missing.returncode == 2 and "no job 'job_nothere'" in missing.stderr


def test_models_lists_each_tier_from_the_catalog(tmp_path: Path) -> None:
    shown = run(tmp_path, "models", "--provider", "ark")
    assert shown.returncode == 0, shown.stderr
    for tier, offer in catalog.PROVIDERS["ark"].offers.items():
        line = next(x for x in shown.stdout.splitlines() if x.startswith(tier + " "))
        assert offer.model_id in line and offer.resolutions[-1] in line
        price = catalog.price_per_million_tokens(tier)
        assert f"${price:.2f}" in line
    assert "4k" in next(x for x in shown.stdout.splitlines() if x.startswith("seedance-2.0 "))
    data = json.loads(run(tmp_path, "models", "--provider", "evolink", "--json").stdout)
    assert data["provider"] == "evolink"
    assert [t["tier"] for t in data["tiers"]] == list(catalog.PROVIDERS["evolink"].offers)
    assert data["tiers"][0]["usd_per_mtok"] == catalog.price_per_million_tokens("seedance-2.0")
    unknown = run(tmp_path, "models", "--provider", "nope")
    assert unknown.returncode == 2 and "evolink" in unknown.stderr


# ------------------------------------------------------------------ cancel, resume, unknown


def test_cancel_a_queued_job_and_say_why_a_running_one_cannot_be(tmp_path: Path) -> None:
    slow = {"SEEDANCE_EMULATOR_SPEED": "8"}  # queued 8 s, running 16 s
    made = run(tmp_path, "generate", "A slow sunrise", *CHEAP, "--no-wait", "--json", **slow)
    assert made.returncode == 0, made.stderr
    job_id = json.loads(made.stdout)["job"]["id"]
    cancelled = run(tmp_path, "cancel", job_id, **slow)
    assert cancelled.returncode == 0, cancelled.stderr
    assert f"{job_id}: cancelled" in cancelled.stdout
    again = run(tmp_path, "cancel", job_id, "--json", **slow)
    assert again.returncode == 1 and "already cancelled" in again.stderr
    assert json.loads(again.stdout)["status"] == "cancelled"

    made = run(tmp_path, "generate", "A slow sunset", *CHEAP, "--no-wait", "--json", **slow)
    job_id = json.loads(made.stdout)["job"]["id"]
    time.sleep(9)  # past the queue: running now
    refused = run(tmp_path, "cancel", job_id, **slow)
    assert refused.returncode == 1, refused.stdout
    assert "cannot cancel" in refused.stderr and "only queued tasks" in refused.stderr


def test_resume_drives_unfinished_jobs_to_the_end(tmp_path: Path) -> None:
    made = run(tmp_path, "generate", "A train in fog", *CHEAP, "--no-wait", "--json")
    assert made.returncode == 0, made.stderr
    job_id = json.loads(made.stdout)["job"]["id"]
    assert ledger_rows(tmp_path)[0]["phase"] != "done"
    resumed = run(tmp_path, "resume", "--json")
    assert resumed.returncode == 0, resumed.stderr
    jobs = json.loads(resumed.stdout)
    assert [j["id"] for j in jobs] == [job_id] and jobs[0]["status"] == "succeeded"
    assert Path(jobs[0]["video_path"]).is_file()
    assert job_id in resumed.stderr  # progress went to stderr
    nothing = run(tmp_path, "resume")
    assert nothing.returncode == 0 and "nothing to resume" in nothing.stderr


def test_an_unknown_outcome_prints_the_ways_out(tmp_path: Path) -> None:
    args = ("generate", "A lost answer", *CHEAP, "--provider", "evolink")
    lost = run(tmp_path, *args, SEEDANCE_EMULATOR_FAULTS="create-drop")
    assert lost.returncode == 4, lost.stderr
    job_id = ledger_rows(tmp_path)[0]["id"]
    for way in ("--force", "client.resubmit(job)", f"%seedance resubmit {job_id}"):
        assert way in lost.stderr, way
    again = run(tmp_path, *args)
    assert again.returncode == 4, again.stderr
    assert f"same request as {job_id}" in again.stderr and "--force" in again.stderr
    assert f"%seedance resubmit {job_id}" in again.stderr
    assert len(ledger_rows(tmp_path)) == 1
    shown = run(tmp_path, "show", job_id)
    assert "unknown" in shown.stdout and "--force" in shown.stdout
