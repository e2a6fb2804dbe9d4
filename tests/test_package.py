"""The package's outer promises: a light import, a typed public surface, a working CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import seedance_nb as sd

HEAVY = (
    "av",
    "PIL",
    "numpy",
    "ipywidgets",
    "IPython",
    "seedance_nb.emulator",
    "seedance_nb.jupyter.magic",
    "fsspec",  # the object store's packages load only for a client with storage
    "s3fs",
    "botocore",
)


def test_import_does_not_load_heavy_modules() -> None:
    code = "import sys, json, seedance_nb; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not [m for m in HEAVY if m in loaded]


def test_public_surface_and_type_marker() -> None:
    for name in (
        "Client",
        "AsyncClient",
        "Job",
        "SeedanceError",
        "InvalidRequest",
        "APIError",
        "JobFailed",
    ):
        assert name in sd.__all__ and hasattr(sd, name)
    assert issubclass(sd.InvalidRequest, ValueError) and issubclass(
        sd.InvalidRequest, sd.SeedanceError
    )
    assert issubclass(sd.JobFailed, sd.SeedanceError) and issubclass(sd.APIError, sd.SeedanceError)
    assert (Path(sd.__file__).parent / "py.typed").exists()


def test_cli_generates_on_the_emulator_and_lists_the_ledger(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "COMETAPI_KEY"))}
    env["SEEDANCE_EMULATOR_SPEED"] = "0.2"
    cli = [sys.executable, "-m", "seedance_nb.cli"]
    gen = subprocess.run(
        [*cli, "generate", "A kite over dunes", "--duration", "4", "--resolution", "480p",
         "--workdir", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip
    assert gen.returncode == 0, gen.stderr
    video = Path(gen.stdout.strip())
    assert video.parent == tmp_path / "videos" and video.stat().st_size > 1000
    assert "offline emulator" in gen.stderr
    listed = subprocess.run([*cli, "jobs", "--workdir", str(tmp_path)], capture_output=True,
                            text=True, env=env, timeout=60)  # fmt: skip
    assert listed.returncode == 0 and video.stem in listed.stdout and "succeeded" in listed.stdout
    bad = subprocess.run([*cli, "generate", "x", "--duration", "99", "--workdir", str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert bad.returncode == 2 and "duration=99" in bad.stderr and "4-15 s" in bad.stderr
