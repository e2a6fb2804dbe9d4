"""``jobs`` and ``show``: the ledger read without a client, so no emulator starts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ..request import VideoRequest
from .output import (
    Output,
    Refused,
    job_data,
    redact_url,
    redacted,
    stamp,
    ways_out_lines,
    workdir_of,
)

if TYPE_CHECKING:
    import argparse

    from ..engine.job import Job
    from ..engine.ledger_core import LedgerCore


class _Detached:
    """The runtime of a job read from the ledger by a command that drives nothing."""

    loop = None


def open_ledger(workdir: Path) -> LedgerCore | None:
    """The team's ledger when ``SEEDANCE_LEDGER_URL`` names one, else the workdir's file
    (None while it does not exist: reading creates nothing)."""
    from ..engine.ledger import open_ledger as open_any
    from ..engine.settings import ledger_setting

    team = ledger_setting(None)
    if team is not None:
        return open_any(team)
    path = workdir / "ledger.sqlite"
    return open_any(path) if path.exists() else None


def job_from_row(row: dict[str, Any]) -> Job:
    from ..engine.job import Job

    request = VideoRequest.model_validate(json.loads(row["request_json"]))
    return Job(cast(Any, _Detached()), row, request)


def get_row(workdir: Path, job_id: str) -> dict[str, Any]:
    ledger = open_ledger(workdir)
    row = None
    if ledger is not None:
        try:
            row = ledger.get(job_id)
        finally:
            ledger.close()
    if row is None:
        where = ledger.where if ledger is not None else workdir / "ledger.sqlite"
        raise Refused(f"no job {job_id!r} in {where} (seedance-nb jobs)")
    return row


def run_jobs(args: argparse.Namespace, out: Output) -> int:
    workdir = workdir_of(args)
    ledger = open_ledger(workdir)
    if ledger is None:
        out.say(f"no jobs yet in {workdir}")
        out.result([])
        return 0
    try:
        jobs = [job_from_row(r) for r in ledger.history(args.limit)]
    finally:
        ledger.close()
    lines = []
    for job in jobs:
        r = job.request
        tokens = f"{job.tokens:,} tok" if job.tokens else ""
        prompt = r.prompt if len(r.prompt) <= 40 else r.prompt[:39] + "…"
        lines.append(
            f"{job.id}  {stamp(job.created_at)[:16]}  {job.status:<9}  {job.model:<20}  "
            f"{r.resolution:>5} {r.duration:>2}s  {tokens:>12}  {prompt!r}  {job.video_path or ''}"
        )
    if not jobs:
        out.say(f"no jobs yet in {workdir}")
    out.result([job_data(j) for j in jobs], "\n".join(lines))
    return 0


def _payload_summary(raw: Any, limit: int = 10) -> list[str]:
    """The provider's last answer, flattened one level and cut short, for reading."""
    if not isinstance(raw, dict):
        return []
    pairs: list[str] = []
    for key, value in raw.items():
        items = value.items() if isinstance(value, dict) else [(None, value)]
        for sub, v in items:
            if isinstance(v, (dict, list)):
                v = json.dumps(v, default=str)
            text = str(v)
            text = text if len(text) <= 60 else text[:59] + "…"
            pairs.append(f"{key}.{sub}={text}" if sub is not None else f"{key}={text}")
    return pairs[:limit] + ([f"… {len(pairs) - limit} more (--json)"] if len(pairs) > limit else [])


def run_show(args: argparse.Namespace, out: Output) -> int:
    row = get_row(workdir_of(args), args.id)
    job = job_from_row(row)
    r = job.request
    data = job_data(job)
    data.update(
        route=row["route"], request=redacted(r.canonical()), provider_payload=shorten(job.raw)
    )
    lines = [
        f"{job.id}  {job.status}"
        + ("" if job.done else "  (last recorded; seedance-nb resume drives it to the end)")
    ]
    lines.append(f"  request    {r.describe()}")
    lines.append(f"  prompt     {r.prompt!r}")
    lines.append(f"  provider   {job.provider} (route {row['route']}) · task {job.task_id or '-'}")
    extras = [f"seed {job.seed}" if job.seed is not None else "seed random"]
    if r.generate_audio is not None:
        extras.append("audio on" if r.generate_audio else "audio off")
    for name in ("watermark", "camera_fixed", "return_last_frame", "service_tier"):
        value = getattr(r, name)
        if value is not None:
            extras.append(f"{name} {value}")
    if r.callback_url:
        extras.append(f"callback {redact_url(r.callback_url)}")
    extras += [f"{k}={v}" for k, v in r.options.items()]
    lines.append(f"  params     {' · '.join(extras)}")
    for m in r.media:
        lines.append(f"  media      {m.role}: {m.short()}")
    wall = f" · wall {job.elapsed:.1f}s" if job.finished_at else ""
    lines.append(
        f"  times      created {stamp(job.created_at)} · finished {stamp(job.finished_at)}{wall}"
    )
    cost = job.cost
    price = "" if cost is None else (" · " if job.tokens else " · est. ") + f"${cost:.2f}"
    billed = f"{job.tokens:,} billed" if job.tokens else "not billed yet"
    lines.append(f"  tokens     {billed} (estimate {job.estimated_tokens:,}){price}")
    lines.append(f"  video      {job.video_path or '-'}")
    if job.last_frame_path:
        lines.append(f"  last frame {job.last_frame_path}")
    if job.error is not None:
        lines.append(f"  error      {job.error.code}: {job.error.message}")
    payload = _payload_summary(job.raw)
    if payload:
        lines.append("  provider said:")
        lines += [f"    {p}" for p in payload]
    if job.outcome_unknown:
        lines += ways_out_lines(job)
    out.result(data, "\n".join(lines))
    return 0


def shorten(value: Any) -> Any:
    """Data URLs in a payload, cut to their head (they can be megabytes)."""
    if isinstance(value, str) and value.startswith("data:") and len(value) > 60:
        return value[:40] + f"…<{len(value):,} chars>"
    if isinstance(value, dict):
        return {k: shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shorten(v) for v in value]
    return value
