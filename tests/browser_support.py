"""JupyterLab + headless Chromium for the browser tests.

:func:`jupyterlab` serves copies of tutorial notebooks from a temporary root on a free
loopback port (so the repository's notebooks and workdirs stay untouched), with its own
config, runtime, settings and workspace directories and no provider keys in its
environment. :func:`open_notebook` opens one the way a user does.
"""

from __future__ import annotations

import contextlib
import json
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
from typing import Any

from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def jupyterlab(
    tmp_path: Path,
    notebooks: list[str],
    settings: dict[str, dict[str, Any]] | None = None,
    base_url: str = "/",
) -> Iterator[str]:
    """A JupyterLab serving copies of tutorial ``notebooks``; yields its URL (with
    ``base_url``, e.g. ``/user/NAME/`` as on Binder and JupyterHub; no trailing slash).

    ``settings`` maps a settings id (``@jupyterlab/apputils-extension/themes``) to the
    user settings JupyterLab starts with; the "get Jupyter news?" toast is always off.
    """
    root = tmp_path / "notebooks"
    root.mkdir()
    for target in notebooks:  # "name.ipynb" or "folder/name.ipynb" (own folder: own workdir)
        (root / target).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "notebooks" / Path(target).name, root / target)
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.endswith("API_KEY") and k not in ("SEEDANCE_EMULATOR_SPEED", "SEEDANCE_PROVIDER",
                                                      "SEEDANCE_WORKDIR", "SEEDANCE_EMULATOR_URL")}  # fmt: skip
    env["JUPYTER_CONFIG_DIR"] = str(tmp_path / "jupyter-config")
    env["JUPYTER_RUNTIME_DIR"] = str(tmp_path / "jupyter-runtime")
    env["JUPYTERLAB_SETTINGS_DIR"] = str(tmp_path / "lab-settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp_path / "lab-workspaces")
    quiet = {"@jupyterlab/apputils-extension/notification": {"fetchNews": "false"}}
    for setting_id, values in {**quiet, **(settings or {})}.items():
        plugin, _, name = setting_id.rpartition("/")
        target = tmp_path / "lab-settings" / plugin / f"{name}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    log_path = tmp_path / "lab.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--IdentityProvider.token=",
             "--ServerApp.password=", "--allow-root", f"--port={port}", "--ServerApp.ip=127.0.0.1",
             "--ServerApp.port_retries=0", f"--ServerApp.root_dir={root}",
             f"--ServerApp.base_url={base_url}"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}{base_url}".rstrip("/")
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/api/status", timeout=2).read()
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(log_path.read_text()[-3000:]) from None
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


def open_notebook(page: Page, lab: str, name: str) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel is idle."""
    page.goto(f"{lab}/lab/tree/{name}?reset")  # ?reset: no tabs left from an earlier test
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    select = page.get_by_role("button", name="Select", exact=True)
    try:  # JupyterLab may ask which kernel to start
        select.click(timeout=10_000)
    except PlaywrightTimeout:
        pass
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=60_000)


def menu(page: Page, *path: str) -> None:
    """Click through the menu bar: ``menu(page, "Run", "Run All Cells")``."""
    top, *items = path
    page.get_by_role("menuitem", name=top, exact=True).click()
    for item in items:  # by label: a submenu's accessible name carries its arrow
        page.locator(f".lm-Menu-item:has(.lm-Menu-itemLabel:text-is('{item}'))").click()
