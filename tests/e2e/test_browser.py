"""End to end in a real browser: JupyterLab + headless Chromium, driven as a user drives it.

One JupyterLab serves copies of two tutorials, each in its own folder (so each kernel has its
own workdir, and the repository's notebooks stay untouched):

* ``01-quickstart``: Run All; the magic's live view goes through running before its video,
  the kernel answers the next cell meanwhile, and the ``<video>`` is served by jupyter-server
  and plays. Its poster frame decodes in the browser, and **Copy prompt** puts the prompt on
  the clipboard.
* ``04-form``: Run All, then change the model, write a prompt and click **Submit** with the
  mouse. The click reaches the kernel as a comm message, which ipykernel 7 may handle on a
  subshell thread: the path that once failed with "an AsyncClient is bound to the event loop
  that first used it". The video inside the widget plays (served next to the notebook,
  ``currentTime`` advancing), a 9:16 video fits the window, Cancel on a running job says why
  it cannot stop it, and screenshots of the form in the light and the dark theme are saved
  under ``artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import ARGS, ARTIFACTS, CHROMIUM, jupyterlab, menu, open_notebook
from playwright.sync_api import Locator, Page, sync_playwright

QUICKSTART = "quickstart/01-quickstart.ipynb"
FORM = "form/04-form.ipynb"
VIEWPORT = {"width": 1400, "height": 1000}
BASE = "/user/binder-test/"


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    # under a base URL as on Binder (/user/NAME/), where a wrongly resolved src shows at once
    with jupyterlab(tmp_path_factory.mktemp("lab"), [QUICKSTART, FORM], base_url=BASE) as url:
        yield url


# Records, with timestamps, every text the task view shows, when the cell after the magic
# prints its answer, and when the first <video> appears.
RECORD_TIMELINE = """() => {
    window.__seedanceTimeline = [];
    const log = (kind, text) => window.__seedanceTimeline.push({kind, text, t: performance.now()});
    let answered = false, video = false;
    new MutationObserver(() => {
        document.querySelectorAll('.seedance-job').forEach(el => {
            const text = el.innerText;
            if (el.__last !== text) { el.__last = text; log('view', text); }
        });
        if (!answered && Array.from(document.querySelectorAll('.jp-OutputArea-output')).some(
                o => o.innerText.includes('the kernel answered while the video renders'))) {
            answered = true; log('answer', '');
        }
        if (!video && document.querySelector('.jp-OutputArea video')) { video = true; log('video', ''); }
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


VIDEO_STATE = """() => Array.from(document.querySelectorAll('.jp-OutputArea video')).map(v => ({
    src: v.currentSrc, ready: v.readyState, width: v.videoWidth, time: v.currentTime,
    paused: v.paused}))"""


def test_quickstart_plays_in_jupyterlab(lab: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = browser.new_context(
                viewport=VIEWPORT, permissions=["clipboard-read", "clipboard-write"]
            )
            page = context.new_page()
            open_notebook(page, lab, QUICKSTART)
            menu(page, "Edit", "Clear Outputs of All Cells")
            page.wait_for_function("() => !document.querySelector('.jp-OutputArea video')")
            page.evaluate(RECORD_TIMELINE)
            menu(page, "Run", "Run All Cells")
            # the last cell (the 1080p refusal) has run once its one-line error is shown
            page.wait_for_function(
                "() => document.querySelector('.jp-Notebook').innerText"
                ".includes(\"resolution='1080p' is not allowed\")",
                timeout=90_000,
            )
            page.wait_for_function(
                "() => Array.from(document.querySelectorAll('.jp-OutputArea video'))"
                ".some(v => v.readyState >= 2 && v.videoWidth > 0)",
                timeout=60_000,
            )
            first = [v for v in page.evaluate(VIDEO_STATE) if v["ready"] >= 2]
            page.wait_for_timeout(1500)
            later = [v for v in page.evaluate(VIDEO_STATE) if v["ready"] >= 2]
            page.screenshot(path=str(ARTIFACTS / "browser-01-quickstart.png"), full_page=True)
            timeline = page.evaluate("() => window.__seedanceTimeline")
            poster = page.evaluate(POSTER_SIZE)
            copy = page.locator("button.seedance-copy").first
            copy.scroll_into_view_if_needed()
            copy.click()
            page.wait_for_function(
                "() => document.querySelector('button.seedance-copy').textContent"
                ".includes('Copied')"
            )
            copied = page.evaluate("() => navigator.clipboard.readText()")
        except Exception:
            page.screenshot(
                path=str(ARTIFACTS / "browser-01-quickstart-failed.png"), full_page=True
            )
            (ARTIFACTS / "browser-01-quickstart-failed.html").write_text(page.content())
            raise
        finally:
            browser.close()
    assert first and later
    # the live view went through running before its video, and the kernel answered the next
    # cell while the job was still rendering (the magic did not block the event loop)
    views = [e for e in timeline if e["kind"] == "view"]
    running = [e["t"] for e in views if "running" in e["text"]]
    answered = [e["t"] for e in timeline if e["kind"] == "answer"]
    videos = [e["t"] for e in timeline if e["kind"] == "video"]
    assert running and answered and videos, timeline[-10:]
    assert min(running) < min(videos)
    assert min(answered) < min(videos)
    video = later[0]
    assert video["src"].startswith(f"{lab}/files/quickstart/seedance-output/videos/"), video
    assert video["width"] == 864
    assert not video["paused"]
    assert video["time"] != first[0]["time"]  # playing (looped, so compare, not order)
    # the poster (what a saved notebook shows where the MP4 is missing) is a real image here
    assert poster[0] == 160 and 80 < poster[1] < 160, poster
    assert (
        copied
        == "A paper boat drifts down a rain-soaked street at dusk, neon reflections in the puddles"
    )


# The natural size of the first video's poster, decoded by the browser itself.
POSTER_SIZE = """async () => {
    const img = new Image();
    img.src = document.querySelector('.jp-OutputArea video[poster]').poster;
    await img.decode();
    return [img.naturalWidth, img.naturalHeight];
}"""


FORM_VIDEOS = """() => Array.from(document.querySelectorAll('.jp-OutputArea video')).map(v => {
    const box = v.getBoundingClientRect();
    return {src: v.currentSrc.split('?')[0], ready: v.readyState, error: v.error && v.error.code,
            width: v.videoWidth, height: v.videoHeight, time: v.currentTime, paused: v.paused,
            boxHeight: box.height, boxWidth: box.width};
})"""


def field(page: Page, kind: str, label: str) -> Locator:
    """The form's widget of ``kind`` (dropdown, textarea, button) by its visible label."""
    if kind == "button":
        return page.locator("button.jupyter-button", has_text=label)
    tag = {"dropdown": "select", "textarea": "textarea", "text": "input"}[kind]
    return page.locator(f".widget-{kind}:has(label:text-is('{label}')) {tag}").first


def videos(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(FORM_VIDEOS)  # type: ignore[no-any-return]


def top_of_form(page: Page) -> None:
    """Scroll the notebook so the form starts at the top of the window (for the screenshots)."""
    page.evaluate(
        """() => document.querySelector('.widget-dropdown select')
                    .closest('.jp-OutputArea-output').scrollIntoView({block: 'start'})"""
    )
    page.wait_for_timeout(500)


def submit(page: Page, prompt: str) -> None:
    box = field(page, "textarea", "Prompt")
    box.click()
    box.press("Control+a")
    box.press_sequentially(prompt, delay=5)
    button = field(page, "button", "Submit")
    button.scroll_into_view_if_needed()
    button.click()


def test_the_form_works_from_real_clicks(lab: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        try:
            open_notebook(page, lab, FORM)
            menu(page, "Run", "Run All Cells")
            # the tutorial's own submission (from code) finishes and prints its status
            page.wait_for_function(
                "() => document.querySelector('.jp-Notebook').innerText.includes('succeeded ')",
                timeout=90_000,
            )
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            page.wait_for_function(  # the tutorial's video is loaded, so it is not taken for ours
                """() => { const vs = Array.from(document.querySelectorAll('.jp-OutputArea video'));
                           return vs.length > 0 && vs.every(v => v.readyState >= 2); }""",
                timeout=30_000,
            )
            before = {v["src"] for v in videos(page)}

            # 1. change the model, pick a tall 9:16 720p video, and click Submit
            model = field(page, "dropdown", "Model")
            model.scroll_into_view_if_needed()
            model.select_option("seedance-1.0-pro-fast")
            field(page, "dropdown", "Ratio").select_option("9:16")
            field(page, "dropdown", "Resolution").select_option("720p")
            submit(page, "A lighthouse keeper climbs the stairs, filmed upright for a phone")
            page.wait_for_function(
                """(before) => Array.from(document.querySelectorAll('.jp-OutputArea video'))
                    .some(v => !before.includes(v.currentSrc.split('?')[0]) && v.readyState >= 2)""",
                arg=sorted(before),
                timeout=90_000,
            )
            assert "submit failed" not in page.locator(".jp-Notebook").inner_text()
            new = [v for v in videos(page) if v["src"] not in before]
            page.wait_for_timeout(1500)
            later = [v for v in videos(page) if v["src"] == new[0]["src"]]
            top_of_form(page)
            page.screenshot(path=str(ARTIFACTS / "browser-form-light.png"))

            # 2. a long job: Cancel while it runs says why Ark cannot stop it
            submit(page, "A slow pan across a mountain range at dawn [[slow]]")
            # (by its text: the icon's glyph is part of the button's accessible name)
            cancel = page.locator("button.widget-button:text-is('Cancel')").first  # newest on top
            page.locator(".seedance-status-running").first.wait_for(timeout=60_000)
            cancel.click()
            reason = page.get_by_text("cannot stop a running task; it will finish and be billed")
            reason.first.wait_for(timeout=20_000)
            refused = page.locator("button.jupyter-button", has_text="Cannot cancel")
            assert refused.is_disabled()

            # 3. the dark theme, chosen from the Settings menu
            menu(page, "Settings", "Theme", "JupyterLab Dark")
            page.wait_for_selector("body[data-jp-theme-light='false']", state="attached")
            top_of_form(page)
            page.screenshot(path=str(ARTIFACTS / "browser-form-dark.png"))
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-form-failed.png"), full_page=True)
            (ARTIFACTS / "browser-form-failed.html").write_text(page.content())
            raise
        finally:
            browser.close()

    shown = new[0]
    # served by jupyter-server next to the notebook (in its folder), not resolved against
    # the page's /lab/… URL
    assert shown["src"].startswith(f"{lab}/files/form/seedance-output/videos/"), shown
    assert "/lab/" not in shown["src"]
    assert shown["error"] is None and shown["height"] > shown["width"]  # 9:16
    assert later and later[0]["time"] != shown["time"] and not later[0]["paused"]  # it plays
    assert 0 < shown["boxHeight"] <= VIEWPORT["height"], shown  # fits the window
