"""Sweeps in a real IPython shell on the offline emulator: ``sd.sweep`` and ``%%seedance --sweep``.

Cells run inside a running event loop as in ipykernel; the plan comes first in the cell, then
the gallery, which becomes its videos; refusals are one styled line and send nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from shell_support import htmls, run, texts

from seedance_nb.jupyter import runner
from seedance_nb.jupyter.magic_sweep import merge, parse_axes

FAST = "-m seedance-1.0-pro --duration 2 --resolution 480p"


@pytest.fixture()
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ip: Any) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    for key in ("SEEDANCE_PROVIDER", "SEEDANCE_WORKDIR"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("SEEDANCE_EMULATOR_SPEED", "0.2")
    ip.run_line_magic("config", "Seedance.workdir = 'seedance-output'")
    ip.run_line_magic("config", "Seedance.model = 'seedance-2.0-fast'")
    ip.run_line_magic("config", "Seedance.provider = ''")
    yield tmp_path / "seedance-output"
    runner._clients.clear()


def ledger_jobs(ip: Any) -> int:
    from seedance_nb.jupyter.runner import get_client

    return get_client(None, "seedance-output").ledger.count()


class Cells(HTMLParser):
    """The gallery's cells (their hover titles) and its videos."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.titles: list[str] = []
        self.videos: list[dict[str, str]] = []
        self.buttons: list[str] = []
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "div" and "seedance-sweep-cell" in a.get("class", ""):
            self.titles.append(a["title"])
        if tag == "video":
            self.videos.append(a)
        if tag == "button":
            self.buttons.append(a.get("class", ""))


# --- parsing the axes by the schema's kinds ---------------------------------------------------


def test_sweep_values_are_read_by_each_parameters_kind() -> None:
    axes = parse_axes(
        ["seed=1,2,3", "ratio=16:9,9:16", "audio=true,no", "animal=fox, owl", "image=a.png,b"],
        ref=lambda v: f"<{v}>",
    )
    assert axes == {
        "seed": [1, 2, 3],
        "ratio": ["16:9", "9:16"],
        "audio": ["true", "no"],  # not a parameter name (generate_audio is): a placeholder
        "animal": ["fox", "owl"],
        "image": ["a.png", "b"],
    }
    typed = parse_axes(["generate_audio=yes,off", "images=a.png,b", "options=k=1,k=x"], str.upper)
    assert typed == {
        "generate_audio": [True, False],
        "images": [["A.PNG"], ["B"]],
        "options": [{"k": 1}, {"k": "x"}],
    }
    for bad, needle in [
        (["seed=1,two"], "'two' is not a whole number"),
        (["watermark=maybe"], "'maybe' is not true or false"),
        (["seed"], "NAME=V1,V2"),
        (["seed=1", "seed=2"], "given twice"),
    ]:
        with pytest.raises(ValueError, match=needle):
            parse_axes(bad)
    with pytest.raises(ValueError, match="seed is given both as --seed and as --sweep seed"):
        merge({"seed": 3}, {"seed": [1, 2]})


# --- the magic ----------------------------------------------------------------------------------


