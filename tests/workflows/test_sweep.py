"""Sweeps: expansion and validation of the plan, then real sweeps on the emulator over a socket.

The plan is pure where it can be (``expand``); validation and reuse go through a real client
(``validate`` never touches the network), and every end-to-end test counts on the emulator
what was created, so "nothing was sent" and "reused: no new task" are facts, not promises.
"""

from __future__ import annotations

import base64
import io
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import av
import pytest
from conftest import client_kwargs

import seedance_nb as sd
from seedance_nb import catalog
from seedance_nb.emulator import Emulator
from seedance_nb.workflows import gallery_html as gallery
from seedance_nb.workflows.sweep_plan import expand, fill, placeholders, plan_sweep

M10 = "seedance-1.0-pro"  # 2 s silent clips: the cheapest real renders
CHEAP = {"model": M10, "duration": 2, "resolution": "480p"}


def creates(emu: Emulator) -> int:
    return int(emu.stats()["tasks_created"])


def requests_seen(emu: Emulator) -> int:
    return sum(emu.stats()["requests"].values())


# --- expansion (pure) -------------------------------------------------------------------------


def test_lists_are_axes_scalars_are_fixed_and_placeholders_are_filled() -> None:
    ex = expand(
        "A {animal} at dawn", {"animal": ["fox", "owl"], "seed": [1, 2, 3], "model": "seedance-2.0"}
    )
    assert ex.axes == {"animal": ["fox", "owl"], "seed": [1, 2, 3]}
    assert ex.fixed == {"model": "seedance-2.0"}
    assert len(ex.combos) == 6
    # the first axis varies slowest; a combo's request has no placeholder-only keyword
    assert [(c.values["animal"], c.values["seed"]) for c in ex.combos[:4]] == [
        ("fox", 1),
        ("fox", 2),
        ("fox", 3),
        ("owl", 1),
    ]
    last = ex.combos[-1]
    assert last.prompt == "A owl at dawn"
    assert last.params == {"model": "seedance-2.0", "seed": 3}
    assert last.positions == (1, 2)
    assert last.label() == "animal=owl · seed=3"


def test_placeholders_braces_and_verbatim_prompts() -> None:
    assert placeholders("A {animal} and a {b2}, {animal} again; {{not}} {1x}") == ["animal", "b2"]
    assert fill("{{literal}} {animal}", {"animal": "fox"}) == "{literal} fox"
    # a fixed value fills a placeholder too, and a request parameter may be one
    ex = expand("{animal} in {ratio}", {"animal": "fox", "ratio": ["16:9", "1:1"]})
    assert [c.prompt for c in ex.combos] == ["fox in 16:9", "fox in 1:1"]
    assert ex.combos[0].params == {"ratio": "16:9"}
    # compare sends the prompt as written
    verbatim = expand("a {brace} stays", {"model": ["a", "b"]}, template=False)
    assert {c.prompt for c in verbatim.combos} == {"a {brace} stays"}


def test_list_valued_parameters_need_a_list_of_lists_to_be_an_axis() -> None:
    fixed = expand("p", {"images": ["a.png", "b.png"], "options": {"k": 1}})
    assert fixed.axes == {} and len(fixed.combos) == 1
    assert fixed.combos[0].params["images"] == ["a.png", "b.png"]
    axis = expand("p", {"images": [["a.png"], ["b.png", "c.png"]], "options": [{"k": 1}, {"k": 2}]})
    assert list(axis.axes) == ["images", "options"] and len(axis.combos) == 4
    assert axis.combos[3].params == {"images": ["b.png", "c.png"], "options": {"k": 2}}
    assert expand("p", {"seed": range(3)}).axes == {"seed": [0, 1, 2]}


@pytest.mark.parametrize(
    ("prompt", "params", "needles"),
    [
        ("A {animal}", {"animl": ["fox"]}, ["'animl'", "{animal}", "seed, watermark"]),
        ("A fox", {"colour": "red"}, ["'colour'", "has no {placeholder}"]),
        ("A {animal} by {place}", {"animal": ["fox"]}, ["{place} has no value", "place=[…]"]),
        ("A {animal}", {"animal": []}, ["axis animal has no values"]),
    ],
)
def test_bad_names_are_refused_with_what_went_wrong(
    prompt: str, params: dict[str, Any], needles: list[str]
) -> None:
    with pytest.raises(sd.InvalidRequest) as err:
        expand(prompt, params)
    for needle in needles:
        assert needle in str(err.value), str(err.value)
    assert err.value.field in params or err.value.field == "place"


