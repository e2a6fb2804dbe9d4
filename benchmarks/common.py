"""Shared plumbing: the emulator in its own process, a loop-lag probe, a Range file server,
RSS readings, percentiles and the result tables.

The emulator runs in a child process (``python -m benchmarks.common emulator``) so its HTTP
threads and render workers never share the benchmarked process's GIL: what we measure on the
event loop is the client, not the server it talks to.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROVIDER_ENVS = (
    "ARK_API_KEY", "BYTEPLUS_ARK_API_KEY", "VOLCENGINE_ARK_API_KEY", "ORCAROUTER_API_KEY",
    "COMETAPI_KEY", "COMETAPI_API_KEY", "EVOLINK_API_KEY", "SEEDANCE2INK_API_KEY",
    "SEEDANCE_PROVIDER", "SEEDANCE_EMULATOR_URL", "SEEDANCE_EMULATOR_SPEED", "SEEDANCE_WORKDIR",
)  # fmt: skip


def clean_env(**extra: str) -> dict[str, str]:
    """A child environment with no provider key and no emulator override: nothing paid, ever."""
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENVS}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def scratch(prefix: str) -> Path:
    """A temporary directory on the same disk as the repo's temp (cleaned by the caller)."""
    return Path(tempfile.mkdtemp(prefix=f"seedance-bench-{prefix}-"))


def rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


# ----------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN for no values."""
    if not values:
        return math.nan
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: list[float]) -> float:
    return percentile(values, 50)


# ----------------------------------------------------------------------------- machine facts


def machine() -> dict[str, Any]:
    """What the numbers were measured on (they are only comparable as ratios elsewhere)."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "cores": usable,
        "cpu": cpu or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


# ----------------------------------------------------------------------------- memory


def _status(field_name: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return 0


def rss_kb() -> int:
    return _status("VmRSS")


def peak_rss_kb() -> int:
    """Peak RSS since start or since :func:`reset_peak_rss` (``VmHWM``)."""
    return _status("VmHWM")


def reset_peak_rss() -> None:
    """Linux: reset VmHWM to the current RSS, so a later peak measures one phase only."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


# ----------------------------------------------------------------------------- loop lag


class LagProbe:
    """Ticks on an absolute schedule; each tick's lag is how late the loop got to it.

    Ticks that fall inside a blocking call are all recorded when the loop comes back (a tick
    due 2 s before the loop resumed waited 2 s), so the distribution is time-weighted: it is
    what a keystroke or a cell arriving at a random moment would wait.
    """

    def __init__(self, period: float = 0.01) -> None:
        self.period = period
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        start = loop.time()
        k = 1
        while True:
            await asyncio.sleep(max(0.0, start + k * self.period - loop.time()))
            now = loop.time()
            while start + k * self.period <= now:
                self.lags.append(now - (start + k * self.period))
                k += 1

    def start(self) -> LagProbe:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def stop(self) -> list[float]:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        return self.lags

    def summary_ms(self) -> dict[str, float]:
        ms = [x * 1000 for x in self.lags]
        return {"p50": percentile(ms, 50), "p99": percentile(ms, 99), "max": max(ms, default=0.0),
                "samples": len(ms)}  # fmt: skip


async def idle_lag(seconds: float, period: float = 0.01) -> dict[str, float]:
    """The probe alone on this loop: the floor every other reading is compared with."""
    probe = LagProbe(period).start()
    await asyncio.sleep(seconds)
    await probe.stop()
    return probe.summary_ms()


# ----------------------------------------------------------------------------- emulator process


class EmulatorProcess:
    """An emulator in a child process, with the task records and stats readable from here."""

    def __init__(self, queued_seconds: float, running_seconds: float, nice: int = 10,
                 running_jitter: float = 0.0) -> None:  # fmt: skip
        self.state_dir = scratch("emulator")
        self.config = {"queued_seconds": queued_seconds, "running_seconds": running_seconds,
                       "running_jitter": running_jitter, "state_dir": str(self.state_dir),
                       "nice": nice}  # fmt: skip
        self.base_url = ""
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> EmulatorProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.common", "emulator", json.dumps(self.config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT, env=clean_env(),
        )  # fmt: skip
        line = self._proc.stdout.readline() if self._proc.stdout else ""
        if not line:
            raise RuntimeError("the emulator process did not start")
        self.base_url = json.loads(line)["base_url"]
        return self

    def ask(self, command: str) -> Any:
        assert self._proc is not None and self._proc.stdin and self._proc.stdout
        with self._lock:
            self._proc.stdin.write(command + "\n")
            self._proc.stdin.flush()
            return json.loads(self._proc.stdout.readline())

    def tasks(self) -> dict[str, dict[str, Any]]:
        """Every task by id: created_at, queued_s, running_s, render_done_at, succeeded_at."""
        return {t["id"]: t for t in self.ask("tasks")}

    def stats(self) -> dict[str, Any]:
        return self.ask("stats")

    def cpu_seconds(self) -> float:
        return float(self.ask("cpu"))

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            try:
                self.ask("quit")
                self._proc.wait(15)
            except Exception:
                self._proc.kill()
                self._proc.wait(5)
        rmtree(self.state_dir)


