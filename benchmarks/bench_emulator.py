"""Benchmark 5: the emulator, so tutorials and CI stay fast.

Render time of one 5 s clip (480p, 720p) with queue and run times set to zero, so the task
is ready exactly when its MP4 is written; then throughput: a burst of 5 s 480p jobs at once,
first create to last ``succeeded``, on the emulator's two render workers. The emulator runs
in its own process (not niced here: it is the thing measured).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from .common import TASKS, EmulatorProcess, Result, Row, fmt, median, ratio

AUTH = {"Authorization": "Bearer benchmark-key"}


def _model_id() -> str:
    from seedance_nb import catalog

    return catalog.PROVIDERS["emulator"].offers["seedance-2.0-fast"].model_id


def _create(http: httpx.Client, base: str, prompt: str, resolution: str) -> str:
    body = {"model": _model_id(), "content": [{"type": "text", "text": prompt}],
            "duration": 5, "resolution": resolution, "ratio": "16:9"}  # fmt: skip
    return str(http.post(base, json=body, headers=AUTH).raise_for_status().json()["id"])


def _wait_all(emu: EmulatorProcess, ids: list[str], timeout: float = 600) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        tasks = emu.tasks()
        if all(tasks[i]["status"] in ("succeeded", "failed") for i in ids):
            return tasks
        time.sleep(0.05)
    raise TimeoutError("emulator renders did not finish")


def render_seconds(resolution: str, reps: int) -> list[float]:
    out = []
    with EmulatorProcess(0.0, 0.0, nice=0) as emu, httpx.Client(trust_env=False) as http:
        base = emu.base_url + "/api/v3" + TASKS
        warm = _create(http, base, f"Warm-up {resolution}", resolution)  # PyAV import, first use
        _wait_all(emu, [warm])
        for i in range(reps):
            task_id = _create(http, base, f"Render benchmark {resolution} #{i}", resolution)
            t = _wait_all(emu, [task_id])[task_id]
            out.append(t["render_done_at"] - t["created_at"])
    return out


def burst(jobs: int) -> dict[str, float]:
    with EmulatorProcess(0.0, 0.0, nice=0) as emu, httpx.Client(trust_env=False) as http:
        base = emu.base_url + "/api/v3" + TASKS
        ids = [_create(http, base, f"Burst benchmark job {i}", "480p") for i in range(jobs)]
        tasks = _wait_all(emu, ids)
        first = min(tasks[i]["created_at"] for i in ids)
        last = max(tasks[i]["succeeded_at"] or 0 for i in ids)
        ok = sum(1 for i in ids if tasks[i]["status"] == "succeeded")
        return {"jobs": jobs, "succeeded": ok, "seconds": last - first,
                "per_minute": ok / (last - first) * 60}  # fmt: skip


def run(args: Any) -> Result:
    quick = getattr(args, "quick", False)
    reps = 2 if quick else 3
    r480 = median(render_seconds("480p", reps))
    r720 = median(render_seconds("720p", reps))
    load = burst(12 if quick else 40)
    res = Result("emulator", "5. Emulator",
                 f"seedance-2.0-fast, 5 s, 16:9, no audio; queued/running 0 s. Render: median of "
                 f"{reps}, one at a time. Load: {load['jobs']} jobs created at once, two render "
                 "workers. Baseline: the clip's own length (real time).")  # fmt: skip
    res.rows = [
        Row("render a 5 s clip at 480p (s)", fmt(r480), "5.00", ratio(r480, 5.0), "—", None),
        Row("render a 5 s clip at 720p (s)", fmt(r720), "5.00", ratio(r720, 5.0), "—", None),
        Row("jobs per minute under load (5 s, 480p)", fmt(load["per_minute"], 0), "—", "—", "—",
            None),
    ]  # fmt: skip
    res.raw = {"render_480p_s": r480, "render_720p_s": r720, "burst": load}
    return res
