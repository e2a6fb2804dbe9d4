"""``generate``: one request from the shell, reused when the ledger holds it, confirmed when
its estimate is large, followed to the end with progress on stderr."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from ..engine.ledger import same_request
from ..engine.settings import ProviderChoice, choose_provider
from ..errors import InvalidRequest, JobFailed, UnknownOutcomeError
from ..request import VideoRequest, build_request
from ..request import schema as params
from .ledger_views import job_from_row
from .output import Output, Refused, follow, job_data, redacted, ways_out_lines, workdir_of
from .parser import CONFIRM_ENV, DEFAULT_CONFIRM_USD

if TYPE_CHECKING:
    import argparse

    from ..engine.job import Job


def run_generate(args: argparse.Namespace, out: Output) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    try:
        given = params.from_namespace(args)
    except ValueError as exc:  # --option without KEY=VALUE
        raise InvalidRequest(str(exc), field="options") from None
    workdir = workdir_of(args)
    threshold = _threshold(args)  # a misread setting is refused even when no prompt is due
    choice = choose_provider(args.provider)  # no emulator yet: a refused request starts none
    request, notes = build_request(choice.provider, prompt, workdir=workdir, warn=False, **given)
    for note in notes:
        out.say(f"warning: {note}")
    if args.dry_run:
        return _dry_run(args, out, prompt, given, workdir)
    reusable = None if args.force else _reusable(workdir, choice, request)
    if reusable is not None and reusable["phase"] in ("done", "unknown"):
        # settled already: say so from the ledger, with no client and no emulator to start
        job = job_from_row(reusable)
        job.reused, job.warnings = True, notes
        out.say(job.reuse_note("--force"))
        return _finish(out, job)
    if reusable is None:
        code = _confirm(args, out, request, choice, threshold)
        if code:
            return code

    from ..client import Client

    with Client(provider=args.provider, workdir=workdir) as client:
        try:
            job = client.submit(prompt, force=args.force, **given)
        except UnknownOutcomeError as exc:
            out.say(f"error: {exc}")
            if exc.job is None:
                return 4
            # the runtime's message may name the ways out already; say them once
            return _finish(out, exc.job, ways_out="--force" not in str(exc))
        was_done = job.done
        if job.reused:
            out.say(job.reuse_note("--force"))
        else:
            where = " (emulator)" if client.emulated and client.provider_name != "emulator" else ""
            out.say(f"{job.id}: {job.request.describe()} on {client.provider_name}{where}")
        if args.no_wait or job.done:
            return _finish(out, job, announce=not was_done and not args.no_wait)
        try:
            finished = follow(out, [job], args.timeout)
        except KeyboardInterrupt:
            out.say(f"\ninterrupted; {job.id} goes on and is in the ledger (seedance-nb resume)")
            return 130
        if not finished:
            out.say(f"timed out; {job.id} goes on (seedance-nb resume, seedance-nb show {job.id})")
            out.result({"job": job_data(job), "reused": job.reused}, job.id)
            return 3
        return _finish(out, job, announce=True)


def _finish(out: Output, job: Job, *, announce: bool = False, ways_out: bool = True) -> int:
    """Report where a submitted job stands; the exit code follows its status."""
    note = job.reuse_note("--force") if job.reused else None
    data = {"job": job_data(job), "reused": job.reused, "note": note}
    if job.outcome_unknown:
        for line in ways_out_lines(job) if ways_out else []:
            out.say(line)
        out.result(data)
        return 4
    if not job.done:  # --no-wait
        out.result(data, job.id)
        return 0
    if job.status != "succeeded":
        out.say(f"error: {JobFailed(job)}" + ("; --force to try again" if job.reused else ""))
        out.result(data)
        return 1
    if announce:
        out.say(f"done: {job.summary()}")
    if job.video_path is not None and not job.video_path.exists():
        out.say(f"warning: {job.video_path} is gone; --force renders a new take")
    out.result(data, str(job.video_path))
    return 0


def _reusable(
    workdir: Path, choice: ProviderChoice, request: VideoRequest
) -> dict[str, Any] | None:
    """The ledger's row for this very request, if any: a re-run costs nothing, so it is not
    asked about. Read-only, the same lookup as ``Ledger.claim``."""
    path = workdir / "ledger.sqlite"
    if not path.exists():
        return None
    db = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30.0)
    db.row_factory = sqlite3.Row
    try:
        return same_request(db, choice.route, request.digest(choice.route))
    finally:
        db.close()


def _threshold(args: argparse.Namespace) -> float:
    if args.confirm_above is not None:
        value, source = args.confirm_above, "--confirm-above"
    else:
        text = os.environ.get(CONFIRM_ENV, "").strip()
        if not text:
            return DEFAULT_CONFIRM_USD
        try:
            value, source = float(text), CONFIRM_ENV
        except ValueError:
            raise Refused(f"{CONFIRM_ENV}={text!r} is not a number of US dollars") from None
    if not value >= 0:
        raise Refused(f"{source} must be a number >= 0, got {value:g}")
    return float(value)


def _confirm(
    args: argparse.Namespace,
    out: Output,
    request: VideoRequest,
    choice: ProviderChoice,
    threshold: float,
) -> int:
    """Ask before a large estimate (0: go on). Nothing has been sent or started yet."""
    cost = request.estimated_cost
    if args.yes or cost is None or cost <= threshold:
        return 0
    what = f"estimate ≈ {request.estimated_tokens:,} tokens ≈ ${cost:.2f} for {request.describe()}"
    if choice.emulated:
        what += " (catalog prices; the offline emulator charges nothing)"
    if sys.stdin.isatty() and sys.stderr.isatty():
        sys.stderr.write(f"{what}; submit? [y/N] ")
        sys.stderr.flush()
        try:
            answer = sys.stdin.readline().strip().lower()
        except KeyboardInterrupt:
            out.say("\nnot sent")
            return 130
        if answer in ("y", "yes"):
            return 0
        out.say("not sent")
        out.result(
            {
                "sent": False,
                "estimated_tokens": request.estimated_tokens,
                "estimated_cost_usd": cost,
            }
        )
        return 1
    return out.fail(
        Refused(
            f"{what} is over the ${threshold:g} confirm threshold and there is no terminal to "
            f"ask on; nothing sent. Pass --yes to submit it (or raise --confirm-above / "
            f"{CONFIRM_ENV})."
        ),
        2,
    )


def _dry_run(
    args: argparse.Namespace, out: Output, prompt: str, given: dict[str, Any], workdir: Path
) -> int:
    from ..client import Client

    with Client(provider=args.provider, workdir=workdir) as client:
        pv = client.preview(prompt, **given)
    request: VideoRequest = pv.pop("request")
    pv.update(dry_run=True, describe=request.describe(), request=redacted(request.canonical()))
    cost = pv["estimated_cost_usd"]
    est = f"≈ {pv['estimated_tokens']:,} tokens" + (
        f" · est. ${cost:.2f}" if cost is not None else ""
    )
    body = json.dumps(pv["body"], indent=2, ensure_ascii=False, default=str)
    text = (
        f"dry run · {request.describe()} · {est} · nothing sent\n{pv['method']} {pv['url']}\n{body}"
    )
    out.result(pv, text)
    return 0
