"""The storyboard tutorial in a real JupyterLab, driven by headless Chromium.

Run All on a copy of ``09-storyboard``: the board's live view shows every shot (the second
waiting for the first's last frame while the first renders), each shot's view becomes its
video, and once ``board.concat`` has run the film appears under the shots and plays
(``currentTime`` advances), served by jupyter-server next to the notebook.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_support import ARGS, ARTIFACTS, CHROMIUM, jupyterlab, menu, open_notebook
from playwright.sync_api import sync_playwright

NOTEBOOK = "storyboard/09-storyboard.ipynb"

# every state each shot of the first board shows, in order, with a timestamp
RECORD_SHOTS = """() => {
    window.__shots = [];
    new MutationObserver(() => {
        const board = document.querySelector('.seedance-storyboard');
        if (!board) return;
        const states = Array.from(board.querySelectorAll('.seedance-shot'))
            .map(s => s.dataset.state).join(',');
        const last = window.__shots[window.__shots.length - 1];
        if (!last || last.states !== states) window.__shots.push({states, t: performance.now()});
    }).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""

FILM = """() => { const v = document.querySelector('.seedance-storyboard .seedance-film video');
    return v && {src: v.currentSrc, ready: v.readyState, width: v.videoWidth,
                 duration: v.duration, time: v.currentTime, paused: v.paused}; }"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with jupyterlab(tmp_path_factory.mktemp("lab"), [NOTEBOOK]) as url:
        yield url


def test_a_storyboard_shows_each_shot_then_plays_its_film(lab: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            open_notebook(page, lab, NOTEBOOK)
            menu(page, "Edit", "Clear Outputs of All Cells")
            page.wait_for_function("() => !document.querySelector('.seedance-storyboard')")
            page.evaluate(RECORD_SHOTS)
            menu(page, "Run", "Run All Cells")
            page.wait_for_function(
                """() => { const v = document.querySelector(
                        '.seedance-storyboard .seedance-film video');
                    return v && v.readyState >= 2 && v.videoWidth > 0; }""",
                timeout=180_000,
            )
            board = page.locator(".seedance-storyboard").first
            shots = board.locator(".seedance-shot")
            states = [shots.nth(i).get_attribute("data-state") for i in range(shots.count())]
            shot_videos = board.locator(".seedance-shot video").count()
            # Chromium pauses a muted autoplaying video while it is off screen (Run All leaves
            # the notebook scrolled to its end): bring the film into view, as a user would
            board.locator(".seedance-film video").scroll_into_view_if_needed()
            page.wait_for_timeout(500)
            first = page.evaluate(FILM)
            page.wait_for_timeout(1500)
            later = page.evaluate(FILM)
            page.screenshot(path=str(ARTIFACTS / "browser-09-storyboard.png"), full_page=True)
            timeline = page.evaluate("() => window.__shots")
        except Exception:
            page.screenshot(
                path=str(ARTIFACTS / "browser-09-storyboard-failed.png"), full_page=True
            )
            (ARTIFACTS / "browser-09-storyboard-failed.html").write_text(page.content())
            raise
        finally:
            browser.close()
    assert states == ["succeeded"] * 3
    assert shot_videos == 3  # each shot's own view became its video
    seen = [e["states"].split(",") for e in timeline]
    # the second shot waited for the first's last frame while the first was under way
    assert any(s[0] in ("queued", "running", "submitting") and s[1] == "waiting" for s in seen), (
        seen
    )
    assert seen[-1] == ["succeeded"] * 3
    assert later["src"].startswith(f"{lab}/files/storyboard/seedance-output/fox.mp4"), later
    assert later["width"] == 864 and later["duration"] == pytest.approx(13.0, abs=0.1)
    assert not later["paused"]
    assert later["time"] != first["time"]  # the film plays
