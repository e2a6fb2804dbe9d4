"""Shared fixtures: real media files, a fast emulator, and clients pointed at it.

Every test runs with the providers' key variables removed, so nothing here can reach a paid
API by accident; the clients talk to an emulator on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import io
import json
import math
import threading
import wave
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from seedance_nb import catalog
from seedance_nb.emulator import Emulator

KEY_ENVS = sorted({env for p in catalog.PROVIDERS.values() for env in p.key_env})
EMULATOR_ENVS = ("SEEDANCE_EMULATOR_URL", "SEEDANCE_EMULATOR_SPEED")


@pytest.fixture(autouse=True)
def _no_provider_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real key may leak into a test (and no test may reach a real provider)."""
    for name in (*KEY_ENVS, *EMULATOR_ENVS):
        monkeypatch.delenv(name, raising=False)


# ----------------------------------------------------------------------------- media files


def png_bytes(size: tuple[int, int] = (400, 400), color: tuple[int, int, int] = (200, 80, 40),
              fmt: str = "PNG") -> bytes:  # fmt: skip
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, fmt)
    return buf.getvalue()


def png_data_url(
    size: tuple[int, int] = (400, 400), color: tuple[int, int, int] = (20, 90, 200)
) -> str:
    return "data:image/png;base64," + base64.b64encode(png_bytes(size, color)).decode()


def write_png(path: Path, size: tuple[int, int] = (400, 400),
              color: tuple[int, int, int] = (200, 80, 40)) -> Path:  # fmt: skip
    path.write_bytes(png_bytes(size, color))
    return path


def write_video(
    path: Path, seconds: float, fps: int = 24, size: tuple[int, int] = (640, 640)
) -> Path:
    """A real H.264 MP4 of ``seconds`` at ``fps`` (PyAV)."""
    import av
    import numpy as np

    w, h = size
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        for i in range(round(seconds * fps)):
            arr = np.full((h, w, 3), (i * 7) % 255, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(arr, format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def wav_bytes(seconds: float, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        samples = bytearray()
        for i in range(int(seconds * rate)):
            v = int(8000 * math.sin(2 * math.pi * 440 * i / rate))
            samples += v.to_bytes(2, "little", signed=True)
        w.writeframes(bytes(samples))
    return buf.getvalue()


def write_wav(path: Path, seconds: float) -> Path:
    path.write_bytes(wav_bytes(seconds))
    return path


@pytest.fixture
def media(tmp_path: Path) -> Any:
    """Factories that write real media files into this test's ``tmp_path``."""

    class Media:
        dir = tmp_path

        @staticmethod
        def png(name: str = "frame.png", size: tuple[int, int] = (400, 400),
                color: tuple[int, int, int] = (200, 80, 40)) -> Path:  # fmt: skip
            return write_png(tmp_path / name, size, color)

        @staticmethod
        def video(name: str = "clip.mp4", seconds: float = 2.5, fps: int = 24,
                  size: tuple[int, int] = (640, 640)) -> Path:  # fmt: skip
            return write_video(tmp_path / name, seconds, fps, size)

        @staticmethod
        def wav(name: str = "voice.wav", seconds: float = 3.0) -> Path:
            return write_wav(tmp_path / name, seconds)

    return Media


# ----------------------------------------------------------------------------- emulator + clients

FAST = {"queued_seconds": 0.2, "running_seconds": 0.4}


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One fast emulator per test module, its state in a temporary directory."""
    emu = Emulator(state_dir=tmp_path_factory.mktemp("emulator"), **FAST).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[Emulator]:
    """A fast emulator of this test's own, for tests that count what it was asked to do."""
    emulator = Emulator(state_dir=tmp_path / "emu", **FAST).start()
    try:
        yield emulator
    finally:
        emulator.stop()


def client_kwargs(emu: Emulator, workdir: Path, **extra: Any) -> dict[str, Any]:
    return {"provider": "emulator", "base_url": emu.base_url + "/api/v3", "workdir": workdir,
            **extra}  # fmt: skip


@pytest.fixture
def client(emulator: Emulator, tmp_path: Path) -> Iterator[Any]:
    """A sync client on the module's emulator with a fresh workdir."""
    import seedance_nb as sd

    c = sd.Client(**client_kwargs(emulator, tmp_path / "w"))
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def aclient(emulator: Emulator, tmp_path: Path) -> Iterator[Any]:
    """An AsyncClient on the module's emulator; use it inside ``run(...)`` with ``async with``."""
    import seedance_nb as sd

    c = sd.AsyncClient(**client_kwargs(emulator, tmp_path / "w"))
    try:
        yield c
    finally:
        with contextlib.suppress(Exception):
            asyncio.run(c.aclose())


@pytest.fixture
def run() -> Callable[[Any], Any]:
    """Run a coroutine to completion on a fresh event loop (no pytest-asyncio needed)."""
    return asyncio.run


# ----------------------------------------------------------------------------- callbacks


@pytest.fixture
def hook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A loopback receiver for status callbacks: its URL and the bodies it got, in order."""
    received: list[dict[str, Any]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


# ----------------------------------------------------------------------------- fault matrix


@pytest.fixture(scope="session")
def fault_matrix() -> Iterator[list[dict[str, Any]]]:
    """Rows of figures from the fault-matrix tests; written as JSON to the path in
    ``SEEDANCE_FAULT_REPORT`` at the end of the session (``scripts/fault-matrix`` sets it)."""
    import os

    rows: list[dict[str, Any]] = []
    yield rows
    target = os.environ.get("SEEDANCE_FAULT_REPORT")
    if target and rows:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps(rows, indent=2))


@pytest.fixture(scope="module")
def ip() -> Any:
    """A real IPython shell with the extension loaded (as in a kernel, minus the kernel)."""
    from IPython import get_ipython
    from IPython.testing.globalipapp import start_ipython

    shell = start_ipython() or get_ipython()  # None when another module started it first
    shell.run_line_magic("load_ext", "seedance_nb")
    return shell


# ----------------------------------------------------------------------------- PostgreSQL


@pytest.fixture(scope="session")
def postgres() -> Iterator[Any]:
    """A real PostgreSQL server on 127.0.0.1 for the whole session (``pg_support``); its
    binaries missing is a failure, never a skip."""
    from pg_support import PostgresServer

    try:
        server = PostgresServer().start()
    except RuntimeError as exc:
        pytest.fail(f"no PostgreSQL server for the team-ledger tests: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres: Any) -> str:
    """The URL (password included) of a fresh, empty database on the session's server."""
    return str(postgres.database())
