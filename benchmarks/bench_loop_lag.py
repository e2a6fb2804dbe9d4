"""Benchmark 2: kernel responsiveness while a fleet polls and downloads.

A probe coroutine ticks every 10 ms on the loop that drives the jobs (see
:class:`~benchmarks.common.LagProbe`); the workload and the runs are those of the polling
benchmark (shared when both run in one invocation). The idle reading is the probe alone on a
fresh loop. The blocking baseline is the notebook cell that calls ``time.sleep`` between
polls on the kernel's thread: the probe waits as a keystroke would.
"""

from __future__ import annotations

from typing import Any

from .bench_polling import fleet_from, fleet_run, idle
from .common import Result, Row, fmt, ratio


def run(args: Any) -> Result:
    fleet = fleet_from(args)
    base = idle(3.0 if getattr(args, "quick", False) else 5.0)
    ours = fleet_run("ours", fleet)["lag_ms"]
    cell = fleet_run("blocking", fleet)["lag_ms"]
    peers = fleet_run("peers", fleet)["lag_ms"] if ("peers", fleet) in _cached() else None
    limit = base["p99"] + 5.0
    res = Result("loop_lag", "2. Kernel responsiveness (event-loop lag)",
                 f"Probe every 10 ms on the loop; workload as in benchmark 1 ({fleet.jobs} jobs). "
                 "Baseline: the blocking `time.sleep` cell run on the loop's thread.")  # fmt: skip
    res.rows = [
        Row("idle loop lag p50 / p99 / max (ms)",
            f"{fmt(base['p50'])} / {fmt(base['p99'])} / {fmt(base['max'])}", "(same loop, idle)",
            "—", "reference", None),
        Row("lag p50 (ms)", fmt(ours["p50"]), fmt(cell["p50"]), ratio(ours["p50"], cell["p50"], 4),
            "—", None),
        Row("lag p99 (ms)", fmt(ours["p99"]), fmt(cell["p99"]), ratio(ours["p99"], cell["p99"], 4),
            f"≤ idle p99 + 5 ms = {limit:.2f} ms", ours["p99"] <= limit),
        Row("lag max (ms)", fmt(ours["max"]), fmt(cell["max"]), ratio(ours["max"], cell["max"], 4),
            "—", None),
        Row("probe samples", f"{ours['samples']:,}", f"{cell['samples']:,}", "—", "—", None),
    ]  # fmt: skip
    if peers is not None:
        res.rows.append(Row("for reference: peers' async loop (one coroutine per task), p99 / max (ms)",
                            f"{fmt(ours['p99'])} / {fmt(ours['max'])}",
                            f"{fmt(peers['p99'])} / {fmt(peers['max'])}",
                            ratio(ours["p99"], peers["p99"]), "—", None))  # fmt: skip
    res.raw = {"idle": base, "ours": ours, "blocking": cell, "peers": peers}
    return res


def _cached() -> dict[Any, Any]:
    from . import bench_polling

    return {k: v for k, v in bench_polling._CACHE.items()}
