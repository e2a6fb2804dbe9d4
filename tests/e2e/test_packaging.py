"""Packaging and Binder, as a new user meets them: a quiet install and a Binder link that builds.

The Binder check runs repo2docker's own planning (``--no-build``: the Dockerfile Binder would
build, without Docker) and then the one build step that matters, ``binder/postBuild``, in a fresh
virtual environment, checking that it installs seedance-nb, JupyterLab and the widget extension.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _clone(tmp_path: Path) -> Path:
    """A copy of the working tree as git would hand it out (tracked and new files, no .venv)."""
    dest = tmp_path / "seedance-nb"
    files = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    for name in files:
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


def test_building_the_package_prints_no_deprecation_banners(tmp_path: Path) -> None:
    src = _clone(tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-w",
            str(tmp_path / "wheels"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "deprecat" not in output.lower(), output[-3000:]
    assert "!!" not in output, output[-3000:]


def test_the_readme_binder_link_is_real_and_matches_the_project_urls() -> None:
    readme = (ROOT / "README.md").read_text()
    pyproject = (ROOT / "pyproject.toml").read_text()
    urls = dict(re.findall(r'^(\w+) = "(https://[^"]+)"$', pyproject, re.MULTILINE))
    binder = urls["Binder"]
    assert "<" not in binder and "<org>" not in readme
    links = re.findall(r"https://mybinder\.org/v2/gh/[^\s)`\"]+", readme)
    assert links and all(link == binder for link in links), links
    owner_repo = re.match(r"https://mybinder\.org/v2/gh/([^/]+/[^/]+)/HEAD", binder)
    assert owner_repo is not None
    assert urls["Repository"] == f"https://github.com/{owner_repo.group(1)}"
    notebook = binder.split("urlpath=lab/tree/", 1)[1]
    assert (ROOT / notebook).is_file(), notebook


@pytest.mark.timeout(600)
def test_binder_builds_as_repo2docker_would(tmp_path: Path) -> None:
    src = _clone(tmp_path)
    r2d = Path(sys.executable).with_name("jupyter-repo2docker")
    plan = subprocess.run(
        [str(r2d), "--no-build", "--no-run", "--debug", str(src)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert plan.returncode == 0, plan.stderr[-2000:]
    dockerfile = plan.stdout + plan.stderr
    assert "RUN ./binder/postBuild" in dockerfile
    assert re.search(r"python.?3\.11", dockerfile, re.IGNORECASE), "runtime.txt not honoured"

    venv = tmp_path / "binder-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path), "VIRTUAL_ENV": str(venv)}
    build = subprocess.run(
        ["bash", "binder/postBuild"], cwd=src, env=env, capture_output=True, text=True, timeout=480
    )
    assert build.returncode == 0, build.stdout[-2000:] + build.stderr[-2000:]
    python = venv / "bin" / "python"
    check = subprocess.run(
        [
            str(python),
            "-c",
            "import seedance_nb, ipywidgets, jupyterlab, ipykernel; print(jupyterlab.__version__)",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    assert int(check.stdout.split(".")[0]) >= 4
    extensions = subprocess.run(
        [str(venv / "bin" / "jupyter"), "labextension", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert "@jupyter-widgets/jupyterlab-manager" in extensions.stdout + extensions.stderr