def test_magic_sweep_shows_the_plan_then_a_gallery_of_videos(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        _, cap = await run(
            ip,
            f"%%seedance --sweep seed=1,2 --sweep ratio=16:9,9:16 {FAST} --name sw\nA red kite",
        )
        plan, live = texts(cap)
        assert plan.startswith("sweep plan · 4 jobs (seed × ratio: 2 × 2) · 4 to send ≈ ")
        assert "  ratio=9:16: 2 jobs, 2 new" in plan
        assert live.count(": submitting") == 4
        result, _ = await run(ip, "jobs = await sw")
        assert result.success
        jobs = ip.user_ns["jobs"]
        assert [(j.seed, j.request.ratio) for j in jobs] == [
            (1, "16:9"),
            (1, "9:16"),
            (2, "16:9"),
            (2, "9:16"),
        ]
        assert all(j.status == "succeeded" and j.video_path.exists() for j in jobs)
        gallery = Cells(ip.user_ns["sw"].html())
        assert len(gallery.videos) == 4 and "seedance-play-all jupyter-button" in gallery.buttons
        assert all("autoplay" not in v for v in gallery.videos)  # hover or Play all starts them
        assert gallery.titles[1].splitlines()[:2] == ["seed=1", "ratio=9:16"]
        assert "model=seedance-1.0-pro" in gallery.titles[1]
        # a cancel by the sweep's name reaches every job (all done: each says so)
        _, cap = await run(ip, "%seedance cancel sw")
        assert texts(cap) == [f"{j.id}: succeeded" for j in jobs]
        # the same cell again: everything reused, nothing sent
        before = ledger_jobs(ip)
        _, cap = await run(
            ip, f"%%seedance --sweep seed=1,2 --sweep ratio=16:9,9:16 {FAST}\nA red kite"
        )
        assert texts(cap)[0].startswith("sweep plan · 4 jobs (seed × ratio: 2 × 2) · 4 reused")
        assert ledger_jobs(ip) == before

    asyncio.run(main())


def test_magic_sweep_fills_placeholders_and_dry_run_sends_nothing(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        _, cap = await run(
            ip,
            f"%%seedance --sweep animal=fox,owl --sweep seed=1,2,3 {FAST} --dry-run\nA {{animal}}",
        )
        (plan,) = texts(cap)
        assert plan.startswith("sweep plan · 6 jobs (animal × seed: 2 × 3)")
        assert "  animal=owl: 3 jobs, 3 new" in plan
        (markup,) = htmls(cap)
        assert "seedance-sweep-plan" in markup and "animal=owl" in markup
        assert not (workdir / "ledger.sqlite").exists() or ledger_jobs(ip) == 0

    asyncio.run(main())


@pytest.mark.parametrize(
    ("line", "kind", "needle"),
    [
        ("--sweep seed=1,x", "UsageError", "'x' is not a whole number"),
        ("--sweep seed=1,2 --seed 3", "UsageError", "seed is given both as --seed"),
        ("--sweep colour=red,blue", "InvalidRequest", "'colour' is neither a request parameter"),
        (
            "--sweep duration=2,30",
            "InvalidRequest",
            "the combination duration=30 is refused; nothing was sent: duration=30",
        ),
        (
            "-m seedance-1.0-pro,seedance-2.0 --sweep model=seedance-2.0",
            "UsageError",
            "model is given both",
        ),
    ],
)
def test_magic_sweep_refusals_are_one_line_and_send_nothing(
    ip: Any, workdir: Path, line: str, kind: str, needle: str
) -> None:
    async def main() -> None:
        base = "--resolution 480p" + ("" if "-m " in line else " -m seedance-1.0-pro")
        result, cap = await run(ip, f"%%seedance {line} {base}\nA kite")
        assert result.success and "Traceback" not in cap.stdout + cap.stderr
        (text,) = texts(cap)
        assert text.startswith(f"✗ {kind}: ") and needle in text, text
        assert not (workdir / "ledger.sqlite").exists() or ledger_jobs(ip) == 0

    asyncio.run(main())


# --- sd.sweep ------------------------------------------------------------------------------------


def test_sd_sweep_lays_out_a_grid_and_keeps_rows(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        src = (
            "import seedance_nb as sd\n"
            "sw = sd.sweep('A {animal} at dawn', animal=['fox', 'owl'], seed=[1, 2],"
            " model='seedance-1.0-pro', duration=2, resolution='480p', layout=('seed', 'animal'))"
        )
        result, cap = await run(ip, src)
        assert result.success
        plan, _live = texts(cap)
        assert plan.startswith("sweep plan · 4 jobs (animal × seed: 2 × 2)")
        await run(ip, "jobs = await sw")
        sw = ip.user_ns["sw"]
        rows = sw.rows()
        assert [(r["animal"], r["seed"], r["status"]) for r in rows] == [
            ("fox", 1, "succeeded"),
            ("fox", 2, "succeeded"),
            ("owl", 1, "succeeded"),
            ("owl", 2, "succeeded"),
        ]
        assert all(r["seed"] == j.seed for r, j in zip(rows, ip.user_ns["jobs"], strict=True))
        # rows of the grid are seeds, columns animals: cells in reading order
        titles = [t.splitlines()[:2] for t in Cells(sw.html()).titles]
        assert titles == [
            ["animal=fox", "seed=1"],
            ["animal=owl", "seed=1"],
            ["animal=fox", "seed=2"],
            ["animal=owl", "seed=2"],
        ]
        frame = sw.to_pandas()
        assert frame.shape[0] == 4 and set(frame["status"]) == {"succeeded"}
        # a wrong layout is refused before anything is sent
        count = ledger_jobs(ip)
        _, cap = await run(
            ip, "sd.sweep('A {a}', a=['x', 'y'], layout='b', model='seedance-1.0-pro')"
        )
        (text,) = texts(cap)
        assert text.startswith("✗ ValueError: layout='b'") and "its axes: a" in text
        assert ledger_jobs(ip) == count

    asyncio.run(main())


def test_compare_still_refuses_with_its_own_message(ip: Any, workdir: Path) -> None:
    async def main() -> None:
        _, cap = await run(
            ip,
            "import seedance_nb as sd\nsd.compare('A hummingbird', models=['seedance-2.0-fast', "
            "'seedance-1.0-lite-t2v'], duration=15, resolution='480p')",
        )
        assert texts(cap) == [
            "✗ InvalidRequest: duration=15 is not allowed for seedance-1.0-lite-t2v on emulator: "
            "unsupported duration. Allowed: 2-12 s."
        ]

    asyncio.run(main())


def test_a_comparison_bound_with_name_is_a_job_list_for_line_commands(
    ip: Any, workdir: Path
) -> None:
    """``%seedance cancel cmp`` once called ``cmp.jobs()`` on a list (an internal error)."""

    async def main() -> None:
        await run(
            ip,
            "%%seedance -m seedance-1.0-pro,seedance-2.0-fast --duration 4 "
            "--resolution 480p --name cmp\nA kite",
        )
        await run(ip, "jobs = await cmp")
        _, cap = await run(ip, "%seedance cancel cmp")
        assert texts(cap) == [f"{j.id}: succeeded" for j in ip.user_ns["jobs"]]
        # a comparison is a sweep over model: its report has both videos
        page = ip.user_ns["cmp"].save_html(workdir / "cmp.html").read_text()
        assert page.count("data:video/mp4;base64,") == 2 and "model=seedance-1.0-pro" in page

    asyncio.run(main())


def test_the_results_table_rounds_each_cost_once() -> None:
    """40,176 tokens of seedance-2.0-fast cost $0.22498…: the table says $0.22 (rounding the
    row's 0.225 again would say $0.23), and the row keeps 1/100 of a cent."""
    from html_support import make_job

    from seedance_nb.jupyter.sweep import SweepGallery
    from seedance_nb.workflows.sweep_plan import expand

    view = SweepGallery(None, expand("a {x}", {"x": ["kite"], "model": "seedance-2.0-fast"}))
    view.cells[0].job = make_job(model="seedance-2.0-fast", tokens=40_176)
    row = view.rows()[0]
    assert (row["estimated_cost_usd"], row["cost_usd"], row["x"]) == (0.225, 0.225, "kite")
    table = view.html().split('class="seedance-sweep-table"')[1]
    assert table.count(">$0.22<") == 2 and "$0.23" not in table
    assert "est. $0.22" in view.text()
