"""Every ``%seedance`` command in terminal IPython: a real ``ipython`` process, no kernel and no
running event loop (a TerminalInteractiveShell reading cells from stdin), on the emulator."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seedance_nb import catalog

IPYTHON = Path(sys.executable).with_name("ipython")

SESSION = """\
%load_ext seedance_nb
import asyncio, time
print("shell:", type(get_ipython()).__name__)
try:
    asyncio.get_running_loop(); print("loop: running")
except RuntimeError:
    print("loop: none")

%seedance status
%%seedance -m seedance-2.0-fast --duration 4 --resolution 480p --seed 5 --name slow3
A slow boat


while slow3.job is None or slow3.job.task_id is None: time.sleep(0.02)

%seedance cancel slow3
%seedance history
%seedance models
%config Seedance.model = 'seedance-1.0-pro'
%seedance config
%%seedance -m seedance-2.0-fast --duration 4 --resolution 480p --seed 6 --name done --wait
A fast boat


print("done:", done.status)
%seedance resubmit done --wait --name again
print("again:", again.status, again.id != done.id)
%%seedance --provider orcarouter -m seedance-2.0 --duration 4 --resolution 480p --seed 7 --name gw --wait
A boat on a gateway that reports progress


print("gw:", gw.status)
%seedance cancel nosuchjob
%seedance?
"""


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> str:
    cwd = tmp_path_factory.mktemp("terminal")
    (cwd / "ipython").mkdir()  # a fresh profile: no user config or history
    keys = {name for p in catalog.PROVIDERS.values() for name in p.key_env}
    env = {k: v for k, v in os.environ.items() if k not in keys}
    # 0.5: a job runs for a second, several polls (and progress changes) long
    env.update(SEEDANCE_EMULATOR_SPEED="0.5", SEEDANCE_WORKDIR=str(cwd / "seedance-output"))
    env.pop("SEEDANCE_PROVIDER", None)
    env.pop("SEEDANCE_EMULATOR_URL", None)
    done = subprocess.run(
        [
            str(IPYTHON),
            "--no-banner",
            "--colors=nocolor",
            "--simple-prompt",
            f"--ipython-dir={cwd / 'ipython'}",
        ],
        input=SESSION,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr


def test_it_is_a_terminal_shell_without_a_loop(session: str) -> None:
    assert "shell: TerminalInteractiveShell" in session
    assert "loop: none" in session


def test_no_command_raises(session: str) -> None:
    assert "Traceback" not in session and "RuntimeError" not in session
    assert "UsageError" not in session.replace("✗ UsageError", "")


def test_status_history_models_config(session: str) -> None:
    assert re.search(
        r"ark dialect on the offline emulator at http://127\.0\.0\.1:\d+/api/v3", session
    )
    # the notice is one line, said once
    assert session.count("seedance-nb: offline emulator") == 1
    table = re.search(r"\bid +created +provider .*\n(.*)", session)
    assert table is not None and "cancelled" in table.group(1)
    assert "seedance-2.0-fast      dreamina-seedance-2-0-fast" in session
    assert "Seedance.model = 'seedance-1.0-pro'" in session


def test_cancel_by_name_cell_wait_and_resubmit(session: str) -> None:
    assert re.search(r"job_\w+: cancelled", session)
    assert "done: succeeded" in session
    assert "again: succeeded True" in session
    assert "✗ unknown job: no job 'nosuchjob'" in session


def test_help(session: str) -> None:
    help_text = session[session.index("Usage:") :]
    assert "::" not in help_text
    assert "Examples:" in help_text and "%seedance models" in help_text


def _cell_output(session: str, end_marker: str) -> str:
    """What the waiting cell printed: from its "submitting" line to the prompt before
    ``end_marker``."""
    end = session.rindex("\nIn [", 0, session.index(end_marker))  # the next prompt
    start = session.rindex(": submitting", 0, end)
    return session[session.rindex(" ", 0, start) + 1 : end]


@pytest.mark.parametrize("end_marker", ["done: succeeded", "again: succeeded", "gw: succeeded"])
def test_a_waiting_view_prints_each_state_once_and_the_summary_once(
    session: str, end_marker: str
) -> None:
    """The terminal's plain publisher prints every display update anew: a poll or progress
    tick must not become a line, and the settle repaint must not print the summary a second
    time. The orcarouter gateway (``gw``) reports progress, so its job changes on every poll."""
    out = _cell_output(session, end_marker)
    states = re.findall(r"^seedance-[\w.-]+: (\w+)\b", out, flags=re.MULTILINE)
    assert states[0] == "submitting" and "running" in states, out
    changes = [s for i, s in enumerate(states) if i == 0 or states[i - 1] != s]
    assert states == changes, out  # one line per state change, none per tick
    assert len(re.findall(r"^seedance-[\w.-]+ · 480p", out, flags=re.MULTILINE)) == 1, out
    assert len(re.findall(r"^seedance-output/videos/job_\w+\.mp4$", out, flags=re.MULTILINE)) == 1
