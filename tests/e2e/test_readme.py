"""The README's Python block runs as written, on the emulator, in a fresh folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import write_png, write_video

import seedance_nb as sd

ROOT = Path(__file__).resolve().parents[2]


def test_the_readme_python_block_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEEDANCE_EMULATOR_SPEED", "0.2")
    monkeypatch.delenv("SEEDANCE_WORKDIR", raising=False)
    write_png(tmp_path / "start.png", (640, 480))
    write_video(tmp_path / "dance.mp4", 3.0)
    readme = (ROOT / "README.md").read_text()
    match = re.search(r"## Python\n\n```python\n(.*?)```", readme, re.S)
    assert match is not None
    scope: dict[str, object] = {}
    # the block ends on the line it documents as raising
    with pytest.raises(sd.InvalidRequest, match=r"duration=20 is not allowed for seedance-2\.0"):
        exec(compile(match.group(1), "README.md", "exec"), scope)
    job, again = scope["job"], scope["again"]
    assert isinstance(job, sd.Job) and isinstance(again, sd.Job)
    assert job.status == "succeeded" and job.video_path is not None and job.video_path.is_file()
    assert again.id == job.id and again.reused
    assert again.reuse_note().startswith(f"same request as {job.id} (")