# --- the plan: validated, priced, looked up in the ledger ------------------------------------------


def test_an_invalid_combination_names_its_axis_values_and_nothing_is_sent(
    emu: Emulator, tmp_path: Path
) -> None:
    before = requests_seen(emu)
    with sd.Client(**client_kwargs(emu, tmp_path / "w")) as client:
        with pytest.raises(sd.SweepInvalid) as err:
            client.sweep("A {animal}", animal=["fox", "owl"], model=M10, duration=[2, 20])
        with pytest.raises(sd.InvalidRequest) as one:
            client.plan_sweep("A fox", **{**CHEAP, "seed": [1, -7]})
    text = str(err.value)
    assert text.startswith("sweep: 2 of 4 combinations are refused; nothing was sent:")
    assert "animal=fox · duration=20: duration=20 is not allowed for seedance-1.0-pro" in text
    assert "animal=owl · duration=20" in text and "duration=2:" not in text
    assert err.value.field == "duration" and err.value.value == 20
    assert [c.values for c, _ in err.value.refusals] == [
        {"animal": "fox", "duration": 20},
        {"animal": "owl", "duration": 20},
    ]
    assert str(one.value).startswith("sweep: the combination seed=-7 is refused")
    assert isinstance(err.value.cause, sd.InvalidRequest)
    assert requests_seen(emu) == before and creates(emu) == 0


def test_the_plan_counts_jobs_tokens_and_cost_per_axis_value(
    aclient: sd.AsyncClient,
) -> None:
    plan = plan_sweep(
        aclient,
        "A {animal}",
        animal=["fox", "owl"],
        resolution=["480p", "720p"],
        model=M10,
        duration=2,
    )
    tokens = {
        r: catalog.estimate_tokens(*catalog.pixel_size("16:9", r), 2) for r in ("480p", "720p")
    }
    price = catalog.price_per_million_tokens(M10)
    assert price is not None
    total = plan.total()
    assert (total.jobs, total.new, total.reused) == (4, 4, 0)
    assert total.tokens == 2 * (tokens["480p"] + tokens["720p"])
    assert total.cost == pytest.approx(total.tokens * price / 1e6)
    by = plan.by_axis()
    assert [(v, t.jobs, t.tokens) for v, t in by["resolution"]] == [
        ("480p", 2, 2 * tokens["480p"]),
        ("720p", 2, 2 * tokens["720p"]),
    ]
    assert [t.tokens for _, t in by["animal"]] == [tokens["480p"] + tokens["720p"]] * 2
    text = plan.text()
    assert text.startswith(
        f"sweep plan · 4 jobs (animal × resolution: 2 × 2) · 4 to send ≈ {total.tokens:,} tokens"
    )
    assert f"  resolution=720p: 2 jobs, 2 new ≈ {2 * tokens['720p']:,} tokens" in text
    assert "offline emulator: nothing is charged" in text
    assert len(plan.requests) == 4 and plan.requests[3].resolution == "720p"


def test_identical_combinations_are_one_job(aclient: sd.AsyncClient) -> None:
    plan = plan_sweep(aclient, "A {animal}", animal=["fox", "fox"], **CHEAP)
    assert [(j.reused, j.same_as) for j in plan.jobs] == [(None, None), (None, 0)]
    assert (plan.total().new, plan.total().reused) == (1, 1)
    forced = plan_sweep(aclient, "A {animal}", animal=["fox", "fox"], force=True, **CHEAP)
    assert forced.total().new == 2


# --- the gallery's layout ---------------------------------------------------------------------------


