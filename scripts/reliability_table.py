"""Rewrite the figures table in RELIABILITY.md from the fault matrix's JSON report.

Used by ``scripts/fault-matrix``; the table sits between the two ``<!-- matrix -->`` markers.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path
from typing import Any

START, END = "<!-- matrix:start -->", "<!-- matrix:end -->"
COLUMNS = [
    ("row", "fault (rate, cap; options)"), ("provider", "provider"), ("ledger", "ledger"),
    ("jobs", "requests"),
    ("fired", "faults fired"), ("tasks_per_request", "upstream tasks / request"),
    ("videos_lost", "videos lost"), ("stuck", "stuck non-terminal"),
    ("unknown", "unknown outcome (told)"), ("files_outside", "files outside workdir"),
    ("key_sightings", "key sightings"), ("recover", "time to recover p50 / max (s)"),
    ("seconds", "s"),
]  # fmt: skip


def cell(row: dict[str, Any], key: str) -> str:
    if key == "recover":
        p50, top = row.get("recover_p50"), row.get("recover_max")
        return "—" if p50 is None or top is None else f"{p50:.2f} / {top:.2f}"
    value = row.get(key)
    if key == "ledger":
        return "PostgreSQL" if value == "postgres" else "SQLite"
    if value is None:
        return "—"
    if key == "tasks_per_request":
        return f"{value:.2f}"
    if key == "row":
        return f"`{value}`"
    return f"{value:,}" if isinstance(value, int) else str(value)


def table(rows: list[dict[str, Any]], seconds: int | None) -> str:
    faults = {(r["row"], r["provider"], r.get("ledger", "sqlite")) for r in rows}
    inputs = sum(int(r.get("jobs", 0)) for r in rows)
    fired = sum(int(r.get("fired") or 0) for r in rows)
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.python_version()}"
        f" · {len(faults)} fault rows · {inputs:,} logical requests · {fired:,} faults fired"
        + (f" · {seconds} s for the whole command" if seconds else ""),
        "",
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|"
        + "|".join("---" if k in ("row", "provider", "ledger") else "---:" for k, _ in COLUMNS)
        + "|",
    ]
    lines += ["| " + " | ".join(cell(r, k) for k, _ in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("report", type=Path)
    ap.add_argument("target", type=Path)
    ap.add_argument("--seconds", type=int, default=None)
    args = ap.parse_args()
    rows = json.loads(args.report.read_text())
    text = args.target.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    args.target.write_text(f"{head}{START}\n{table(rows, args.seconds)}\n{END}{tail}")


if __name__ == "__main__":
    main()
