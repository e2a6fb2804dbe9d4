"""Colours that read in both JupyterLab themes: WCAG AA, checked against the installed theme CSS.

Every piece of HTML the notebook layer draws is walked element by element; each run of text is
measured against the background it sits on, with the colours resolved from JupyterLab's own
light and dark theme files (and from the fallbacks, on white, for renderers without the
variables). Text needs 4.5:1, a coloured border (a non-text mark) 3:1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import jupyterlab
import pytest
from conftest import write_video
from html_support import make_job

from seedance_nb import display as h
from seedance_nb.jupyter.compare import Comparison
from seedance_nb.jupyter.refs import show_references

THEMES = Path(jupyterlab.__file__).parent / "themes" / "@jupyterlab"
VOID = {"img", "br", "hr", "input", "meta", "source", "wbr", "col", "link"}
RGB = tuple[float, float, float]


def theme(name: str) -> dict[str, str]:
    css = (THEMES / f"theme-{name}-extension" / "index.css").read_text()
    return {k: v.strip() for k, v in re.findall(r"--(jp-[\w-]+):([^;}]*)[;}]", css)}


THEME_VARS = {"light": theme("light"), "dark": theme("dark")}


def parse_colour(value: str, under: RGB) -> RGB:
    """#rgb, #rrggbb, white/black, rgb()/rgba() (alpha blended over ``under``)."""
    v = value.strip().lower()
    v = {"white": "#fff", "black": "#000"}.get(v, v)
    if v.startswith("#"):
        digits = v[1:]
        if len(digits) == 3:
            digits = "".join(c * 2 for c in digits)
        return tuple(float(int(digits[i : i + 2], 16)) for i in (0, 2, 4))  # type: ignore[return-value]
    m = re.fullmatch(r"rgba?\(([^)]*)\)", v)
    assert m, f"not a colour: {value!r}"
    parts = [float(x) for x in m.group(1).split(",")]
    alpha = parts[3] if len(parts) == 4 else 1.0
    return tuple(alpha * c + (1 - alpha) * b for c, b in zip(parts[:3], under, strict=True))  # type: ignore[return-value]


def split_var(value: str) -> tuple[str | None, str]:
    """``var(--jp-x, fallback)`` → (``jp-x``, fallback); a bare colour → (None, colour)."""
    m = re.fullmatch(r"\s*var\(\s*--([\w-]+)\s*,\s*(.+)\)\s*", value)
    return (m.group(1), m.group(2)) if m else (None, value)


def resolve(value: str, where: str, under: RGB) -> RGB:
    """A CSS colour value in theme ``where`` ("light", "dark") or "fallback" (no variables)."""
    name, fallback = split_var(value)
    if name is None or where == "fallback":
        return parse_colour(fallback, under)
    theme_value = THEME_VARS[where][name]
    inner, inner_fallback = split_var(theme_value)  # --md-* palette vars are not set: fallback
    return parse_colour(inner_fallback if inner else theme_value, under)


def luminance(c: RGB) -> float:
    def channel(x: float) -> float:
        x /= 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(x) for x in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def styles(style: str) -> dict[str, str]:
    out = {}
    for decl in style.split(";"):
        if ":" in decl:
            k, v = decl.split(":", 1)
            out[k.strip().lower()] = v.strip()
    return out


