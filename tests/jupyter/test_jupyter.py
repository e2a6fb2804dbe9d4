"""The Jupyter layer driven through a real IPython shell against the offline emulator.

Cells run with ``run_cell_async`` inside a running event loop, as in ipykernel, so the magic
schedules its submit on that loop exactly as it does on a kernel's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from shell_support import htmls, run, texts

import seedance_nb as sd
from seedance_nb.jupyter import runner


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ip: Any) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for key in (
        "ARK_API_KEY",
        "BYTEPLUS_ARK_API_KEY",
        "VOLCENGINE_ARK_API_KEY",
        "SEEDANCE_PROVIDER",
        "SEEDANCE_WORKDIR",
    ):
        monkeypatch.delenv(key, raising=False)
    ip.run_line_magic("config", "Seedance.workdir = 'seedance-output'")
    ip.run_line_magic("config", "Seedance.model = 'seedance-2.0'")
    yield tmp_path / "seedance-output"
    runner._clients.clear()


def test_dry_run_shows_the_request_and_sends_nothing(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        result, cap = await run(
            ip,
            "%%seedance --dry-run --duration 4 --resolution 480p --seed 7\n"
            "A paper boat {not expanded} drifts",
        )
        assert result.success
        (text,) = texts(cap)
        assert text.startswith("dry run · seedance-2.0")
        assert "nothing sent" in text and "tokens" in text and "$" in text
        assert '"text": "A paper boat {not expanded} drifts"' in text  # body verbatim
        assert '"seed": 7' in text and '"duration": 4' in text
        # the emulator's port changes every run, so a saved notebook shows none
        assert "POST <offline emulator>/api/v3/contents/generations/tasks" in text
        assert "127.0.0.1" not in text
        ledger = runner.get_client(None, workdir).ledger
        assert ledger.count() == 0

    asyncio.run(main())


def test_invalid_duration_is_one_line_no_exception(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        result, cap = await run(ip, "%%seedance --duration 99\nA cat")
        assert result.success and result.error_in_exec is None
        (text,) = texts(cap)
        assert text.startswith("✗ InvalidRequest: duration=99")
        assert "4-15 s" in text and "\n" not in text
        assert "Traceback" not in cap.stdout + cap.stderr
        assert 'class="seedance-error"' in htmls(cap)[0]

    asyncio.run(main())


def test_submit_and_wait_shows_video(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        src = "%%seedance -m seedance-2.0-fast --duration 4 --resolution 480p --seed 11 --name job --wait\nA lighthouse at dusk"
        result, cap = await run(ip, src)
        assert result.success
        pending = ip.user_ns["job"]
        job = pending.job
        assert isinstance(job, sd.Job)
        assert pending.status == "succeeded"  # the proxy forwards to the job
        assert job.status == "succeeded" and job.video_path is not None and job.video_path.exists()
        assert job.video_path.is_relative_to(workdir)
        final = [o for o in cap.outputs if "text/html" in o.data][-1]
        assert '<video src="seedance-output/videos/' in final.data["text/html"]
        assert "seed 11" in final.data["text/plain"]
        assert final.metadata["seedance"]["task_id"] == job.task_id
        assert final.metadata["seedance"]["seed"] == 11
        assert final.metadata["seedance"]["provider"] == "emulator"
        # history lists it
        _, cap = await run(ip, "%seedance history")
        assert job.id in texts(cap)[0]

    asyncio.run(main())


def test_cell_returns_at_once_and_await_completes(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        result, cap = await run(
            ip,
            "%%seedance -m seedance-2.0-fast --duration 4 --resolution 480p --name j\nA red kite",
        )
        assert loop.time() - t0 < 1.0  # returned before the render (~3 s on the emulator)
        assert texts(cap)[0] == "seedance-2.0-fast: submitting"
        result, _ = await run(ip, "done = await j")
        assert result.success
        assert ip.user_ns["done"].status == "succeeded"

    asyncio.run(main())


def test_compare_two_tiers(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        src = "%%seedance -m seedance-2.0-fast,seedance-1.0-pro-fast --duration 4 --resolution 480p --name cmp\nA paper boat"
        await run(ip, src)
        result, _ = await run(ip, "jobs = await cmp")
        assert result.success
        jobs = ip.user_ns["jobs"]
        assert [j.model for j in jobs] == ["seedance-2.0-fast", "seedance-1.0-pro-fast"]
        assert all(j.status == "succeeded" for j in jobs)
        rows = ip.user_ns["cmp"].rows()
        assert all(r["tokens"] and r["estimated_cost_usd"] for r in rows)
        assert "Play all" in ip.user_ns["cmp"].html()

    asyncio.run(main())


def test_line_magics(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        _, cap = await run(ip, "%seedance models")
        table = texts(cap)[1]
        assert "seedance-2.0-fast" in table and "480p 720p" in table
        _, cap = await run(ip, "%config Seedance.model = 'seedance-1.0-pro'")
        _, cap = await run(ip, "%seedance config")
        assert "Seedance.model = 'seedance-1.0-pro'" in texts(cap)[0]
        _, cap = await run(ip, "%seedance status")
        assert "0 active" in texts(cap)[0]
        _, cap = await run(ip, "%seedance bogus")
        assert texts(cap)[0].startswith("✗ UsageError")

    asyncio.run(main())


def test_form_follows_model_limits(workdir: Path) -> None:
    async def main() -> None:
        from seedance_nb.jupyter.form import form

        f = form()
        f.model.value = "seedance-2.0-fast"
        assert list(f.resolution.options) == ["480p", "720p"]
        assert 15 in f.duration.options and 2 not in f.duration.options
        f.model.value = "seedance-1.0-pro"
        assert 2 in f.duration.options and 15 not in f.duration.options
        assert f.audio.disabled and f.audio.value is False
        assert "1080p" in f.resolution.options
        f.model.value = "seedance-1.0-lite-t2v"
        assert f.images.disabled
        # lint: [Image 1] with nothing attached blocks submit
        f.model.value = "seedance-2.0-fast"
        f.prompt.value = "The cat from [Image 1] jumps"
        assert "points at nothing" in f.lint.value and f.submit_button.disabled
        f.prompt.value = "A cat jumps"
        f.resolution.value, f.duration.value = "480p", 4
        assert f.lint.value == "" and not f.submit_button.disabled
        assert "tokens" in f.estimate.value
        f.submit_button.click()
        job = await f.last
        assert job.status == "succeeded"
        assert "<video" in f.views[0].widget.outputs[-1]["data"]["text/html"]

    asyncio.run(main())


def test_namespace_ref_embed_display_and_cancel(ip: Any, workdir: Path, tmp_path: Path) -> None:
    from PIL import Image

    Image.new("RGB", (640, 480), "navy").save(tmp_path / "ref.png")
    ip.user_ns["pic"] = str(tmp_path / "ref.png")

    async def main() -> None:
        # a REF that names a variable; the dry run shows it went in as an image reference
        _, cap = await run(
            ip,
            "%%seedance --dry-run -m seedance-2.0-fast --image pic --duration 4 --resolution 480p\n"
            "The ship in [Image 1] sails",
        )
        assert '"reference_image"' in texts(cap)[0] and "data:image/png" in texts(cap)[0]
        # embed: the finished view carries the MP4 as a data URL
        await run(ip, "%config Seedance.display = 'embed'")
        try:
            _, cap = await run(
                ip,
                "%%seedance -m seedance-2.0-fast --duration 4 --resolution 480p --seed 5 --wait\nA ship",
            )
        finally:
            await run(ip, "%config Seedance.display = 'relative'")
        final = [o for o in cap.outputs if "text/html" in o.data][-1]
        assert '<video src="data:video/mp4;base64,' in final.data["text/html"]
        # cancel while queued, through the line magic
        await run(
            ip,
            "%%seedance -m seedance-2.0-fast --duration 4 --resolution 480p --seed 6 --name c\nA ship",
        )
        pending = ip.user_ns["c"]
        while pending.job is None or pending.job.task_id is None:
            await asyncio.sleep(0.02)
        _, cap = await run(ip, f"%seedance cancel {pending.job.id}")
        assert f"{pending.job.id}: cancelled" in texts(cap)
        with pytest.raises(sd.JobFailed):
            await pending

    asyncio.run(main())
