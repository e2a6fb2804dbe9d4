"""Where the CLI's lines go, and a job as the plain data ``--json`` prints."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..engine.settings import default_workdir
from ..errors import SeedanceError

if TYPE_CHECKING:
    import argparse

    from ..engine.job import Job


class Refused(SeedanceError):
    """A command the CLI refuses before anything is sent (unknown job, wrong route, …)."""


class Output:
    """Where lines go: the product on stdout (or one JSON document), everything else on
    stderr, so ``$(seedance-nb generate …)`` is a path and ``--json`` output parses."""

    def __init__(self, as_json: bool) -> None:
        self.json = as_json

    def say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    def result(self, data: Any, text: str | None = None) -> None:
        if self.json:
            print(json.dumps(data, ensure_ascii=False, indent=2, default=str), flush=True)
        elif text:
            print(text, flush=True)

    def fail(self, exc: BaseException, code: int) -> int:
        self.say(f"error: {exc}")
        if self.json:
            self.result({"error": {"type": type(exc).__name__, "message": str(exc)}})
        return code


def workdir_of(args: argparse.Namespace) -> Path:
    return Path(args.workdir).expanduser().resolve() if args.workdir else default_workdir()


def redact_url(url: Any) -> Any:
    """A callback URL's path carries the receiver's token: show where it goes, not the token."""
    if not isinstance(url, str):
        return url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "…"


def redacted(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if data.get("callback_url"):
        data["callback_url"] = redact_url(data["callback_url"])
    return data


def job_data(job: Job) -> dict[str, Any]:
    """A job as plain data for ``--json`` (no key: the ledger never holds one)."""
    r = job.request
    error = job.error
    w, h = r.size
    return {
        "id": job.id,
        "status": job.status,
        "phase": job.phase,
        "reused": job.reused,
        "provider": job.provider,
        "model": job.model,
        "model_id": r.model_id,
        "task_id": job.task_id,
        "prompt": r.prompt,
        "mode": r.mode,
        "ratio": r.ratio,
        "resolution": r.resolution,
        "size": [w, h],
        "duration": r.duration,
        "generate_audio": r.generate_audio,
        "seed": job.seed,
        "video_path": str(job.video_path) if job.video_path else None,
        "last_frame_path": str(job.last_frame_path) if job.last_frame_path else None,
        "tokens": job.tokens,
        "estimated_tokens": job.estimated_tokens,
        "cost_usd": job.cost,
        "cost_is_estimate": job.tokens is None,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "elapsed_s": round(job.elapsed, 3),
        "error": {"code": error.code, "message": error.message} if error else None,
        "warnings": list(job.warnings),
    }


def stamp(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def ways_out_lines(job: Job) -> list[str]:
    return [
        f"{job.id}: outcome unknown — the create may or may not have reached {job.provider}, "
        "so nothing was resent (a resend may pay twice).",
        "  check the provider's console first; then, to send it again on purpose: re-run with "
        f"--force, or client.resubmit(job) in Python, or %seedance resubmit {job.id} in a notebook",
    ]


def state_text(job: Job) -> str:
    text = job.status
    if job.progress is not None and not job.done:
        text += f" {job.progress:.0%}"
    return text


def follow(out: Output, jobs: list[Job], timeout: float | None) -> bool:
    """Follow jobs to their end with progress on stderr (one rewritten line on a terminal,
    a line per status change otherwise); False if ``timeout`` ran out first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    tty = sys.stderr.isatty()
    statuses: dict[str, str] = {}
    last = ""
    while True:
        for job in jobs:
            if not tty and statuses.get(job.id) != job.status:
                statuses[job.id] = job.status
                out.say(f"  {job.id}: {job.status}")
        pending = [j for j in jobs if not j.done]
        if tty:
            if len(jobs) == 1:
                line = f"  {state_text(jobs[0])}  {jobs[0].elapsed:5.1f}s"
            else:
                line = f"  {len(jobs) - len(pending)}/{len(jobs)} done · " + " · ".join(
                    f"{j.id} {state_text(j)}" for j in pending[:3]
                )
            if line != last:
                sys.stderr.write("\r\033[K" + line)
                sys.stderr.flush()
                last = line
        if not pending:
            if tty and last:
                sys.stderr.write("\n")
            return True
        if deadline is not None and time.monotonic() > deadline:
            if tty and last:
                sys.stderr.write("\n")
            return False
        time.sleep(0.2)
