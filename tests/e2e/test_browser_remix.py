"""Remix in a real JupyterLab + headless Chromium, driven with the mouse as a user drives it.

The ``07-budget-and-remix`` tutorial runs (Run All); its ``%%seedance`` cell ends with a video
and a **Remix** button. A real click on Remix opens the form under the view, prefilled with
that job's prompt and parameters (the click reaches the kernel as a comm message, possibly on
a subshell thread); a new seed typed in and a click on Submit make a new job, whose video is
served next to the notebook and plays (``currentTime`` advancing). The ``%seedance spend``
table shows its dollar amounts as text (not typeset as TeX). A screenshot of the prefilled
form is saved under ``artifacts/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import ARGS, ARTIFACTS, CHROMIUM, jupyterlab, menu, open_notebook
from playwright.sync_api import Page, sync_playwright

NOTEBOOK = "remix/07-budget-and-remix.ipynb"
VIEWPORT = {"width": 1400, "height": 1000}
PROMPT = "A paper boat drifts past a lighthouse at night"

VIDEOS = """() => Array.from(document.querySelectorAll('.jp-OutputArea video')).map(v => ({
    src: v.currentSrc.split('?')[0], ready: v.readyState, time: v.currentTime,
    paused: v.paused, width: v.videoWidth}))"""


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with jupyterlab(tmp_path_factory.mktemp("lab"), [NOTEBOOK]) as url:
        yield url


def videos(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(VIDEOS)  # type: ignore[no-any-return]


def test_remix_opens_the_form_prefilled_and_its_submit_plays_a_new_video(lab: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport=VIEWPORT)
        try:
            open_notebook(page, lab, NOTEBOOK)
            menu(page, "Run", "Run All Cells")
            remix = page.locator("button.widget-button:text-is('Remix')")
            remix.first.wait_for(state="visible", timeout=120_000)  # the magic's job is done
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']")
            page.wait_for_function(
                """() => { const vs = Array.from(document.querySelectorAll('.jp-OutputArea video'));
                           return vs.length > 0 && vs.every(v => v.readyState >= 2); }""",
                timeout=30_000,
            )
            before = sorted({v["src"] for v in videos(page)})
            # the spend: dollar amounts as text (JupyterLab would typeset "$…$" as TeX)
            budget_lines = page.eval_on_selector_all(  # textContent: cells off screen too
                ".seedance-spend .seedance-budget", "els => els.map(e => e.textContent)"
            )

            remix.first.scroll_into_view_if_needed()
            remix.first.click()  # a real mouse click
            prompt = page.locator(".widget-textarea:has(label:text-is('Prompt')) textarea")
            prompt.wait_for(timeout=30_000)
            seed = page.locator(".widget-text:has(label:text-is('Seed')) input").first
            model = page.locator(".widget-dropdown:has(label:text-is('Model')) select").first
            shown = {
                "prompt": prompt.input_value(),
                "seed": seed.input_value(),
                "model": model.evaluate("s => s.options[s.selectedIndex].text"),
                "duration": page.locator(
                    ".widget-dropdown:has(label:text-is('Duration (s)')) select"
                ).first.evaluate("s => s.options[s.selectedIndex].text"),
                "resolution": page.locator(
                    ".widget-dropdown:has(label:text-is('Resolution')) select"
                ).first.evaluate("s => s.options[s.selectedIndex].text"),
            }
            prompt.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "browser-remix-form.png"))

            seed.click()
            seed.press("Control+a")
            seed.press_sequentially("4", delay=5)
            submit = page.locator("button.jupyter-button", has_text="Submit").first
            submit.scroll_into_view_if_needed()
            submit.click()
            page.wait_for_function(
                """(before) => Array.from(document.querySelectorAll('.jp-OutputArea video'))
                    .some(v => !before.includes(v.currentSrc.split('?')[0]) && v.readyState >= 2)""",
                arg=before,
                timeout=90_000,
            )
            new = [v for v in videos(page) if v["src"] not in before]
            page.wait_for_timeout(1500)
            later = [v for v in videos(page) if new and v["src"] == new[0]["src"]]
            errors = page.locator(".jp-OutputArea .seedance-error").all_inner_texts()
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "browser-remix-failed.png"), full_page=True)
            (ARTIFACTS / "browser-remix-failed.html").write_text(page.content())
            raise
        finally:
            browser.close()

    # the form came up holding the job's own prompt and parameters
    assert shown == {
        "prompt": PROMPT,
        "seed": "3",
        "model": "seedance-2.0-fast",
        "duration": "4",
        "resolution": "480p",
    }, shown
    assert errors == []  # no refused submit, no budget refusal, no failed view
    first, magic = budget_lines  # client.spend() in Python, then %seedance spend
    assert "budget $0.75 (the emulator's would-have-cost): spent $0.28, $0.47 left" in first
    assert "budget $1.50 (the emulator's would-have-cost): spent $0.86" in magic
    (video,) = new
    assert video["src"].startswith(f"{lab}/files/remix/seedance-output/budget-demo/videos/"), video
    assert video["width"] == 864  # 16:9 480p, as the job it remixed
    assert later and later[0]["time"] != video["time"] and not later[0]["paused"]  # it plays
