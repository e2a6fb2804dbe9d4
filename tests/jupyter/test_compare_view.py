"""The comparison grid and table: aligned names, costs to the cent, Play all only with videos."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest import write_video
from html_support import Tags, make_job

from seedance_nb import catalog
from seedance_nb import display as h
from seedance_nb.jupyter import render
from seedance_nb.jupyter.compare import Comparison, compare

MODELS = ["seedance-2.0-fast", "seedance-1.5-pro", "seedance-1.0-pro-fast"]


def comparison(video: Path | None) -> Comparison:
    """Three settled tiers on 40,176 tokens each (the costs that printed float noise)."""
    cmp = Comparison(None, "a hummingbird", MODELS, {"duration": 4, "resolution": "480p"})
    for cell, model in zip(cmp.cells, MODELS, strict=True):
        cell.job = make_job(model=model, video=video)
        cell.html = h.job_html(cell.job)
    return cmp


@pytest.fixture
def video(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "seedance-output" / "videos"
    folder.mkdir(parents=True)
    return write_video(folder / "job_0123456789ab.mp4", 0.5, size=(320, 240))


def test_costs_have_no_float_noise(video: Path) -> None:
    cmp = comparison(video)
    assert catalog.estimate_cost("seedance-2.0-fast", 40_176) == 0.22498559999999998  # the noise
    costs = [r["estimated_cost_usd"] for r in cmp.rows()]
    assert costs == [0.225, 0.0964, 0.0402]
    assert all(len(repr(c).split(".")[1]) <= 4 for c in costs)
    cells = [a for a in Tags(cmp.table_html()).text if a.startswith("$")]
    assert cells == ["$0.22", "$0.10", "$0.04"]
    assert "est. $0.22" in cmp.text()


def test_model_names_are_left_aligned(video: Path) -> None:
    table = Tags(comparison(video).table_html())
    heads = table.find("th")
    cells = table.find("td")
    assert [re.search(r"text-align:(\w+)", a["style"]).group(1) for a in heads] == [  # type: ignore[union-attr]
        "left",
        "left",
        "right",
        "right",
        "right",
    ]
    assert all("text-align:left" in a["style"] for a in cells[0::5])  # the model column
    grid = Tags(comparison(video).html())
    assert all(
        "text-align:left" in d["style"]
        for d in grid.find("div")
        if "min-width:0" in d.get("style", "")
    )


def test_play_all_is_a_styled_button_only_when_there_is_a_video(video: Path) -> None:
    with_video = Tags(comparison(video).html())
    (button,) = [b for b in with_video.find("button") if "seedance-play-all" in b["class"]]
    assert "jupyter-button" in button["class"] and "var(--jp-layout-color2" in button["style"]
    assert "v.play()" in button["onclick"]
    waiting = Comparison(None, "a hummingbird", MODELS, {})
    assert "Play all" not in waiting.html()  # nothing settled: nothing to play
    failed = Comparison(None, "a hummingbird", MODELS[:1], {})
    failed.cells[0].job = make_job(status="failed", error={"code": "X", "message": "y"})
    failed.cells[0].html = h.job_html(failed.cells[0].job)
    assert "Play all" not in failed.html()


def test_compare_shows_a_bad_provider_in_the_error_style(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[dict[str, Any]] = []
    monkeypatch.setattr(render, "display", lambda data, raw=False: shown.append(data))
    assert compare("a boat", models=["seedance-2.0-fast"], provider="no-such-provider") is None
    (bundle,) = shown
    assert bundle["text/plain"].startswith("✗ ")
    assert "no-such-provider" in bundle["text/plain"] and "Traceback" not in bundle["text/plain"]
    assert bundle["text/html"].startswith('<div class="seedance-error"')


def test_show_exception_unwraps_a_key_error(monkeypatch: pytest.MonkeyPatch) -> None:
    shown: list[dict[str, Any]] = []
    monkeypatch.setattr(render, "display", lambda data, raw=False: shown.append(data))
    render.show_exception(KeyError("unknown provider 'x'"))
    render.show_error("duration=99", hint="allowed: 4-15 s")
    assert shown[0]["text/plain"] == "✗ KeyError: unknown provider 'x'"
    assert shown[1]["text/plain"] == "✗ InvalidRequest: duration=99\nallowed: 4-15 s"
    render.show_notice("hello", kind="warning")
    assert shown[2]["text/plain"] == "seedance-nb: ⚠ hello"
    assert "seedance-warning" in shown[2]["text/html"]


def test_a_cell_is_failed_by_its_state_not_by_what_its_html_looks_like() -> None:
    """Only ``fail()`` marks a submission failed; a prompt that renders like an error line
    (or any HTML a cell holds) does not turn a pending row into a failed one."""
    cmp = Comparison(None, "a hummingbird", MODELS[:2], {"duration": 4})
    pending, failed = cmp.cells
    pending.html = h.error_line("looks like an error", "InvalidRequest")
    failed.fail("duration=99 is not allowed", "InvalidRequest")
    assert (pending.failed, failed.failed) == (False, True)
    statuses = [row["status"] for row in cmp.rows()]
    assert statuses == ["submitting", "failed"]
    assert failed._bundle()["text/plain"].startswith("✗ InvalidRequest: duration=99")
    assert pending._bundle()["text/plain"] == f"{MODELS[0]}: submitting"
