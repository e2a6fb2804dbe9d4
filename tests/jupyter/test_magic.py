"""``%%seedance`` / ``%seedance`` in a real IPython shell against the offline emulator.

Options come from the parameter schema, every message is one styled line, cancel and
resubmit take ids or namespace names, history shows cost and marks ended rows, and the
emulator notice is a muted line in the cell instead of stderr.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.utils.capture import capture_output
from shell_support import htmls, run, texts

import seedance_nb as sd
from seedance_nb.engine import settings as config
from seedance_nb.jupyter import runner
from seedance_nb.jupyter.magic import Seedance
from seedance_nb.request import schema as params


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ip: Any) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for key in ("SEEDANCE_PROVIDER", "SEEDANCE_WORKDIR"):
        monkeypatch.delenv(key, raising=False)
    ip.run_line_magic("config", "Seedance.workdir = 'seedance-output'")
    ip.run_line_magic("config", "Seedance.model = 'seedance-2.0-fast'")
    ip.run_line_magic("config", "Seedance.provider = ''")
    yield tmp_path / "seedance-output"
    runner._clients.clear()


FAST = "-m seedance-2.0-fast --duration 4 --resolution 480p"


# --- options from the schema ------------------------------------------------------------------


def test_every_request_parameter_is_a_magic_option(ip: Any) -> None:
    parser = Seedance.seedance.parser
    flags = {s for a in parser._actions for s in a.option_strings}
    for p in params.PARAMS:
        assert p.flag in flags, p.name
        if p.negative:
            assert p.negative in flags, p.name
    for own in ("--provider", "--wait", "--force", "--dry-run", "--name"):
        assert own in flags
    line = (
        "-m seedance-1.0-pro --ratio 1:1 --resolution 720p --duration 5 --no-audio --seed 3 "
        "--watermark --camera-fixed --last-frame-out --service-tier flex "
        "--callback-url https://example.com/hook --first-frame a.png --last-frame b.png "
        '--image i.png --video v.mp4 --ref-audio a.wav --option metadata={"k":1} --option x=y'
    )
    args = parser.parse_argstring(line)
    values = params.from_namespace(args)
    assert set(values) == set(params.NAMES)
    assert values["camera_fixed"] is True and values["watermark"] is True
    assert values["generate_audio"] is False
    assert values["service_tier"] == "flex" and values["options"] == {
        "metadata": {"k": 1},
        "x": "y",
    }
    assert values["images"] == ["i.png"]
    # the negative forms reach False
    args = parser.parse_argstring("--no-watermark --no-camera-fixed --no-last-frame-out")
    assert params.from_namespace(args) == {
        "watermark": False,
        "camera_fixed": False,
        "return_last_frame": False,
    }


def test_new_options_reach_the_request(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        _, cap = await run(
            ip,
            "%%seedance --dry-run -m seedance-1.0-pro --duration 5 --resolution 480p "
            "--camera-fixed --service-tier flex --no-watermark\nA kite",
        )
        (text,) = texts(cap)
        assert text.startswith("dry run · seedance-1.0-pro"), text
        assert '"camera_fixed": true' in text or "--camerafixed true" in text
        assert '"service_tier": "flex"' in text

    asyncio.run(main())


# --- one error style ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "kind", "needle"),
    [
        ("%%seedance --bogus 3\nA cat", "UsageError", "--bogus"),
        ("%%seedance --duration five\nA cat", "UsageError", "five"),
        ("%%seedance --option novalue\nA cat", "UsageError", "KEY=VALUE"),
        ("%seedance bogus", "UsageError", "bogus"),
        ("%seedance history many", "UsageError", "many"),
        ("%seedance cancel", "UsageError", "cancel"),
        ("%seedance cancel nosuchjob", "unknown job", "nosuchjob"),
        ("%seedance resubmit nosuchjob", "unknown job", "nosuchjob"),
        ("%seedance models nosuchprovider", "ConfigurationError", "nosuchprovider"),
        ('%seedance history "unbalanced', "UsageError", "quotation"),
    ],
)
def test_every_error_is_one_styled_line(
    ip: Any, workdir: Path, source: str, kind: str, needle: str
) -> None:
    async def main() -> None:
        result, cap = await run(ip, source)
        assert result.success and result.error_in_exec is None and result.error_before_exec is None
        assert "Traceback" not in cap.stdout + cap.stderr
        (text,) = texts(cap)
        assert text.startswith(f"✗ {kind}: "), text
        assert needle in text and "\n" not in text
        assert 'class="seedance-error' in htmls(cap)[-1]

    asyncio.run(main())


# --- status, cancel and resubmit ----------------------------------------------------------------


def test_status_says_which_dialect_and_where(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        _, cap = await run(ip, "%seedance status")
        line = next(t for t in texts(cap) if "active" in t)
        assert re.match(
            r"ark dialect on the offline emulator at http://127\.0\.0\.1:\d+/api/v3 ", line
        ), line
        assert "emulator at emulator" not in line and "0 active" in line
        assert " · workdir seedance-output · " in line  # relative: no machine path
        _, cap = await run(ip, "%seedance status --provider cometapi")
        line = next(t for t in texts(cap) if "active" in t)
        assert line.startswith("cometapi dialect on the offline emulator at http://127.0.0.1:")

    asyncio.run(main())


def test_cancel_by_namespace_name(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        await run(ip, f"%%seedance {FAST} --seed 31 --name slow3\nA slow boat")
        pending = ip.user_ns["slow3"]
        while pending.job is None or pending.job.task_id is None:
            await asyncio.sleep(0.02)
        result, cap = await run(ip, "%seedance cancel slow3")
        assert result.success
        assert f"{pending.job.id}: cancelled" in texts(cap), texts(cap)
        with pytest.raises(sd.JobFailed):
            await pending
        # a name bound to something that is not a job is one line too
        ip.user_ns["notajob"] = 42
        _, cap = await run(ip, "%seedance cancel notajob")
        (text,) = texts(cap)
        assert text.startswith("✗ UsageError: notajob is an int, not a job")

    asyncio.run(main())


def test_resubmit_sends_the_same_request_again(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        await run(ip, f"%%seedance {FAST} --seed 41 --name first --wait\nA red kite")
        old = ip.user_ns["first"].job
        assert old.status == "succeeded"
        # the same cell again is reused, not sent, and its text says so
        _, cap = await run(ip, f"%%seedance {FAST} --seed 41 --name again --wait\nA red kite")
        assert ip.user_ns["again"].job.id == old.id
        assert f"same request as {old.id}" in texts(cap)[-1]
        assert "reused, nothing charged; --force to pay for a new take" in texts(cap)[-1]
        result, cap = await run(ip, f"%seedance resubmit {old.id} --name second")
        assert result.success
        assert texts(cap)[0] == "seedance-2.0-fast: submitting"  # a live view, not a block
        new = await ip.user_ns["second"]
        assert new.id != old.id and not new.reused and new.status == "succeeded"
        assert new.request.digest("x") == old.request.digest("x")
        assert new.video_path != old.video_path
        # by variable name, waiting
        _, cap = await run(ip, "%seedance resubmit first --wait")
        final = [o for o in cap.outputs if "text/html" in o.data][-1]
        assert "<video" in final.data["text/html"]
        client = runner.get_client(None, workdir)
        assert len(client.ledger.history(10, 0)) == 3

    asyncio.run(main())


# --- history ------------------------------------------------------------------------------------


def test_history_has_cost_marks_ended_rows_and_one_line_dates(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        await run(ip, f"%%seedance {FAST} --seed 51 --wait\nA lighthouse")
        await run(ip, f"%%seedance {FAST} --seed 52 --wait\nA storm [[moderation]]")
        _, cap = await run(ip, "%seedance history")
        (text,) = [t for t in texts(cap) if t]
        head, *rows = text.splitlines()
        assert "cost" in head.split() and "created" in head.split()
        done = next(r for r in rows if "A lighthouse" in r)
        failed = next(r for r in rows if "A storm" in r)
        assert "✗ failed" in failed and "✗" not in done
        assert re.search(r"  \$0\.\d{2,4}  ", done), done  # billed tokens: no "est."
        assert "  –  " in failed and "$" not in failed  # nothing billed
        assert not re.search(r"\d\.\d{5,}", text)  # no float noise
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", done)
        markup = next(h for h in htmls(cap) if "seedance-history" in h)
        assert "white-space:nowrap" in markup
        assert "seedance-row-failed" in markup
        assert "var(--jp-" in markup and "#888" not in markup

    asyncio.run(main())


def test_history_of_an_empty_workdir(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        _, cap = await run(ip, "%seedance history")
        assert any(t.startswith("no jobs yet in ") for t in texts(cap))

    asyncio.run(main())


def test_history_rows_update_while_jobs_are_live(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        await run(ip, f"%%seedance {FAST} --seed 61 --name live\nA live row")
        pending = ip.user_ns["live"]
        while pending.job is None:
            await asyncio.sleep(0.02)
        with capture_output() as cap:
            await ip.run_cell_async(
                "%seedance history", transformed_cell=ip.transform_cell("%seedance history")
            )
            await pending
            await asyncio.sleep(0.1)
        bodies = [t for t in texts(cap) if t.startswith("id ") and "A live row" in t]
        assert len(bodies) >= 2, bodies  # the first paint and at least one update
        assert "succeeded" in bodies[-1].splitlines()[1]
        assert any(re.search(r"queued|running|downloading|creating", b) for b in bodies[:-1])

    asyncio.run(main())


def test_history_row_actions(ip: Any, workdir: Path) -> None:
    from seedance_nb.jupyter.history import HistoryView

    async def main() -> None:
        await run(ip, f"%%seedance {FAST} --seed 71 --wait --name a\nAn old take")
        await run(ip, f"%%seedance {FAST} --seed 72 --name b\nA queued take")
        old, pending = ip.user_ns["a"].job, ip.user_ns["b"]
        while pending.job is None or pending.job.task_id is None:
            await asyncio.sleep(0.02)
        client = runner.get_client(None, workdir)
        with capture_output():
            view = HistoryView(client, await client.jobs(10), actions=True).show()
        row_old, row_live = view.row(old.id), view.row(pending.job.id)
        assert row_old.cancel.disabled and not row_live.cancel.disabled
        row_live.cancel.click()
        with pytest.raises(sd.JobFailed):
            await pending
        assert pending.job.status == "cancelled"
        row_old.open.click()
        assert "<video" in str(view.output.outputs[-1]["data"]["text/html"])
        row_old.rerun.click()
        while len(view.jobs) < 3:
            await asyncio.sleep(0.02)
        new = view.jobs[0]
        assert new.id not in (old.id, pending.job.id)
        await new
        assert new.status == "succeeded" and new.request.prompt == "An old take"
        assert f"re-run of {old.id}" in view.output.outputs[-1]["data"]["text/plain"]

    asyncio.run(main())


def test_cost_text() -> None:
    from seedance_nb.jupyter.history import money

    assert money(0.1234567) == "$0.1235"
    assert money(0.5) == "$0.50"
    assert money(12.345678) == "$12.35"
    assert money(0.043) == "$0.043"
    assert money(1234.5) == "$1,234.50"
    assert money(0.00004) == "<$0.0001"
    assert money(0.0) == "$0.00"
    assert money(None) == "?"


# --- notices, help, config ----------------------------------------------------------------------


def test_emulator_notice_is_a_muted_line_in_the_cell(ip: Any, workdir: Path) -> None:
    config._announced.clear()
    runner._clients.clear()

    async def main() -> None:
        _, cap = await run(ip, "%seedance status")
        assert cap.stderr == ""
        notice = [o for o in cap.outputs if o.data.get("text/plain", "").startswith("seedance-nb:")]
        assert len(notice) == 1
        assert config.EMULATOR_NOTICE in notice[0].data["text/plain"]
        assert "seedance-notice" in notice[0].data["text/html"]
        assert "seedance-error" not in notice[0].data["text/html"]

    asyncio.run(main())


def test_help_has_examples_and_no_rst_markers(ip: Any) -> None:
    text = ip.object_inspect_text("%seedance")
    assert "::" not in text
    assert text.count("%%seedance") >= 3 and "Examples" in text
    assert "%seedance models" in text
    assert "--camera-fixed" in text and "--service-tier" in text
    assert "resubmit" in text and "history" in text


def test_config_traits_still_work(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        await run(ip, "%config Seedance.model = 'seedance-1.0-pro'")
        _, cap = await run(ip, "%seedance config")
        assert "Seedance.model = 'seedance-1.0-pro'" in texts(cap)[0]
        _, cap = await run(ip, "%%seedance --dry-run --duration 5\nA cat")
        assert texts(cap)[0].startswith("dry run · seedance-1.0-pro")

    asyncio.run(main())