def _serve_emulator(config: dict[str, Any]) -> None:
    """Child side of :class:`EmulatorProcess`: serve, answer one JSON line per command."""
    from seedance_nb.emulator import Emulator

    if config.get("nice"):
        os.nice(int(config["nice"]))  # the server is remote in real life: let the client win
    emu = Emulator(config["state_dir"], queued_seconds=config["queued_seconds"],
                   running_seconds=config["running_seconds"],
                   running_jitter=config.get("running_jitter", 0.0)).start()  # fmt: skip
    print(json.dumps({"base_url": emu.base_url}), flush=True)
    try:
        for line in sys.stdin:
            cmd = line.strip()
            if cmd == "tasks":
                out = []
                for t in emu.service.tasks():
                    status, at = t.state()
                    out.append({"id": t.id, "created_at": t.created_at, "queued_s": t.queued_s,
                                "running_s": t.running_s, "render_done_at": t.render_done_at,
                                "status": status,
                                "succeeded_at": at if status == "succeeded" else None})  # fmt: skip
                print(json.dumps(out), flush=True)
            elif cmd == "stats":
                print(json.dumps(emu.stats()), flush=True)
            elif cmd == "cpu":
                print(json.dumps(time.process_time()), flush=True)
            elif cmd == "quit":
                print("{}", flush=True)
                break
    finally:
        emu.stop()


TASKS = "/contents/generations/tasks"


def status_requests(stats: dict[str, Any], prefix: str = "/api/v3") -> int:
    """Status reads the emulator served: single-task GETs plus batched list GETs."""
    reqs = stats.get("requests", {})
    return sum(n for route, n in reqs.items()
               if route in (f"GET {prefix}{TASKS}/{{id}}", f"GET {prefix}{TASKS}"))  # fmt: skip


# ----------------------------------------------------------------------------- range file server


class RangeFileServer:
    """Serves one file over loopback with Range support, counting every body byte it sends.

    ``cut_after``: the first GET sends that many body bytes, then drops the connection (a
    flaky CDN); later GETs are served in full.
    """

    def __init__(self, path: Path, cut_after: int | None = None) -> None:
        self.path = path
        self.size = path.stat().st_size
        self.cut_after = cut_after
        self.sent = 0
        self.requests: list[str] = []
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # as the emulator: no delayed-ACK stall per answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                from seedance_nb.emulator.server import send_file_head

                with outer._lock:
                    outer.requests.append(self.headers.get("Range") or "")
                    cut, outer.cut_after = outer.cut_after, None
                span = send_file_head(self, outer.size, "video/mp4")
                if span is None:
                    return
                start, end = span
                count = end - start + 1 if cut is None else min(cut, end - start + 1)
                with outer.path.open("rb") as f:
                    done = 0
                    while done < count:
                        n = self.connection.sendfile(f, start + done, count - done)
                        if n == 0:
                            break
                        done += n
                with outer._lock:
                    outer.sent += done
                if cut is not None:
                    self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/video.mp4"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> RangeFileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ----------------------------------------------------------------------------- results


@dataclass
class Row:
    """One table line; ``met`` is computed by the benchmark from measured values (None: no
    target)."""

    metric: str
    ours: str
    baseline: str
    ratio: str
    target: str
    met: bool | None


@dataclass
class Result:
    name: str
    title: str
    setup: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def fmt(value: float | None, digits: int = 2, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 1000:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.{digits}f}"
    return f"{text} {unit}".strip()


def ratio(ours: float | None, base: float | None, digits: int = 2) -> str:
    if ours is None or base is None or base == 0 or math.isnan(ours) or math.isnan(base):
        return "—"
    r = ours / base
    return f"{r:.{digits}f}×" if r >= 0.01 else f"{r:.4f}×"


def render_table(result: Result) -> str:
    lines = ["| metric | ours | baseline | ratio | target | met? |",
             "|---|---:|---:|---:|---|:---:|"]  # fmt: skip
    for r in result.rows:
        met = "—" if r.met is None else ("yes" if r.met else "**no**")
        lines.append(f"| {r.metric} | {r.ours} | {r.baseline} | {r.ratio} | {r.target} | {met} |")
    return "\n".join(lines)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "emulator":
        _serve_emulator(json.loads(sys.argv[2]))
    else:
        raise SystemExit("usage: python -m benchmarks.common emulator CONFIG_JSON")