class Walk(HTMLParser):
    """Each text run with its (colour, background) values; each coloured border with its
    background; every colour value written anywhere."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None, str | None]] = []
        self.texts: list[tuple[str, str | None, str | None]] = []
        self.borders: list[tuple[str, str | None]] = []
        self.values: list[str] = []
        self.feed(page)

    def _current(self, index: int) -> str | None:
        for entry in reversed(self.stack):
            if entry[index] is not None:
                return entry[index]
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        assert tag != "style", "inline styles only: <style> is dropped by some renderers"
        style = styles(dict(attrs).get("style") or "")
        colour = style.get("color")
        if colour == "inherit":  # the parent's colour, as the stack finds it
            colour = None
        background = style.get("background") or style.get("background-color")
        for key, value in style.items():
            if value == "inherit":
                continue
            if key == "color" or key.startswith(("background", "border")):
                self.values.append(value)
            if key.startswith("border") and ("solid" in value or "dashed" in value):
                mark = re.sub(r"^\S+\s+(solid|dashed)\s+", "", value)
                self.borders.append((mark, background or self._current(2)))
        if tag not in VOID:
            self.stack.append((tag, colour, background))

    def handle_endtag(self, tag: str) -> None:
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.texts.append((data.strip(), self._current(1), self._current(2)))


DEFAULT_TEXT = "var(--jp-ui-font-color1,#000)"
DEFAULT_BACKGROUND = "var(--jp-layout-color0,#fff)"


def check(page: str) -> None:
    walk = Walk(page)
    assert walk.texts, "nothing to check"
    for value in walk.values:
        # no hard-coded colour: every colour is a JupyterLab variable with a fallback
        for colour in re.findall(r"#[0-9a-fA-F]{3,8}\b|rgba?\([^)]*\)", value):
            assert re.search(r"var\(--jp-[\w-]+,\s*" + re.escape(colour), value), (
                f"hard-coded colour {colour} in {value!r}"
            )
    for where in ("light", "dark", "fallback"):
        for text, colour, background in walk.texts:
            under = resolve(DEFAULT_BACKGROUND, where, (255, 255, 255))
            bg = resolve(background or DEFAULT_BACKGROUND, where, under)
            fg = resolve(colour or DEFAULT_TEXT, where, bg)
            ratio = contrast(fg, bg)
            assert ratio >= 4.5, f"{where}: {text[:40]!r} in {colour} on {background}: {ratio:.2f}"
        for mark, background in walk.borders:
            under = resolve(DEFAULT_BACKGROUND, where, (255, 255, 255))
            bg = resolve(background or DEFAULT_BACKGROUND, where, under)
            ratio = contrast(resolve(mark, where, bg), bg)
            assert ratio >= 3.0, f"{where}: border {mark} on {background}: {ratio:.2f}"


def samples(tmp: Path) -> Iterator[tuple[str, str]]:
    video = write_video(
        tmp / "seedance-output" / "videos" / "job_0123456789ab.mp4", 0.5, size=(320, 240)
    )
    for status in ("queued", "running", "succeeded", "failed", "cancelled", "expired", "unknown"):
        job = make_job(
            status=status,
            video=video if status == "succeeded" else None,
            error={"code": "X", "message": "why"} if status != "succeeded" else None,
        )
        job.reused = status == "succeeded"
        yield status, h.job_html(job)
    for phase in ("creating", "downloading"):
        yield phase, h.job_html(make_job(status="running", phase=phase))
    yield "submitting", h.submitting_html("seedance-2.0")
    yield "error", h.error_line("bad duration", "InvalidRequest", hint="use 4-15")
    yield "notice", h.notice_line("emulator in use")
    yield "warning", h.notice_line("careful", kind="warning")
    refs = show_references(
        "The fox from [Image 1] meets [Image 2] to [Audio 1] in [Video 1]",
        images=["https://x.test/a.png"],
        audios=["https://x.test/a.mp3"],
        videos=["https://x.test/v.mp4", "https://x.test/w.mp4"],
    )
    yield "refs", refs._repr_html_()
    cmp = Comparison(None, "a boat", ["seedance-2.0-fast", "seedance-1.0-pro-fast"], {})
    cmp.cells[0].job = make_job(video=video)
    cmp.cells[0].html = h.job_html(cmp.cells[0].job)
    yield "compare", cmp.html()


@pytest.mark.parametrize("where", ["light", "dark"])
def test_theme_files_are_found_and_differ(where: str) -> None:
    assert THEME_VARS[where]["jp-layout-color0"]
    assert THEME_VARS["light"]["jp-layout-color0"] != THEME_VARS["dark"]["jp-layout-color0"]


def test_every_status_colour_passes_aa_in_both_themes() -> None:
    for status, (role, _glyph) in h._STATUS.items():
        colour = h.PALETTE[role]
        for where in ("light", "dark", "fallback"):
            bg = resolve(DEFAULT_BACKGROUND, where, (255, 255, 255))
            ratio = contrast(resolve(colour, where, bg), bg)
            assert ratio >= 4.5, f"{status} ({role}) in {where}: {ratio:.2f}"
    assert h._STATUS["cancelled"][0] != "error"  # a user's own cancel is not an error


def test_every_drawn_piece_passes_aa(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "seedance-output" / "videos").mkdir(parents=True)
    seen = []
    for name, page in samples(tmp_path):
        check(page)
        seen.append(name)
    assert len(seen) == 15


def test_the_checker_catches_what_it_should() -> None:
    # today's colours: the grey "queued" and a hard-coded red fail
    with pytest.raises(AssertionError, match="hard-coded"):
        check('<div style="color:#cf222e">✗ error</div>')
    with pytest.raises(AssertionError, match="dark"):
        check('<div style="color:var(--jp-error-color0,#b71c1c)">✗ error</div>')
    with pytest.raises(AssertionError, match="light"):
        check('<div style="color:var(--jp-warn-color1,#e65100)">⚠ warning</div>')
