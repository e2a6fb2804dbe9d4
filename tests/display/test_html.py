"""How a job looks in a notebook: the live view, the done view, the summary, text/plain.

Jobs here are real :class:`~seedance_nb.Job` objects over hand-made ledger rows, so each state
(queued, running, succeeded, failed, cancelled, unknown, reused) is drawn without a render.
"""

from __future__ import annotations

import base64
import io
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import write_video
from html_support import PROMPT, Tags, make_job
from PIL import Image

from seedance_nb import catalog
from seedance_nb import display as h
from seedance_nb.display.style import esc


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seedance-output" / "videos").mkdir(parents=True)
    return tmp_path


def mp4(folder: Path, size: tuple[int, int], name: str = "job_0123456789ab.mp4") -> Path:
    return write_video(folder / name, 0.5, size=size)


# the summary's size -----------------------------------------------------------------------
def test_adaptive_summary_says_the_delivered_size(in_tmp: Path) -> None:
    video = mp4(in_tmp / "seedance-output" / "videos", (752, 560))
    job = make_job(ratio="adaptive", video=video)
    assert job.request.size == (864, 496)  # what the request could only guess
    summary = h.done_summary(job)
    assert "480p 752×560" in summary and "864×496" not in summary
    assert "752×560" in h.job_html(job) and "752×560" in h.job_text(job)


def test_size_from_the_provider_answer_when_the_file_is_gone(in_tmp: Path) -> None:
    gone = in_tmp / "seedance-output" / "videos" / "job_0123456789ab.mp4"
    job = make_job(ratio="adaptive", video=gone, raw={"ratio": "4:3", "resolution": "480p"})
    assert "480p 752×560" in h.done_summary(job)
    # nothing to go on: no invented 16:9 size
    bare = make_job(ratio="adaptive", video=gone)
    assert "×" not in h.done_summary(bare).split(" · ")[1]


def test_fixed_ratio_keeps_the_catalog_size_without_a_file() -> None:
    job = make_job(ratio="9:16", resolution="720p", video=None)
    assert "720p 720×1280" in h.done_summary(job)


# the done view ------------------------------------------------------------------------------
def test_done_view_video_fits_has_a_poster_link_copy_and_cost(in_tmp: Path) -> None:
    video = mp4(in_tmp / "seedance-output" / "videos", (720, 1280))
    job = make_job(ratio="9:16", resolution="720p", video=video)
    page = h.job_html(job)
    doc = Tags(page)
    (vid,) = doc.find("video")
    assert vid["src"] == "seedance-output/videos/job_0123456789ab.mp4"
    # fits: max-height keeps a 9:16 720p (1280 px tall) inside a 1000 px viewport
    heights = re.findall(r"max-height:([^;]+)", vid["style"])
    assert heights and all("480px" in v for v in heights) and "max-width:100%" in vid["style"]
    # a real first frame as a small WebP poster: 160 px wide, a few KB in the saved notebook
    assert vid["poster"].startswith("data:image/webp;base64,")
    webp = base64.b64decode(vid["poster"].split(",", 1)[1])
    still = Image.open(io.BytesIO(webp))
    assert still.format == "WEBP" and still.size == (90, 160) and len(webp) <= 3_000
    # cost beside the billed tokens, no float noise, no "est." once the usage is known
    cost = catalog.estimate_cost("seedance-2.0-fast", 40_176)
    assert f"40,176 tokens · ${cost:.2f}" in doc.visible and "est." not in h.done_summary(job)
    # a link to the file, a copy-prompt button, the prompt selectable by hand
    (link,) = [a for a in doc.find("a") if a.get("href", "").endswith(".mp4")]
    assert link["href"] == vid["src"] and link["target"] == "_blank"
    (copy,) = [b for b in doc.find("button") if "seedance-copy" in b.get("class", "")]
    assert "navigator.clipboard" in copy["onclick"] and "nextSibling" in copy["onclick"]
    assert page.count(esc(PROMPT)) == 1  # the prompt is stored once
    assert len(doc.find("details")) == 1
    assert PROMPT in doc.text  # the whole prompt, one text node, inside <details>
    assert "<b>bold</b>" not in page  # the prompt is escaped everywhere
    # the final state reads first, even for a job that finished before any repaint
    assert doc.visible.startswith("✓ succeeded in 3.2 s")


