"""The sweep gallery in a real JupyterLab + headless Chromium, driven with a real mouse.

``08-sweeps`` is run with Run All (a copy, in its own folder, on the offline emulator). The
first gallery is a 2 × 2 grid of live views that become their videos, served by
jupyter-server. The videos wait (no autoplay in a grid); hovering one plays it and leaving
pauses it again; **Play all** plays every one, their ``currentTime`` advancing.
"""

from __future__ import annotations

from typing import Any

from browser_support import ARGS, ARTIFACTS, CHROMIUM, jupyterlab, menu, open_notebook
from playwright.sync_api import Locator, Page, sync_playwright

SWEEPS = "sweeps/08-sweeps.ipynb"
VIEWPORT = {"width": 1400, "height": 1000}
FIRST_GALLERY = ".jp-OutputArea .seedance-sweep"

STATE = """(gallery) => Array.from(gallery.querySelectorAll('video')).map(v => ({
    src: v.currentSrc, ready: v.readyState, width: v.videoWidth, time: v.currentTime,
    paused: v.paused}))"""


def videos(gallery: Locator) -> list[dict[str, Any]]:
    return gallery.evaluate(STATE)  # type: ignore[no-any-return]


def wait_for_four_videos(page: Page) -> Locator:
    """The first gallery once its four videos are loaded (after the final repaint)."""
    page.wait_for_function(
        f"""() => {{
            const g = document.querySelector('{FIRST_GALLERY}');
            const vs = g ? Array.from(g.querySelectorAll('video')) : [];
            return vs.length === 4 && vs.every(v => v.readyState >= 2 && v.videoWidth > 0);
        }}""",
        timeout=120_000,
    )
    return page.locator(FIRST_GALLERY).first


def test_the_sweep_gallery_plays_on_hover_and_with_play_all(tmp_path: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with jupyterlab(tmp_path, [SWEEPS]) as lab, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        try:
            open_notebook(page, lab, SWEEPS)
            menu(page, "Edit", "Clear Outputs of All Cells")
            page.wait_for_function("() => !document.querySelector('.seedance-sweep')")
            menu(page, "Run", "Run All Cells")
            # the last cell (plain Python, everything reused) has run
            page.wait_for_function(
                "() => document.querySelector('.jp-Notebook').innerText"
                ".includes('[True, True, True, True]')",
                timeout=120_000,
            )
            gallery = wait_for_four_videos(page)
            cells = gallery.locator(".seedance-sweep-cell")
            titles = [cells.nth(i).get_attribute("title") or "" for i in range(4)]
            start = videos(gallery)
            gallery.scroll_into_view_if_needed()
            # hover: the second cell plays, the others wait; leaving pauses it again
            cells.nth(1).locator("video").hover()
            page.wait_for_timeout(1200)
            hovered = videos(gallery)
            page.mouse.move(5, 5)
            page.wait_for_timeout(300)
            left = videos(gallery)
            # Play all, clicked with the mouse: every video plays and advances
            gallery.locator("button.seedance-play-all").click()
            page.wait_for_timeout(400)
            first = videos(gallery)
            page.wait_for_timeout(1200)
            later = videos(gallery)
            page.screenshot(path=str(ARTIFACTS / "browser-08-sweep-gallery.png"), full_page=True)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-08-sweeps-failed.png"), full_page=True)
            (ARTIFACTS / "browser-08-sweeps-failed.html").write_text(page.content())
            raise
        finally:
            browser.close()
    assert [t.splitlines()[:2] for t in titles] == [
        ["animal=fox", "seed=1"],
        ["animal=fox", "seed=2"],
        ["animal=owl", "seed=1"],
        ["animal=owl", "seed=2"],
    ]
    assert all("/files/sweeps/seedance-output/videos/job_" in v["src"] for v in start)
    assert all(v["paused"] for v in start)  # a grid does not autoplay
    assert not hovered[1]["paused"] and hovered[1]["time"] > 0.3
    assert [v["paused"] for i, v in enumerate(hovered) if i != 1] == [True, True, True]
    assert left[1]["paused"]
    assert not any(v["paused"] for v in later)
    for before, after in zip(first, later, strict=True):
        assert after["time"] != before["time"]  # advancing (looped, so compare, not order)
