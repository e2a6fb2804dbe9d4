"""Benchmark 4: start-up and footprint.

* import and ``%load_ext`` time, each in a fresh interpreter (median of several), against
  ``import httpx`` (a dependency, so the ratio cannot go below 1);
* ``.ipynb`` bytes per displayed video: a notebook executed by nbclient on the emulator
  (``SEEDANCE_EMULATOR_SPEED=0.2``, no key), its outputs measured against the same notebook
  with outputs cleared; default display mode ('relative') against 'embed' (what
  ``IPython.display.Video(..., embed=True)`` and the peers' notebooks do);
* the ledger with 100,000 jobs: a history page and a request-hash lookup (``claim`` of a
  request already in it, as every submit does), against the same calls with 1,000 jobs.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from typing import Any

from .common import ROOT, Result, Row, clean_env, fmt, median, ratio, rmtree, scratch

IMPORT = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"
FIRST_CLIENT = (
    "import time, seedance_nb as sd; t = time.perf_counter(); sd.Client; "
    "print(time.perf_counter() - t)"
)
LOAD_EXT = (
    "from IPython.core.interactiveshell import InteractiveShell; import time; "
    "shell = InteractiveShell.instance(); t = time.perf_counter(); "
    "shell.run_line_magic('load_ext', 'seedance_nb'); print(time.perf_counter() - t)"
)


def _time_child(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env=clean_env(), timeout=120, check=True)  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def startup(runs: int) -> dict[str, float]:
    times: dict[str, list[float]] = {"seedance_nb": [], "httpx": [], "load_ext": [],
                                     "first_client": []}  # fmt: skip
    for _ in range(runs):  # interleaved, so machine drift hits all three alike
        times["httpx"].append(_time_child(IMPORT.format(mod="httpx")))
        times["seedance_nb"].append(_time_child(IMPORT.format(mod="seedance_nb")))
        times["load_ext"].append(_time_child(LOAD_EXT))
        times["first_client"].append(_time_child(FIRST_CLIENT))
    return {k: median(v) for k, v in times.items()}


# ----------------------------------------------------------------------------- notebook bytes


def _once_per_kernel(output: Any) -> bool:
    """The emulator notice: a stream line in a terminal, a ``seedance-notice`` line in a
    notebook, shown once per kernel whatever the number of videos."""
    if output.get("output_type") == "stream":
        return True
    return 'class="seedance-notice"' in str(output.get("data", {}).get("text/html", ""))


def notebook_bytes(videos: int, display: str) -> dict[str, Any]:
    """Execute a notebook that shows ``videos`` videos; bytes its outputs add, per video."""
    import nbformat
    from nbclient import NotebookClient

    folder = scratch(f"nb-{display}")
    try:
        nb = nbformat.v4.new_notebook()
        nb.cells.append(nbformat.v4.new_code_cell(
            f"%load_ext seedance_nb\n%config Seedance.display = '{display}'"))  # fmt: skip
        for i in range(videos):
            nb.cells.append(nbformat.v4.new_code_cell(
                "%%seedance --wait --model seedance-1.0-pro-fast --duration 2 --resolution 480p\n"
                f"Benchmark notebook video {i}: a paper boat on a rain-soaked street"))  # fmt: skip
        env = clean_env(SEEDANCE_EMULATOR_SPEED="0.2")  # workdir: ./seedance-output beside it
        client = NotebookClient(nb, timeout=300, kernel_name="python3",
                                resources={"metadata": {"path": str(folder)}})  # fmt: skip
        t = time.perf_counter()
        client.execute(env=env)
        seconds = time.perf_counter() - t
        for cell in nb.cells:  # the once-per-kernel "no API key: emulator" notice is not per video
            cell.outputs = [o for o in cell.outputs if not _once_per_kernel(o)]
        executed = folder / "executed.ipynb"
        nbformat.write(nb, executed)
        for cell in nb.cells:
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
        stripped = folder / "stripped.ipynb"
        nbformat.write(nb, stripped)
        added = executed.stat().st_size - stripped.stat().st_size
        mp4 = [p.stat().st_size for p in (folder / "seedance-output" / "videos").glob("*.mp4")]
        return {"videos": videos, "display": display, "bytes_added": added,
                "per_video": added / max(videos, 1), "mp4_bytes_mean": sum(mp4) / max(len(mp4), 1),
                "seconds": seconds}  # fmt: skip
    finally:
        rmtree(folder)


# ----------------------------------------------------------------------------- ledger


def _fill(ledger: Any, n: int) -> list[str]:
    """Bulk-insert ``n`` realistic finished jobs in one transaction; their request hashes."""
    from seedance_nb.engine.ledger import new_job_id

    request = json.dumps({"model": "seedance-2.0", "prompt": "x" * 200, "duration": 5,
                          "resolution": "720p", "ratio": "16:9", "images": []})  # fmt: skip
    raw = json.dumps({"id": "cgt-x", "status": "succeeded", "content": {"video_url": "u" * 300},
                      "usage": {"completion_tokens": 108900}})  # fmt: skip
    now = time.time() - n
    hashes, rows = [], []
    for i in range(n):
        h = f"{random.getrandbits(128):032x}"
        hashes.append(h)
        rows.append((new_job_id(), "ark@ark.example", "ark", h, "seedance-2.0", "model-x",
                     f"prompt {i} " + "y" * 80, request, f"cgt-{i}", "succeeded", "done", 1.0, raw,
                     None, None, i, f"/w/videos/{i}.mp4", None, None, None, now + i, now + i,
                     now + i, now + i + 60))  # fmt: skip
    columns = (
        "id route provider request_hash tier model_id prompt request_json task_id status "
        "phase progress raw_json usage_json error_json seed video_path last_frame_path "
        "owner lease_until create_sent_at created_at updated_at finished_at"
    ).split()
    marks = ",".join("?" * len(columns))
    with ledger._tx() as db:  # named columns: the ledger may grow new ones
        db.executemany(f"INSERT INTO jobs ({','.join(columns)}) VALUES ({marks})", rows)
    return hashes


def ledger_lookups(n: int, lookups: int) -> dict[str, Any]:
    from seedance_nb.engine.ledger import Ledger

    folder = scratch("ledger")
    try:
        ledger = Ledger(folder / "ledger.sqlite")
        t = time.perf_counter()
        hashes = _fill(ledger, n)
        fill_s = time.perf_counter() - t
        first, deep, claim = [], [], []
        for _ in range(lookups):
            t = time.perf_counter()
            ledger.history(50, 0)
            first.append(time.perf_counter() - t)
            offset = random.randrange(0, max(n - 50, 1))
            t = time.perf_counter()
            page = ledger.history(50, offset)
            deep.append(time.perf_counter() - t)
            assert len(page) == min(50, n - offset)
            h = random.choice(hashes)
            t = time.perf_counter()
            row, fresh = ledger.claim(route="ark@ark.example", request_hash=h, provider="ark",
                                      tier="seedance-2.0", model_id="model-x", prompt="p",
                                      request={}, owner="bench", force=False)  # fmt: skip
            claim.append(time.perf_counter() - t)
            assert not fresh and row["request_hash"] == h
        ledger.close()

        def ms(xs: list[float]) -> dict[str, float]:
            return {"median": median(xs) * 1000, "max": max(xs) * 1000}

        return {"jobs": n, "fill_s": fill_s, "first_page": ms(first), "any_page": ms(deep),
                "hash_lookup": ms(claim)}  # fmt: skip
    finally:
        rmtree(folder)


# ----------------------------------------------------------------------------- table


def run(args: Any) -> Result:
    quick = getattr(args, "quick", False)
    runs = 3 if quick else 7
    st = startup(runs)
    videos = 2 if quick else 3
    rel = notebook_bytes(videos, "relative")
    emb = notebook_bytes(videos, "embed")
    big = ledger_lookups(100_000, 100 if quick else 300)
    small = ledger_lookups(1_000, 100 if quick else 300)
    res = Result("startup", "4. Start-up and footprint",
                 f"Import times: median of {runs} fresh interpreters each. Notebook: {videos} "
                 "videos (2 s, 480p) with `%%seedance --wait`, executed by nbclient on the "
                 "emulator. Ledger: 100,000 finished jobs vs 1,000; history pages at random "
                 "offsets; hash lookup = `Ledger.claim` of a request already in it.")  # fmt: skip

    def lrow(label: str, key: str) -> list[Row]:
        a, b = big[key], small[key]
        return [
            Row(f"{label}, median (ms)", fmt(a["median"], 3), fmt(b["median"], 3),
                ratio(a["median"], b["median"]), "< 50 ms", a["median"] < 50),
            Row(f"{label}, max (ms)", fmt(a["max"], 3), fmt(b["max"], 3),
                ratio(a["max"], b["max"]), "< 50 ms", a["max"] < 50),
        ]  # fmt: skip

    res.rows = [
        Row("`import seedance_nb` vs `import httpx` (ms)", fmt(st["seedance_nb"] * 1000, 1),
            fmt(st["httpx"] * 1000, 1), ratio(st["seedance_nb"], st["httpx"]), "≤ 2.00×",
            st["seedance_nb"] <= 2 * st["httpx"]),
        Row("`%load_ext seedance_nb` vs `import httpx` (ms)", fmt(st["load_ext"] * 1000, 1),
            fmt(st["httpx"] * 1000, 1), ratio(st["load_ext"], st["httpx"]), "≤ 2.00×",
            st["load_ext"] <= 2 * st["httpx"]),
        Row("first `sd.Client` name after `import seedance_nb` (ms): what the lazy import "
            "defers", fmt(st["first_client"] * 1000, 1), "—", "—", "reported", None),
        Row(".ipynb bytes added per displayed video: default ('relative') vs 'embed'",
            f"{rel['per_video']:,.0f}", f"{emb['per_video']:,.0f}",
            ratio(rel["per_video"], emb["per_video"], 4), "< 4 KB (4,096 B)",
            rel["per_video"] < 4096),
        *lrow("ledger history page (50 rows, offset 0): 100k jobs vs 1k", "first_page"),
        *lrow("ledger history page (50 rows, random offset): 100k vs 1k", "any_page"),
        *lrow("ledger hash lookup (`claim`, existing request): 100k vs 1k", "hash_lookup"),
    ]  # fmt: skip
    res.raw = {"startup_s": st, "notebook": {"relative": rel, "embed": emb},
               "ledger": {"100k": big, "1k": small}}  # fmt: skip
    return res