def test_poster_is_cached_per_file_version(in_tmp: Path) -> None:
    video = mp4(in_tmp, (320, 240), "a.mp4")
    first = h.poster(video)
    assert first is not None and h.poster(video) is first  # the same object: no second decode
    write_video(video, 0.25, size=(96, 72))
    os.utime(video, ns=(time.time_ns(), time.time_ns() + 10_000_000))
    second = h.poster(video)
    assert second is not None and second != first
    assert h.poster(in_tmp / "missing.mp4") is None


def test_embed_mode_carries_the_video_and_the_poster(in_tmp: Path) -> None:
    video = mp4(in_tmp / "seedance-output" / "videos", (320, 240))
    (vid,) = Tags(h.job_html(make_job(video=video), "embed")).find("video")
    assert vid["src"].startswith("data:video/mp4;base64,")
    assert vid["poster"].startswith("data:image/webp;base64,")


def test_video_outside_the_folder_shows_its_frame_and_name_only(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    video = mp4(elsewhere, (320, 240))
    job = make_job(video=video)
    page = h.job_html(job)
    doc = Tags(page)
    assert not doc.find("video")
    (img,) = doc.find("img")
    assert img["src"].startswith("data:image/webp;base64,")
    assert str(elsewhere) not in page and "job_0123456789ab.mp4" in doc.visible


def test_text_plain_has_no_machine_paths(
    in_tmp: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    inside = mp4(in_tmp / "seedance-output" / "videos", (320, 240))
    text = h.job_text(make_job(video=inside))
    assert text.splitlines()[-1] == "seedance-output/videos/job_0123456789ab.mp4"
    assert str(in_tmp) not in text
    outside = mp4(tmp_path_factory.mktemp("far"), (320, 240))
    text = h.job_text(make_job(video=outside))
    assert text.splitlines()[-1] == "job_0123456789ab.mp4" and "/" not in text.splitlines()[-1]


def test_reused_job_says_so_in_html_and_text(in_tmp: Path) -> None:
    job = make_job(video=None)
    job.reused = True
    page = h.job_html(job, force_hint="--force")
    line = job.reuse_note("--force")
    assert line.startswith("same request as job_0123456789ab") and "nothing charged" in line
    assert line in Tags(page).visible
    assert line in h.job_text(job, force_hint="--force")
    assert "nothing charged" not in h.job_html(make_job(video=None))


# the live view ---------------------------------------------------------------------------------
def test_live_view_shows_prompt_settings_cost_and_eta() -> None:
    job = make_job(
        status="running", elapsed=5.0, resolution="720p", duration=5, model="seedance-2.0"
    )
    doc = Tags(h.job_html(job))
    visible = doc.visible
    assert "running" in visible and "seedance-2.0" in visible
    assert visible.count("A paper boat drifts") == 1 and "…" in visible  # shortened
    assert "16:9 720p · 5s · seed 42" in visible
    est = catalog.estimate_tokens(1280, 720, 5)
    assert f"≈ {est:,} tokens · est. ${catalog.estimate_cost('seedance-2.0', est):.2f}" in visible
    typical = catalog.typical_render_seconds("seedance-2.0", 1280, 720, 5)
    assert f"≈ {typical - 5:.0f} s left" in visible
    assert doc.find("progress")


def test_eta_says_when_a_job_runs_longer_than_usual() -> None:
    job = make_job(status="queued", elapsed=400.0, resolution="480p", duration=4)
    text = h.job_text(job)
    typical = catalog.typical_render_seconds("seedance-2.0-fast", 864, 496, 4)
    assert f"longer than the typical ≈ {h.seconds(typical)}" in text
    assert h.eta_seconds(job) == pytest.approx(typical - 400.0, abs=0.5)


def test_eta_on_the_emulator_follows_its_speed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_EMULATOR_SPEED", "0.2")
    job = make_job(status="running", elapsed=0.1, emulated=True)
    assert h.typical_seconds(job) == pytest.approx(0.6)  # (1 s queued + 2 s running) × 0.2
    monkeypatch.setenv("SEEDANCE_EMULATOR_SPEED", "1")
    assert h.typical_seconds(job) == pytest.approx(3.0)


def test_typical_render_seconds_match_the_published_ranges() -> None:
    # OrcaRouter's doc: 5 s 720p "usually 30-60 s"; 15 s 1080p "3-5 min"
    assert 30 <= catalog.typical_render_seconds("seedance-2.0", 1280, 720, 5) <= 60
    assert 180 <= catalog.typical_render_seconds("seedance-2.0", 1920, 1080, 15) <= 300
    ref = catalog.typical_render_seconds("seedance-2.0", 1280, 720, 5, mode="reference")
    assert ref > catalog.typical_render_seconds("seedance-2.0", 1280, 720, 5)
    small = catalog.typical_render_seconds("seedance-2.0-fast", 864, 496, 4)
    assert catalog.MIN_TYPICAL_SECONDS <= small < 40
    assert set(catalog.TYPICAL_SECONDS_5S_720P) == set(catalog.TIERS)


# final states --------------------------------------------------------------------------------
def test_failed_job_is_one_error_line_with_the_provider_code() -> None:
    job = make_job(
        status="failed", error={"code": "OutputVideoSensitiveContentDetected", "message": "nope"}
    )
    page = h.job_html(job)
    doc = Tags(page)
    assert doc.visible.startswith("✗ failed after 3.2 s")
    assert page.count('class="seedance-error"') == 1
    assert "OutputVideoSensitiveContentDetected: nope" in doc.visible
    assert "OutputVideoSensitiveContentDetected: nope" in h.job_text(job)


def test_cancelled_is_neutral_and_unknown_is_a_warning_with_ways_out() -> None:
    cancelled = h.job_html(make_job(status="cancelled"))
    assert "seedance-error" not in cancelled and "error-color" not in cancelled
    unknown = make_job(status="unknown", error={"code": "UnknownOutcome", "message": "cut"})
    page = h.job_html(unknown)
    assert "seedance-warning" in page and "warn-color" in page
    visible = Tags(page).visible
    assert "client.resubmit(job)" in visible
    assert "seedance-nb generate … --force" in visible
    assert f"%seedance resubmit {unknown.id}" in visible


def test_error_line_escapes_and_keeps_its_class() -> None:
    page = h.error_line("duration=<99>", "InvalidRequest", hint="use 4-15")
    assert page.startswith('<div class="seedance-error"')  # views test for this prefix
    doc = Tags(page)
    assert "".join(doc.text) == "✗ InvalidRequest: duration=<99>use 4-15"
    assert "<99>" not in page


def test_money_has_no_float_noise() -> None:
    assert h.money(0.22498559999999998) == "$0.22"
    assert h.money(0.040176) == "$0.04"
    assert h.money(0.001) == "<$0.01"
    assert h.money(1234.5) == "$1,234.50"
    assert h.money(None) == ""


def test_a_first_frame_job_on_the_emulator_says_what_it_delivered(
    client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: a 4:3 first frame, ratio adaptive, a 752×560 MP4 (not 864×496)."""
    from conftest import write_png

    monkeypatch.chdir(tmp_path)
    frame = write_png(tmp_path / "fox.png", size=(640, 480))
    job = client.generate(
        "The fox turns its head",
        model="seedance-2.0-fast",
        first_frame=str(frame),
        duration=4,
        resolution="480p",
    )
    assert job.request.ratio == "adaptive" and job.status == "succeeded"
    assert "480p 752×560" in h.done_summary(job)
    (vid,) = Tags(h.job_html(job)).find("video")
    assert vid["poster"].startswith("data:image/webp;base64,")
    assert str(tmp_path) not in h.job_text(job)
