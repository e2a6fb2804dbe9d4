"""``cancel`` and ``resume``: the commands that talk to the provider about jobs already sent."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.settings import choose_provider
from ..errors import JobFailed, SeedanceError
from .ledger_views import get_row, job_from_row, open_ledger
from .output import Output, Refused, follow, job_data, ways_out_lines, workdir_of

if TYPE_CHECKING:
    import argparse

    from ..client import Client


def client_for(workdir: Path, provider: str | None) -> Client:
    """A client on the workdir: this starts the emulator (and its notice) when it stands in."""
    from ..client import Client

    return Client(provider=provider, workdir=workdir)


def run_cancel(args: argparse.Namespace, out: Output) -> int:
    workdir = workdir_of(args)
    row = get_row(workdir, args.id)
    job = job_from_row(row)
    if job.done:
        out.say(f"{job.id} already {job.status}; nothing to cancel")
        out.result(job_data(job))
        return 1
    choice = choose_provider(args.provider or row["provider"])
    if choice.route != row["route"]:
        keys = " or ".join(choice.provider.key_env) or "a key"
        raise Refused(
            f"{job.id} was sent through {row['route']}, but {choice.provider.name} here means "
            f"{choice.route}; set {keys} (or pass --provider) to reach its task"
        )
    with client_for(workdir, choice.provider.name) as client:
        job = client.get_job(job.id)
        try:
            job.cancel()
        except SeedanceError as exc:
            out.say(f"error: cannot cancel {job.id}: {exc}")
            if choice.provider.can_cancel:
                out.say(f"  {choice.provider.cancel_note}")
            out.result(job_data(job))
            return 1
        data = job_data(job)
    out.result(data, f"{job.id}: {job.status}")
    if job.status != "cancelled":
        out.say(f"the provider answered; {job.id} is {job.status}")
        return 1
    return 0


def run_resume(args: argparse.Namespace, out: Output) -> int:
    from ..engine.ledger import ACTIVE_PHASES

    workdir = workdir_of(args)
    ledger = open_ledger(workdir)
    rows: list[dict[str, Any]] = []
    if ledger is not None:
        try:
            rows = ledger.history(-1)  # all of them
        finally:
            ledger.close()
    unknown = [r["id"] for r in rows if r["phase"] == "unknown"]
    if unknown:
        out.say(
            f"{len(unknown)} job(s) of unknown outcome are not resumed (seedance-nb show ID "
            f"says why): {', '.join(unknown[:5])}"
        )
    active = [r for r in rows if r["phase"] in ACTIVE_PHASES]
    if not active:
        out.say(f"nothing to resume in {workdir}")
        out.result([])
        return 0
    choice = choose_provider(args.provider)
    elsewhere: dict[str, int] = {}
    for r in active:
        if r["route"] != choice.route:
            elsewhere[r["route"]] = elsewhere.get(r["route"], 0) + 1
    for route, n in elsewhere.items():
        name = route.split("@", 1)[0]
        out.say(
            f"{n} unfinished job(s) went through {route}; they need that provider: "
            f"seedance-nb resume --provider {name} (with its key set)"
        )
    if len(elsewhere) == len({r["route"] for r in active}):
        out.result([])
        return 1
    with client_for(workdir, args.provider) as client:
        jobs = client.resume()
        for job in jobs:
            out.say(f"resuming {job.id}: {job.request.describe()} ({job.status})")
        try:
            finished = follow(out, jobs, args.timeout)
        except KeyboardInterrupt:
            out.say("\ninterrupted; the jobs stay in the ledger (seedance-nb resume)")
            return 130
        data = [job_data(j) for j in jobs]
        lines = [f"{j.id}  {j.status:<9}  {j.video_path or ''}".rstrip() for j in jobs]
    for job in jobs:
        if job.outcome_unknown:
            for line in ways_out_lines(job):
                out.say(line)
        elif job.done and job.status != "succeeded":
            out.say(f"error: {JobFailed(job)}")
    out.result(data, "\n".join(lines))
    if not finished:
        out.say("timed out; the jobs go on (seedance-nb resume)")
        return 3
    if any(j.outcome_unknown for j in jobs):
        return 4
    return 0 if all(j.status == "succeeded" for j in jobs) else 1
