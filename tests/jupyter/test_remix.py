"""``job.remix`` and the Remix buttons, and a finished video's URL expiry, on the emulator over a
real socket. The buttons are clicked the way ipykernel 7 delivers a click: on a subshell thread
(see tests/test_form.py), and the prefilled form's Submit makes a new video."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import client_kwargs
from test_form import LoopThread, kernel, slow_queue_emulator, subshell, wait_until

import seedance_nb as sd
from seedance_nb import display as h
from seedance_nb.emulator import Emulator
from seedance_nb.engine.expiry import URL_LIFETIME_SECONDS, expiry_text
from seedance_nb.request.schema import PARAMS, params_of

__all__ = ["kernel", "slow_queue_emulator", "subshell"]  # fixtures used here
CLIP = {"model": "seedance-2.0", "duration": 4, "resolution": "480p", "seed": 5}


def test_remix_submits_the_jobs_parameters_with_the_changes(
    client: sd.Client, emulator: Emulator
) -> None:
    job = client.submit("A paper boat at dusk", ratio="9:16", camera_fixed=None, **CLIP).wait(60)
    created = emulator.stats()["tasks_created"]
    remix = job.remix(seed=8, duration=5)
    assert not remix.reused and remix.id != job.id
    mine, theirs = params_of(job.request), params_of(remix.request)
    assert (theirs["seed"], theirs["duration"]) == (8, 5)
    for p in PARAMS:  # every other parameter is the job's own
        if p.name not in ("seed", "duration"):
            assert theirs[p.name] == mine[p.name], p.name
    assert remix.request.prompt == job.request.prompt
    assert remix.wait(60).status == "succeeded" and remix.video_path.is_file()
    assert emulator.stats()["tasks_created"] == created + 1

    same = job.remix()  # no change: the same request, reused, nothing sent
    assert same.reused and same.id == job.id
    assert emulator.stats()["tasks_created"] == created + 1
    other = job.remix(prompt="A paper boat at dawn", model="seedance-1.0-pro")
    # 2.0 made audio; 1.0-pro takes no audio switch, so the old value is not carried over
    assert job.request.generate_audio is True and other.request.generate_audio is None
    assert other.request.prompt == "A paper boat at dawn" and other.request.ratio == "9:16"
    with pytest.raises(TypeError, match="unexpected argument"):
        job.remix(sed=3)
    with pytest.raises(sd.InvalidRequest, match="duration"):
        job.remix(duration=99)


def test_remix_goes_through_the_budget(emulator: Emulator, tmp_path: Path) -> None:
    with sd.Client(**client_kwargs(emulator, tmp_path / "w", budget_usd=0.3)) as client:
        job = client.submit("A fox", **CLIP).wait(60)
        before = emulator.stats()["tasks_created"]
        with pytest.raises(sd.BudgetExceeded):
            job.remix(seed=9)
        assert job.remix().reused  # the same request costs nothing
        assert emulator.stats()["tasks_created"] == before


def test_remix_async_on_the_async_client(emulator: Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        async with sd.AsyncClient(**client_kwargs(emulator, tmp_path / "w")) as ac:
            job = await (await ac.submit("An owl", **CLIP))
            remix = await job.remix_async(resolution="720p")
            await remix
            assert remix.request.resolution == "720p" and remix.request.seed == 5

    asyncio.run(main())


# --- expiry ------------------------------------------------------------------------------------


def _died_mid_download(job: sd.Job, finished: float | None = None) -> None:
    """Put ``job`` back where a process that died mid-download leaves it: succeeded upstream,
    the video not on disk."""
    assert job.video_path is not None
    job.video_path.unlink()
    raw = dict(job.raw)
    if finished is not None:
        raw["updated_at"] = int(finished)
    job.client.ledger.update(
        job.id, phase="downloading", status="running", video_path=None, raw_json=raw
    )


def test_a_finished_video_not_on_disk_shows_its_url_expiry_and_resume_fetches_it(
    emulator: Emulator, tmp_path: Path
) -> None:
    from seedance_nb.jupyter.history import EXPIRY_HINT, text_table

    kw = client_kwargs(emulator, tmp_path / "w")
    with sd.Client(**kw) as first:
        job = first.submit("A lantern over the sea", **CLIP).wait(60)
        finished = float(job.raw["updated_at"])
        assert job.url_expires_at is None  # on disk: no clock
        _died_mid_download(job)
    with sd.Client(**kw) as later:
        (listed,) = later.jobs()
        assert listed.phase == "downloading" and listed.video_path is None
        assert listed.url_expires_at == pytest.approx(finished + URL_LIFETIME_SECONDS)
        assert expiry_text(listed, now=finished + 3600) == "video URL expires in 23 h 00 min"
        assert "video URL expires in 2" in h.job_text(listed)  # 23 h … or 24 h … just now
        assert "video URL expires in 2" in h.job_html(listed)
        table = text_table([listed])
        assert "downloading · URL expires in 2" in table and EXPIRY_HINT in table
        later.resume()
        fetched = later.get_job(job.id).wait(60)
        assert fetched.status == "succeeded" and fetched.video_path.is_file()
        assert fetched.url_expires_at is None and "expires" not in h.job_text(fetched)


def test_an_expired_url_says_so(emulator: Emulator, tmp_path: Path) -> None:
    kw = client_kwargs(emulator, tmp_path / "w")
    with sd.Client(**kw) as first:
        job = first.submit("An old lantern", **CLIP).wait(60)
        _died_mid_download(job, finished=time.time() - 25 * 3600)
    with sd.Client(**kw) as later:
        (listed,) = later.jobs()
        assert listed.url_expires_at < time.time()
        assert "video URL expired 1 h 0" in expiry_text(listed)


# --- the Remix buttons ----------------------------------------------------------------------------


def test_remix_in_the_live_view_opens_the_form_prefilled_and_submits(
    kernel: LoopThread, subshell: LoopThread
) -> None:
    from seedance_nb.jupyter.form import form

    f = kernel.call(lambda: form(model="seedance-2.0-fast"))
    f.resolution.value, f.duration.value, f.ratio.value = "480p", 4, "1:1"
    f.seed.value = "11"
    f.prompt.value = "A red kite over the dunes"
    subshell.call(f.submit_button.click)
    job = kernel.call(lambda: f.last.wait(60), timeout=90)
    view = f.views[-1]
    wait_until(lambda: view._remix_button.layout.display == "", what="the Remix button")
    assert view._button.description == "New take"

    subshell.call(view._remix_button.click)  # a click on a subshell thread
    wait_until(lambda: len(view._takes_box.children) == 1, what="the remix form")
    (box,) = view._takes_box.children
    (remixed,) = view.remix_forms
    assert remixed.widget is box and remixed.client is f.client
    assert remixed.prompt.value == "A red kite over the dunes"
    assert (remixed.model.value, remixed.ratio.value, remixed.resolution.value) == (
        "seedance-2.0-fast",
        "1:1",
        "480p",
    )
    assert remixed.duration.value == 4 and remixed.seed.value == "11"
    assert remixed.params() == f.params()  # every parameter, from the job's stored request
    remixed.seed.value = "12"
    subshell.call(remixed.submit_button.click)
    new = kernel.call(lambda: remixed.last.wait(60), timeout=90)
    assert new.id != job.id and new.request.seed == 12 and new.request.ratio == "1:1"
    assert new.video_path is not None and new.video_path.is_file()
    wait_until(lambda: "<video" in remixed.views[-1].html, what="the remix's video")


def test_remix_in_history_opens_the_form_under_the_table(
    ip: Any, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from IPython.utils.capture import capture_output

    from seedance_nb.jupyter import runner
    from seedance_nb.jupyter.history import HistoryView

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emulator.base_url)

    async def main() -> None:
        client = runner.get_client(None, tmp_path / "seedance-output")
        job = await (await client.submit("A heron in the reeds", images=[], **CLIP))
        with capture_output():
            view = HistoryView(client, await client.jobs(5), actions=True).show()
        row = view.row(job.id)
        row.remix.click()
        (shown,) = view.output.outputs
        model_id = shown["data"]["application/vnd.jupyter.widget-view+json"]["model_id"]
        remixed = view.remix(job)
        assert remixed.client is client and remixed.prompt.value == "A heron in the reeds"
        assert remixed.seed.value == "5" and remixed.model.value == "seedance-2.0"
        assert remixed.widget.model_id != model_id  # a second click, a fresh form
        remixed.duration.value = 5
        new = await remixed.submit()
        assert new.request.duration == 5 and new.request.seed == 5 and new.video_path.is_file()

    try:
        asyncio.run(main())
    finally:
        runner._clients.clear()