def test_layout_rows_columns_and_facets() -> None:
    assert gallery.grid_axes(["seed"]) == (None, "seed", [])
    assert gallery.grid_axes(["animal", "seed"]) == ("animal", "seed", [])
    assert gallery.grid_axes(["model", "animal", "seed"]) == ("animal", "seed", ["model"])
    assert gallery.grid_axes(["model", "animal", "seed"], ("seed", "model")) == (
        "seed",
        "model",
        ["animal"],
    )
    assert gallery.grid_axes(["animal", "seed"], "animal") == (None, "animal", ["seed"])
    for bad in ("colour", ("seed", "seed"), ("a", "b", "c")):
        with pytest.raises(ValueError, match="its axes: animal, seed"):
            gallery.grid_axes(["animal", "seed"], bad)


class Page(HTMLParser):
    """Every tag with its attributes, and the text of the page."""

    def __init__(self, source: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(source)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())

    def find(self, tag: str, cls: str | None = None) -> list[dict[str, str]]:
        return [
            a
            for t, a in self.tags
            if t == tag and (cls is None or cls in a.get("class", "").split())
        ]


def test_the_grid_puts_each_cell_under_its_row_and_column_values() -> None:
    ex = expand("a {animal}", {"model": ["m1", "m2"], "animal": ["fox", "owl"], "seed": [1, 2, 3]})
    cells = [gallery.GalleryCell(c.positions, c.label(), f"<i>{c.label()}</i>") for c in ex.combos]
    page = Page(gallery.grid_html(ex.axes, cells))
    facets = [t for t in page.text if t in ("model=m1", "model=m2")]
    assert facets == ["model=m1", "model=m2"]  # a heading per facet
    # facet m1: a header row seed=1..3, then per animal its row header and three cells in order
    first = page.text[: page.text.index("model=m2")]
    assert first == [
        "model=m1",
        "seed=1",
        "seed=2",
        "seed=3",
        "animal=fox",
        *[f"model=m1 · animal=fox · seed={s}" for s in (1, 2, 3)],
        "animal=owl",
        *[f"model=m1 · animal=owl · seed={s}" for s in (1, 2, 3)],
    ]
    cell_divs = page.find("div", "seedance-sweep-cell")
    assert len(cell_divs) == 12
    assert all(
        "v.play()" in d["onmouseenter"] and "v.pause()" in d["onmouseleave"] for d in cell_divs
    )
    assert cell_divs[5]["title"] == "model=m1 · animal=owl · seed=3"


# --- end to end on the emulator ------------------------------------------------------------------


def decode(data: bytes) -> tuple[int, int, int]:
    """(width, height, frames) of an MP4, decoded with PyAV."""
    with av.open(io.BytesIO(data)) as c:
        stream = c.streams.video[0]
        frames = sum(1 for _ in c.decode(stream))
        return stream.codec_context.width, stream.codec_context.height, frames


def test_a_sweep_from_plain_python_runs_every_combination_and_reuses_on_rerun(
    emu: Emulator, tmp_path: Path
) -> None:
    kw = client_kwargs(emu, tmp_path / "w")
    with sd.Client(**kw) as client:
        sw = client.sweep("A {animal} at dawn", animal=["fox", "owl"], seed=[1, 2], **CHEAP)
        assert creates(emu) == 4
        sw.wait(timeout=120)
        rows = sw.rows()
    assert [(r["animal"], r["seed"], r["status"]) for r in rows] == [
        ("fox", 1, "succeeded"),
        ("fox", 2, "succeeded"),
        ("owl", 1, "succeeded"),
        ("owl", 2, "succeeded"),
    ]
    assert len({r["job_id"] for r in rows}) == 4 and not any(r["reused"] for r in rows)
    for r in rows:
        assert r["tokens"] and r["wall_s"] > 0
        assert r["cost_usd"] == round(catalog.estimate_cost(M10, r["tokens"]) or 0, 4)
        assert r["estimated_cost_usd"] == round(sw.plan.jobs[0].cost or 0, 4)
        width, height, frames = decode(Path(r["video_path"]).read_bytes())
        assert (width, height) == catalog.pixel_size("16:9", "480p") and frames >= 24
    # the emulator rendered the prompt it was sent, with the placeholder filled
    assert sw.jobs[2] is not None and sw.jobs[2].request.prompt == "A owl at dawn"
    # the same sweep again, from a new client on the same workdir: all reused, nothing created
    with sd.Client(**kw) as again:
        plan = again.plan_sweep("A {animal} at dawn", animal=["fox", "owl"], seed=[1, 2], **CHEAP)
        assert (plan.total().reused, plan.total().new) == (4, 0)
        assert plan.jobs[1].reused == rows[1]["job_id"]
        assert "4 reused (nothing charged) · nothing to send" in plan.text()
        sw2 = again.sweep("A {animal} at dawn", animal=["fox", "owl"], seed=[1, 2], **CHEAP)
        sw2.wait(timeout=60)
        assert [r["job_id"] for r in sw2.rows()] == [r["job_id"] for r in rows]
        assert all(r["reused"] for r in sw2.rows())
        assert creates(emu) == 4
        # the DataFrame is the rows
        frame = sw2.to_pandas()
        assert list(frame["job_id"]) == [r["job_id"] for r in rows]
        assert list(frame.columns[:3]) == ["animal", "seed", "status"]


