"""End to end in a real browser: JupyterLab + headless Chromium run 01-quickstart.

JupyterLab serves a copy of ``notebooks/01-quickstart.ipynb`` (so the repository's notebook
and workdir stay untouched); Playwright runs all cells and checks that the ``<video>`` the
task view shows is served by jupyter-server and actually plays.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def lab(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(ROOT / "notebooks" / "01-quickstart.ipynb", root)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("API_KEY") and k not in ("SEEDANCE_EMULATOR_SPEED", "SEEDANCE_PROVIDER",
                                                      "SEEDANCE_WORKDIR")}  # fmt: skip
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "jupyter-config")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "jupyter-runtime")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp_path / "lab-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp_path / "lab-workspaces")
    log = open(tmp_path / "lab.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--IdentityProvider.token=",
         "--ServerApp.password=", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}"],
        cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "lab.log").read_text()[-3000:]) from None
                time.sleep(0.3)
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        log.close()


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
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{lab}/lab/tree/01-quickstart.ipynb")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
            select = page.get_by_role("button", name="Select", exact=True)
            try:  # JupyterLab may ask which kernel to start
                select.click(timeout=10_000)
            except PlaywrightTimeout:
                pass
            page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']",
                                   timeout=60_000)  # fmt: skip
            page.get_by_role("menuitem", name="Edit", exact=True).click()
            page.get_by_role("menuitem", name="Clear Outputs of All Cells", exact=True).click()
            page.wait_for_function("() => !document.querySelector('.jp-OutputArea video')")
            page.evaluate(RECORD_TIMELINE)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
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
    assert "/files/" in video["src"] and "seedance-output/videos/" in video["src"]
    assert video["width"] == 864
    assert not video["paused"]
    assert video["time"] != first[0]["time"]  # playing (looped, so compare, not order)
