"""Re-execute the tutorials and save their outputs, as CI's nbval run will compare them.

    .venv/bin/python scripts/refresh_notebooks.py [notebooks/01-quickstart.ipynb ...]

Each notebook runs in its own folder with a fresh ``seedance-output`` (so saved ids and
timings come from a clean first run), on the offline emulator at CI's speed, with no provider
key in the environment. Saved outputs carry a poster frame for every video, so the tutorials
show a real frame on GitHub or a fresh clone where the MP4 itself is absent.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def refresh(path: Path) -> None:
    output = path.parent / "seedance-output"
    shutil.rmtree(output, ignore_errors=True)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    nbformat.write(nb, path)
    print(f"saved {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    for name in list(os.environ):
        if name.endswith(("_API_KEY", "_KEY")) or name in ("SEEDANCE_PROVIDER", "SEEDANCE_WORKDIR"):
            del os.environ[name]
    os.environ.setdefault("SEEDANCE_EMULATOR_SPEED", "0.2")
    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    for path in paths:
        refresh(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
