"""Benchmark 1: poll cost and detection latency for a fleet of jobs.

One workload, run three ways against a fresh emulator process each time:

* ours: ``AsyncClient`` (one scheduler, Ark list batching, adaptive intervals), with the
  real-provider poll policy scaled by the same time factor as the emulator;
* the peers' async way (the Ark SDK sample / openai ``create_and_poll``): one coroutine per
  task, ``GET task; if done: break; sleep(3 s)``, then a plain ``httpx`` GET of the video;
* the blocking cell: the same loop with ``time.sleep`` run on the event loop's thread (used
  by the loop-lag benchmark, which shares these runs).

Time is compressed by ``scale`` (0.1: one emulated second stands for ten real ones) for
*everything* that waits: the emulator's queue/run times, the submission window, the peers'
3 s interval and our policy's bounds. Request ratios and latency ratios are therefore those
of the uncompressed run; HTTP and disk overheads are not compressed and count against both.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx

from .common import (
    EmulatorProcess,
    LagProbe,
    Result,
    Row,
    fmt,
    idle_lag,
    percentile,
    ratio,
    rmtree,
    scratch,
    status_requests,
)  # fmt: skip

MODEL = "seedance-1.0-pro-fast"  # 2 s clips at 480p: renders (~0.15 s) never bottleneck
MODEL_ID = "seedance-1-0-pro-fast-251015"
PARAMS: dict[str, Any] = {"duration": 2, "resolution": "480p", "ratio": "16:9"}
TERMINAL = ("succeeded", "failed", "expired", "cancelled")


@dataclass(frozen=True)
class Fleet:
    """The workload, in real-world seconds; ``scale`` compresses it for the run."""

    jobs: int = 200
    scale: float = 0.2
    queued_real: float = 10.0  # Ark queue time
    running_real: float = 60.0  # a short 480p render
    running_jitter: float = 0.2  # each prompt's render takes 0.8-1.2x that, as real ones vary
    window_real: float = 60.0  # submissions spread over this (all in flight at the end)
    slow_every: int = 10  # every Nth prompt carries [[slow]]: 5x running time
    peer_interval_real: float = 3.0  # the Ark sample's fixed sleep
    pattern: str = "spread"  # or "loop": submitted one after another from a for loop

    @property
    def peer_interval(self) -> float:
        return self.peer_interval_real * self.scale

    def submit_offsets(self) -> list[float]:
        if self.pattern == "loop":
            return [0.0] * self.jobs  # each submit as soon as the one before returned
        step = self.window_real * self.scale / max(self.jobs, 1)
        return [i * step for i in range(self.jobs)]

    def prompt(self, i: int, tag: str) -> str:
        slow = " [[slow]]" if self.slow_every and i % self.slow_every == self.slow_every - 1 else ""
        return f"Benchmark {tag} job {i}: a paper boat on a rain-soaked street{slow}"

    def describe(self) -> str:
        s = self.scale
        return (
            f"{self.jobs} jobs ({MODEL}, 2 s, 480p, distinct prompts), submitted evenly over "
            f"{self.window_real * s:g} s; emulator queued {self.queued_real * s:g} s + running "
            f"{self.running_real * s:g} s ± {self.running_jitter:.0%} (fixed per prompt), every "
            f"{self.slow_every}th prompt `[[slow]]` (running ×5); time scale {s:g} (one emulated second stands for {1 / s:g} real "
            f"ones); peers sleep {self.peer_interval:g} s (= {self.peer_interval_real:g} s real)."
        )


def _emulator(fleet: Fleet) -> EmulatorProcess:
    return EmulatorProcess(fleet.queued_real * fleet.scale, fleet.running_real * fleet.scale,
                           running_jitter=fleet.running_jitter)  # fmt: skip


def _latencies(done: dict[str, float], tasks: dict[str, dict[str, Any]]) -> list[float]:
    """Seconds from "succeeded upstream" (the emulator's record) to "MP4 on disk", per task."""
    out = []
    for task_id, at in done.items():
        up = tasks.get(task_id, {}).get("succeeded_at")
        if up is not None:
            out.append(at - up)
    return out


def _summary(kind: str, fleet: Fleet, done: dict[str, float], emu: EmulatorProcess,
             wall: float, cpu: float, lag: dict[str, float] | None,
             seen: dict[str, float] | None = None) -> dict[str, Any]:  # fmt: skip
    tasks = emu.tasks()
    stats = emu.stats()
    lat = _latencies(done, tasks)
    detect = _latencies(seen or {}, tasks)
    reads = status_requests(stats)
    return {
        "kind": kind, "completed": len(lat), "status_requests": reads,
        "requests_per_job": reads / max(len(lat), 1),
        "latency_p50": percentile(lat, 50), "latency_p95": percentile(lat, 95),
        "latency_max": max(lat, default=float("nan")), "wall_s": wall, "client_cpu_s": cpu,
        "emulator_requests": stats.get("requests", {}), "lag_ms": lag,
        "creates": stats.get("tasks_created"),
        "detect_p50": percentile(detect, 50), "detect_p95": percentile(detect, 95),
        "detected": len(detect),
        "job_seconds": sum(max(0.0, (t.get("succeeded_at") or 0) - t["created_at"])
                           for t in tasks.values()),
    }  # fmt: skip


async def _sleep_until(loop: asyncio.AbstractEventLoop, at: float) -> None:
    delay = at - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


# ----------------------------------------------------------------------------- ours


async def run_ours(fleet: Fleet) -> dict[str, Any]:
    import seedance_nb as sd
    from seedance_nb.engine.client import PollPolicy, default_policy

    real = default_policy(emulated=False)
    policy = PollPolicy(real.min_interval * fleet.scale, real.max_interval * fleet.scale,
                        real.growth)  # fmt: skip
    workdir = scratch("ours")
    loop = asyncio.get_running_loop()
    try:
        with _emulator(fleet) as emu:
            probe = LagProbe().start()
            t0, c0 = loop.time(), time.process_time()
            async with sd.AsyncClient(provider="emulator", base_url=emu.base_url + "/api/v3",
                                      workdir=workdir, poll=policy) as client:  # fmt: skip
                jobs = []
                seen: dict[str, float] = {}
                for i, offset in enumerate(fleet.submit_offsets()):
                    await _sleep_until(loop, t0 + offset)
                    job = await client.submit(fleet.prompt(i, "ours"), model=MODEL, **PARAMS)
                    job.on_change(lambda j: _seen(j, seen))
                    jobs.append(job)
                await asyncio.gather(*(j.wait_async(600) for j in jobs))
                client_reads = client.status_requests
            wall, cpu = loop.time() - t0, time.process_time() - c0
            await probe.stop()
            done = {
                str(j.task_id): float(j.finished_at or 0) for j in jobs if j.status == "succeeded"
            }
            out = _summary("ours", fleet, done, emu, wall, cpu, probe.summary_ms(), seen)
            out["client_status_requests"] = client_reads
            out["policy"] = {"min": policy.min_interval, "max": policy.max_interval,
                             "growth": policy.growth}  # fmt: skip
            return out
    finally:
        rmtree(workdir)


def _seen(job: Any, seen: dict[str, float]) -> None:
    """When our client first saw the task succeeded (its read, before the download)."""
    if job.task_id and job.task_id not in seen and job.phase in ("downloading", "done"):
        if job.phase == "downloading" or job.status == "succeeded":
            seen[str(job.task_id)] = time.time()


# ----------------------------------------------------------------------------- the peers


def _body(prompt: str) -> dict[str, Any]:
    return {"model": MODEL_ID, "content": [{"type": "text", "text": prompt}], **PARAMS}


AUTH = {"Authorization": "Bearer benchmark-key"}
RETRIES = 2  # the Ark and openai SDKs retry a failed connection twice by default


async def _send(http: httpx.AsyncClient, method: str, url: str, **kw: Any) -> httpx.Response:
    for attempt in range(RETRIES + 1):
        try:
            return await http.request(method, url, **kw)
        except httpx.TransportError:
            if attempt == RETRIES:
                raise
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


def _send_sync(http: httpx.Client, method: str, url: str, **kw: Any) -> httpx.Response:
    for attempt in range(RETRIES + 1):
        try:
            return http.request(method, url, **kw)
        except httpx.TransportError:
            if attempt == RETRIES:
                raise
            time.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


async def run_peers(fleet: Fleet) -> dict[str, Any]:
    """One coroutine per task, fixed-interval polling, then a plain GET of the video."""
    folder = scratch("peers")
    loop = asyncio.get_running_loop()
    done: dict[str, float] = {}
    seen: dict[str, float] = {}
    try:
        with _emulator(fleet) as emu:
            base = emu.base_url + "/api/v3/contents/generations/tasks"
            limits = httpx.Limits(max_connections=1000, max_keepalive_connections=100)
            async with httpx.AsyncClient(timeout=60, limits=limits, trust_env=False) as http:

                async def create(i: int) -> str:
                    r = await _send(
                        http, "POST", base, json=_body(fleet.prompt(i, "peer")), headers=AUTH
                    )
                    return str(r.raise_for_status().json()["id"])

                async def one(i: int, offset: float) -> None:
                    await _sleep_until(loop, t0 + offset)
                    await follow(await create(i))

                async def follow(task_id: str) -> None:
                    while True:
                        task = (await _send(http, "GET", f"{base}/{task_id}", headers=AUTH)).json()
                        if task["status"] in TERMINAL:
                            seen[task_id] = time.time()
                            break
                        await asyncio.sleep(fleet.peer_interval)
                    if task["status"] == "succeeded":
                        video = await _send(http, "GET", task["content"]["video_url"])
                        (folder / f"{task_id}.mp4").write_bytes(video.raise_for_status().content)
                        done[task_id] = time.time()

                probe = LagProbe().start()
                t0, c0 = loop.time(), time.process_time()
                if fleet.pattern == "loop":  # one create after another, each then polled
                    polls = []
                    for i in range(fleet.jobs):
                        polls.append(asyncio.create_task(follow(await create(i))))
                    await asyncio.gather(*polls)
                else:
                    offsets = fleet.submit_offsets()
                    await asyncio.gather(*(one(i, o) for i, o in enumerate(offsets)))
                wall, cpu = loop.time() - t0, time.process_time() - c0
                await probe.stop()
            return _summary("peers", fleet, done, emu, wall, cpu, probe.summary_ms(), seen)
    finally:
        rmtree(folder)


def _blocking_cell(fleet: Fleet, base: str, folder: Path, done: dict[str, float]) -> None:
    """What a notebook cell does today: submit, then ``while True: ...; time.sleep(3)``."""
    with httpx.Client(timeout=60, trust_env=False) as http:
        start = time.monotonic()
        ids = []
        for i, offset in enumerate(fleet.submit_offsets()):
            wait = start + offset - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            r = _send_sync(http, "POST", base, json=_body(fleet.prompt(i, "cell")), headers=AUTH)
            ids.append(r.raise_for_status().json()["id"])
        for task_id in ids:
            while True:
                task = _send_sync(http, "GET", f"{base}/{task_id}", headers=AUTH).json()
                if task["status"] in TERMINAL:
                    break
                time.sleep(fleet.peer_interval)
            if task["status"] == "succeeded":
                video = (
                    _send_sync(http, "GET", task["content"]["video_url"]).raise_for_status().content
                )
                (folder / f"{task_id}.mp4").write_bytes(video)
                done[task_id] = time.time()


async def run_blocking(fleet: Fleet) -> dict[str, Any]:
    """The blocking cell, called on the loop's own thread, so the probe feels every sleep."""
    folder = scratch("cell")
    loop = asyncio.get_running_loop()
    done: dict[str, float] = {}
    try:
        with _emulator(fleet) as emu:
            base = emu.base_url + "/api/v3/contents/generations/tasks"
            probe = LagProbe().start()
            await asyncio.sleep(0.05)  # let the probe tick before the cell takes the thread

            async def cell() -> None:
                _blocking_cell(fleet, base, folder, done)

            t0, c0 = loop.time(), time.process_time()
            await cell()
            wall, cpu = loop.time() - t0, time.process_time() - c0
            await asyncio.sleep(0.05)  # the probe catches up on every tick it missed
            await probe.stop()
            return _summary("blocking", fleet, done, emu, wall, cpu, probe.summary_ms())
    finally:
        rmtree(folder)


# ----------------------------------------------------------------------------- shared runs

_CACHE: dict[tuple[str, Fleet], dict[str, Any]] = {}


def fleet_run(kind: str, fleet: Fleet) -> dict[str, Any]:
    """Run (once per process) one side of the fleet workload; loop lag reuses these runs."""
    key = (kind, fleet)
    if key not in _CACHE:
        runner = {"ours": run_ours, "peers": run_peers, "blocking": run_blocking}[kind]
        _CACHE[key] = asyncio.run(runner(fleet))
    return _CACHE[key]


def idle(seconds: float = 5.0) -> dict[str, float]:
    key = ("idle", Fleet(jobs=0, scale=seconds))
    if key not in _CACHE:
        _CACHE[key] = asyncio.run(idle_lag(seconds))
    return _CACHE[key]


def fleet_from(args: Any) -> Fleet:
    if getattr(args, "quick", False):
        return Fleet(jobs=getattr(args, "jobs", None) or 40, scale=args.scale or 0.05)
    return Fleet(jobs=getattr(args, "jobs", None) or 200, scale=args.scale or 0.2)


def run(args: Any) -> Result:
    fleet = fleet_from(args)
    ours, peers = fleet_run("ours", fleet), fleet_run("peers", fleet)
    res = Result("polling", "1. Poll cost and detection latency", fleet.describe())
    rq = ours["requests_per_job"] / max(peers["requests_per_job"], 1e-9)
    p95 = ours["latency_p95"] / max(peers["latency_p95"], 1e-9)
    res.rows = [
        Row("jobs completed", str(ours["completed"]), str(peers["completed"]), "—",
            f"all {fleet.jobs}", ours["completed"] == fleet.jobs == peers["completed"]),
        Row("status requests per completed job", fmt(ours["requests_per_job"]),
            fmt(peers["requests_per_job"]), ratio(ours["requests_per_job"], peers["requests_per_job"]),
            "≤ 0.10×", rq <= 0.10),
        Row("succeeded upstream → MP4 on disk, p50 (s)", fmt(ours["latency_p50"], 3),
            fmt(peers["latency_p50"], 3), ratio(ours["latency_p50"], peers["latency_p50"]), "—", None),
        Row("succeeded upstream → MP4 on disk, p95 (s)", fmt(ours["latency_p95"], 3),
            fmt(peers["latency_p95"], 3), ratio(ours["latency_p95"], peers["latency_p95"]),
            "≤ 1.00× (equal or better)", p95 <= 1.0),
        Row("… p95 in real seconds (÷ scale)", fmt(ours["latency_p95"] / fleet.scale, 2),
            fmt(peers["latency_p95"] / fleet.scale, 2), "—", "—", None),
        Row("client CPU for the whole run (s)", fmt(ours["client_cpu_s"]),
            fmt(peers["client_cpu_s"]), ratio(ours["client_cpu_s"], peers["client_cpu_s"]), "—", None),
        Row("wall time, first submit → last MP4 (s)", fmt(ours["wall_s"], 1), fmt(peers["wall_s"], 1),
            ratio(ours["wall_s"], peers["wall_s"]), "—", None),
    ]  # fmt: skip
    res.raw = {"fleet": asdict(fleet), "ours": ours, "peers": peers, "cpus": os.cpu_count()}
    return res