def test_to_pandas_without_pandas_says_what_to_do(
    aclient: sd.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seedance_nb.workflows.sweep import Sweep

    sw = Sweep(aclient, plan_sweep(aclient, "A {a}", a=["x"], **CHEAP))
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if it were not installed
    with pytest.raises(ImportError, match=r"pip install pandas \(rows\(\) gives the same"):
        sw.to_pandas()
    assert sw.rows()[0]["status"] == "submitting"


def test_save_html_is_a_page_whose_videos_play(emu: Emulator, tmp_path: Path) -> None:
    with sd.Client(**client_kwargs(emu, tmp_path / "w")) as client:
        sw = client.sweep("A kite, take {take}", take=["a", "b"], **CHEAP)
        sw.wait(timeout=120)
        page_path = sw.save_html(tmp_path / "out" / "report.html")
        beside = sw.save_html(tmp_path / "shared" / "beside.html", embed=False)
    page = Page(page_path.read_text(encoding="utf-8"))
    assert page_path.read_text().startswith("<!DOCTYPE html>")
    videos = page.find("video")
    assert len(videos) == 2
    for video, job in zip(videos, sw.jobs, strict=True):
        assert job is not None
        head, _, payload = video["src"].partition(",")
        assert head == "data:video/mp4;base64"
        data = base64.b64decode(payload)
        assert data == job.video_path.read_bytes()  # type: ignore[union-attr]
        assert decode(data)[2] >= 24
        assert video["poster"].startswith("data:image/webp;base64,")
    assert [d["title"] for d in page.find("div", "seedance-sweep-cell")] == [
        f"take={t}\nmodel={M10}\nduration=2\nresolution=480p" for t in ("a", "b")
    ]
    assert page.find("button", "seedance-play-all")
    assert "sweep plan" in page.text and "take=a" in page.text
    assert not page.find("script") and not page.find("link")  # nothing loaded from elsewhere
    # the other way: the MP4s copied into a folder beside the page
    shared = Page(beside.read_text())
    for video in shared.find("video"):
        assert video["src"].startswith("beside_files/job_")
        assert decode((beside.parent / video["src"]).read_bytes())[2] >= 24


def test_a_seed_axis_reads_its_values_while_the_jobs_are_being_made() -> None:
    """The rows (and the gallery's text) name each combination by its axis values from the
    start: a seed axis does not read ``seed=None`` until its job exists."""
    from seedance_nb.request import build_request
    from seedance_nb.workflows.sweep import Entry, result_row

    expansion = expand("A fox", {"seed": [1, 2], "model": "seedance-2.0-fast", "duration": 4})
    provider = catalog.get_provider("ark")
    rows = []
    for combo in expansion.combos:
        request, _ = build_request(provider, combo.prompt, **combo.params, warn=False)
        rows.append(result_row(Entry(combo, None, request=request)))
    assert [(r["seed"], r["status"]) for r in rows] == [(1, "submitting"), (2, "submitting")]


def test_a_placeholder_named_like_a_results_column_is_refused() -> None:
    with pytest.raises(sd.InvalidRequest, match=r"\{status\} would hide the results column"):
        expand("A fox, {status}", {"status": ["asleep", "awake"]})
