"""``seedance-nb``: generate from a shell, inspect the ledger, run the emulator.

Commands that need no provider (``jobs``, ``show``, ``models``, ``--help``, a request refused by
validation) read the catalog and the ledger only: they start no emulator and print no notice.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit

from . import catalog, params
from .config import DEFAULT_WORKDIR, ProviderChoice, choose_provider, default_workdir
from .errors import InvalidRequest, JobFailed, SeedanceError, UnknownOutcomeError
from .request import SeedanceWarning, VideoRequest, build_request

if TYPE_CHECKING:
    from .client import Client
    from .job import Job
    from .ledger import Ledger

CONFIRM_ENV = "SEEDANCE_CONFIRM_USD"
DEFAULT_CONFIRM_USD = 1.0
EXIT_CODES = """exit codes:
  0    done (generate prints the video's path on stdout)
  1    the job ended without a video, a cancel was not possible, or you answered no
  2    refused before anything was sent: usage, invalid request, configuration, an estimate
       over the confirm threshold without --yes; or the provider refused the request
  3    --timeout ran out (the job goes on: seedance-nb resume)
  4    unknown outcome: the create may or may not have reached the provider
  130  interrupted (what was submitted goes on and is in the ledger)"""


class Refused(SeedanceError):
    """A command the CLI refuses before anything is sent (unknown job, wrong route, …)."""


# --- the parser ---------------------------------------------------------------------------


def _provider_help() -> str:
    keys = ", ".join(catalog.PROVIDERS[n].key_env[0] for n in catalog.AUTO_PROVIDER_ORDER)
    return (
        f"Who serves the request. Allowed: {', '.join(catalog.PROVIDER_NAMES)}. Default: "
        f"$SEEDANCE_PROVIDER, else the first provider whose key is set ({keys}), else the "
        "offline emulator."
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the request options come from :mod:`seedance_nb.params`."""
    parser = argparse.ArgumentParser(
        prog="seedance-nb",
        description="Seedance video generation from a shell: generate, inspect the ledger, "
        "run the offline emulator.\nWithout a provider key the offline emulator stands in "
        "(free, synthetic videos).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--workdir",
        metavar="DIR",
        help="Where the ledger and the videos live. "
        f"Default: $SEEDANCE_WORKDIR, else ./{DEFAULT_WORKDIR}.",
    )
    common.add_argument(
        "--json",
        action="store_true",
        help="Print one JSON document on stdout "
        "(for scripts); human lines go to stderr. Never contains a key.",
    )
    chooses = argparse.ArgumentParser(add_help=False)
    chooses.add_argument("--provider", metavar="NAME", help=_provider_help())

    gen = sub.add_parser(
        "generate",
        parents=[common, chooses],
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        help="submit a prompt, wait, print the MP4's path",
        description="Submit a prompt, wait for the video and print its path.\nThe same request "
        "run again returns the job already made (nothing is charged);\n--force pays for a new "
        "take.",
    )
    gen.add_argument(
        "prompt",
        help="What the video shows ('-' reads it from stdin). Name "
        "attached media in it as [Image 1], [Video 1], [Audio 1].",
    )
    params.add_arguments(gen)
    run = gen.add_argument_group("submitting")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="Print the exact provider request and the token/cost estimate; send nothing.",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="Send the request even if the ledger "
        "holds the same one (pays for a new take). Default: reuse it, free.",
    )
    run.add_argument(
        "--yes", "-y", action="store_true", help="Submit without asking, whatever the estimate."
    )
    run.add_argument(
        "--confirm-above",
        type=float,
        metavar="USD",
        help="Ask before submitting "
        "a request whose estimate (catalog prices) is above this many US dollars; "
        "without a terminal, refuse it unless --yes. Allowed: a number >= 0. "
        f"Default: ${CONFIRM_ENV}, else {DEFAULT_CONFIRM_USD:g}.",
    )
    run.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="Stop waiting after this long (exit 3); the job goes on. Default: wait until it ends.",
    )
    run.add_argument(
        "--no-wait",
        action="store_true",
        help="Exit once the provider has the task; `seedance-nb resume` or `show ID` later.",
    )

    jobs = sub.add_parser(
        "jobs",
        parents=[common],
        help="list the ledger, newest first",
        description="List the ledger, newest first (reads the ledger only).",
    )
    jobs.add_argument(
        "--limit", type=int, default=20, metavar="N", help="How many jobs to list. Default: 20."
    )

    show = sub.add_parser(
        "show",
        parents=[common],
        help="one job: status, paths, payload",
        description="One job's status, files, request and the provider's "
        "last answer (reads the ledger only).",
    )
    show.add_argument("id", metavar="ID", help="A job id (job_…), as `jobs` lists them.")

    sub.add_parser(
        "models",
        parents=[common, chooses],
        help="what each tier of a provider can do, and its price",
        description="Each tier a provider sells: modes, references, "
        "durations, resolutions, ratios, audio and $ per million tokens, "
        "from the catalog.",
    )

    cancel = sub.add_parser(
        "cancel",
        parents=[common, chooses],
        help="ask the provider to cancel a job",
        description="Ask the provider to cancel a job and "
        "print its answer (Ark cancels queued tasks only).",
    )
    cancel.add_argument("id", metavar="ID", help="A job id (job_…), as `jobs` lists them.")

    resume = sub.add_parser(
        "resume",
        parents=[common, chooses],
        help="drive every unfinished job of the workdir to the end",
        description="Drive every "
        "unfinished job of the workdir to the end (download included); "
        "progress on stderr.",
    )
    resume.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="Stop waiting after this long (exit 3). Default: wait until every job ends.",
    )

    sub.add_parser(
        "emulator", help="run the offline emulator server (--help for its options)", add_help=False
    )
    return parser


# --- entry point --------------------------------------------------------------------------


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


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "emulator":
        from .emulator import main as emulator_main

        return emulator_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    warnings.simplefilter("ignore", SeedanceWarning)  # the CLI prints a request's notes itself
    out = Output(args.json)
    commands: dict[str, Callable[[argparse.Namespace, Output], int]] = {
        "generate": _generate,
        "jobs": _jobs,
        "show": _show,
        "models": _models,
        "cancel": _cancel,
        "resume": _resume,
    }
    try:
        return commands[args.command](args, out)
    except SeedanceError as exc:
        return out.fail(exc, 2)
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        out.say(
            "\ninterrupted; what was submitted goes on and is in the ledger "
            "(seedance-nb jobs, seedance-nb resume)"
        )
        return 130


# --- generate -----------------------------------------------------------------------------


def _workdir(args: argparse.Namespace) -> Path:
    return Path(args.workdir).expanduser().resolve() if args.workdir else default_workdir()


def _generate(args: argparse.Namespace, out: Output) -> int:
    prompt = sys.stdin.read() if args.prompt == "-" else args.prompt
    try:
        given = params.from_namespace(args)
    except ValueError as exc:  # --option without KEY=VALUE
        raise InvalidRequest(str(exc), field="options") from None
    workdir = _workdir(args)
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
        job = _job_from_row(reusable)
        job.reused, job.warnings = True, notes
        out.say(job.reuse_note("--force"))
        return _finish(out, job)
    if reusable is None:
        code = _confirm(args, out, request, choice, threshold)
        if code:
            return code

    from .client import Client

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
            finished = _wait(out, [job], args.timeout)
        except KeyboardInterrupt:
            out.say(f"\ninterrupted; {job.id} goes on and is in the ledger (seedance-nb resume)")
            return 130
        if not finished:
            out.say(f"timed out; {job.id} goes on (seedance-nb resume, seedance-nb show {job.id})")
            out.result({"job": _job_data(job), "reused": job.reused}, job.id)
            return 3
        return _finish(out, job, announce=True)


def _finish(out: Output, job: Job, *, announce: bool = False, ways_out: bool = True) -> int:
    """Report where a submitted job stands; the exit code follows its status."""
    note = job.reuse_note("--force") if job.reused else None
    data = {"job": _job_data(job), "reused": job.reused, "note": note}
    if job.outcome_unknown:
        for line in _ways_out(job) if ways_out else []:
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


def _ways_out(job: Job) -> list[str]:
    return [
        f"{job.id}: outcome unknown — the create may or may not have reached {job.provider}, "
        "so nothing was resent (a resend may pay twice).",
        "  check the provider's console first; then, to send it again on purpose: re-run with "
        f"--force, or client.resubmit(job) in Python, or %seedance resubmit {job.id} in a notebook",
    ]


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
        row = db.execute(
            "SELECT * FROM jobs WHERE route=? AND request_hash=? AND phase!='rejected' "
            "ORDER BY created_at DESC LIMIT 1",
            (choice.route, request.digest(choice.route)),
        ).fetchone()
    finally:
        db.close()
    return dict(row) if row else None


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
    from .client import Client

    with Client(provider=args.provider, workdir=workdir) as client:
        pv = client.preview(prompt, **given)
    request: VideoRequest = pv.pop("request")
    pv.update(dry_run=True, describe=request.describe(), request=_redacted(request.canonical()))
    cost = pv["estimated_cost_usd"]
    est = f"≈ {pv['estimated_tokens']:,} tokens" + (f" ≈ ${cost:.2f}" if cost is not None else "")
    body = json.dumps(pv["body"], indent=2, ensure_ascii=False, default=str)
    text = (
        f"dry run · {request.describe()} · {est} · nothing sent\n{pv['method']} {pv['url']}\n{body}"
    )
    out.result(pv, text)
    return 0


# --- waiting ------------------------------------------------------------------------------


def _state(job: Job) -> str:
    text = job.status
    if job.progress is not None and not job.done:
        text += f" {job.progress:.0%}"
    return text


def _wait(out: Output, jobs: list[Job], timeout: float | None) -> bool:
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
                line = f"  {_state(jobs[0])}  {jobs[0].elapsed:5.1f}s"
            else:
                line = f"  {len(jobs) - len(pending)}/{len(jobs)} done · " + " · ".join(
                    f"{j.id} {_state(j)}" for j in pending[:3]
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


# --- the ledger, read without a client ----------------------------------------------------


class _Detached:
    """The runtime of a job read from the ledger by a command that drives nothing."""

    loop = None


def _open_ledger(workdir: Path) -> Ledger | None:
    from .ledger import Ledger

    path = workdir / "ledger.sqlite"
    return Ledger(path) if path.exists() else None


def _job_from_row(row: dict[str, Any]) -> Job:
    from .job import Job

    request = VideoRequest.model_validate(json.loads(row["request_json"]))
    return Job(cast(Any, _Detached()), row, request)


def _get_row(workdir: Path, job_id: str) -> dict[str, Any]:
    ledger = _open_ledger(workdir)
    row = None
    if ledger is not None:
        try:
            row = ledger.get(job_id)
        finally:
            ledger.close()
    if row is None:
        raise Refused(f"no job {job_id!r} in {workdir / 'ledger.sqlite'} (seedance-nb jobs)")
    return row


def _redact_url(url: Any) -> Any:
    """A callback URL's path carries the receiver's token: show where it goes, not the token."""
    if not isinstance(url, str):
        return url
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else "…"


def _redacted(data: dict[str, Any]) -> dict[str, Any]:
    data = dict(data)
    if data.get("callback_url"):
        data["callback_url"] = _redact_url(data["callback_url"])
    return data


def _job_data(job: Job) -> dict[str, Any]:
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


def _stamp(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))


def _jobs(args: argparse.Namespace, out: Output) -> int:
    workdir = _workdir(args)
    ledger = _open_ledger(workdir)
    if ledger is None:
        out.say(f"no jobs yet in {workdir}")
        out.result([])
        return 0
    try:
        jobs = [_job_from_row(r) for r in ledger.history(args.limit)]
    finally:
        ledger.close()
    lines = []
    for job in jobs:
        r = job.request
        tokens = f"{job.tokens:,} tok" if job.tokens else ""
        prompt = r.prompt if len(r.prompt) <= 40 else r.prompt[:39] + "…"
        lines.append(
            f"{job.id}  {_stamp(job.created_at)[:16]}  {job.status:<9}  {job.model:<20}  "
            f"{r.resolution:>5} {r.duration:>2}s  {tokens:>12}  {prompt!r}  {job.video_path or ''}"
        )
    if not jobs:
        out.say(f"no jobs yet in {workdir}")
    out.result([_job_data(j) for j in jobs], "\n".join(lines))
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


def _show(args: argparse.Namespace, out: Output) -> int:
    row = _get_row(_workdir(args), args.id)
    job = _job_from_row(row)
    r = job.request
    data = _job_data(job)
    data.update(
        route=row["route"], request=_redacted(r.canonical()), provider_payload=_shorten(job.raw)
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
        extras.append(f"callback {_redact_url(r.callback_url)}")
    extras += [f"{k}={v}" for k, v in r.options.items()]
    lines.append(f"  params     {' · '.join(extras)}")
    for m in r.media:
        lines.append(f"  media      {m.role}: {m.short()}")
    wall = f" · wall {job.elapsed:.1f}s" if job.finished_at else ""
    lines.append(
        f"  times      created {_stamp(job.created_at)} · finished {_stamp(job.finished_at)}{wall}"
    )
    cost = job.cost
    price = f" ≈ ${cost:.2f}" if cost is not None else ""
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
        lines += _ways_out(job)
    out.result(data, "\n".join(lines))
    return 0


def _shorten(value: Any) -> Any:
    """Data URLs in a payload, cut to their head (they can be megabytes)."""
    if isinstance(value, str) and value.startswith("data:") and len(value) > 60:
        return value[:40] + f"…<{len(value):,} chars>"
    if isinstance(value, dict):
        return {k: _shorten(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten(v) for v in value]
    return value


# --- models -------------------------------------------------------------------------------


def _models(args: argparse.Namespace, out: Output) -> int:
    choice = choose_provider(args.provider)
    spec = choice.provider
    head = list(catalog.OFFER_TABLE_HEAD)
    rows, tiers = catalog.offer_table(spec), []
    for tier, o in spec.offers.items():
        price = catalog.price_per_million_tokens(tier)
        modes = [m for m in catalog.MODES if m in o.modes]
        tiers.append(
            {
                "tier": tier,
                "model_id": o.model_id,
                "available": o.available,
                "note": o.note,
                "modes": modes,
                "references": sorted(o.reference_kinds),
                "durations": list(o.durations),
                "auto_duration": o.auto_duration,
                "resolutions": list(o.resolutions),
                "ratios": list(o.ratios),
                "audio": o.audio,
                "audio_default": o.audio_default,
                "params": sorted(o.params),
                "service_tiers": list(o.service_tiers),
                "max_images": o.max_images,
                "max_videos": o.max_videos,
                "max_audios": o.max_audios,
                "max_media": o.max_media,
                "usd_per_mtok": price,
            }
        )
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    table = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in (head, *rows)
    ]
    now = " — the one used now" if args.provider is None else ""
    others = ", ".join(n for n in catalog.PROVIDER_NAMES if n != spec.name)
    text = "\n".join(
        [
            f"{spec.label} ({spec.name}){now}",
            *table,
            "",
            *(f"note: {n}" for n in spec.notes),
            f"cancel: {spec.cancel_note}",
            f"other providers: {others} (seedance-nb models --provider NAME)",
            "prices are indicative list prices; estimates use them",
        ]
    )
    out.result(
        {
            "provider": spec.name,
            "label": spec.label,
            "emulated": choice.emulated,
            "can_cancel": spec.can_cancel,
            "cancel_note": spec.cancel_note,
            "notes": list(spec.notes),
            "tiers": tiers,
        },
        text,
    )
    return 0


# --- cancel and resume (these talk to the provider) ---------------------------------------


def _client_for(workdir: Path, provider: str | None) -> Client:
    """A client on the workdir: this starts the emulator (and its notice) when it stands in."""
    from .client import Client

    return Client(provider=provider, workdir=workdir)


def _cancel(args: argparse.Namespace, out: Output) -> int:
    workdir = _workdir(args)
    row = _get_row(workdir, args.id)
    job = _job_from_row(row)
    if job.done:
        out.say(f"{job.id} already {job.status}; nothing to cancel")
        out.result(_job_data(job))
        return 1
    choice = choose_provider(args.provider or row["provider"])
    if choice.route != row["route"]:
        keys = " or ".join(choice.provider.key_env) or "a key"
        raise Refused(
            f"{job.id} was sent through {row['route']}, but {choice.provider.name} here means "
            f"{choice.route}; set {keys} (or pass --provider) to reach its task"
        )
    with _client_for(workdir, choice.provider.name) as client:
        job = client.get_job(job.id)
        try:
            job.cancel()
        except SeedanceError as exc:
            out.say(f"error: cannot cancel {job.id}: {exc}")
            if choice.provider.can_cancel:
                out.say(f"  {choice.provider.cancel_note}")
            out.result(_job_data(job))
            return 1
        data = _job_data(job)
    out.result(data, f"{job.id}: {job.status}")
    if job.status != "cancelled":
        out.say(f"the provider answered; {job.id} is {job.status}")
        return 1
    return 0


def _resume(args: argparse.Namespace, out: Output) -> int:
    from .ledger import ACTIVE_PHASES

    workdir = _workdir(args)
    ledger = _open_ledger(workdir)
    rows: list[dict[str, Any]] = []
    if ledger is not None:
        try:
            rows = ledger.history(-1)  # SQLite: no limit
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
    with _client_for(workdir, args.provider) as client:
        jobs = client.resume()
        for job in jobs:
            out.say(f"resuming {job.id}: {job.request.describe()} ({job.status})")
        try:
            finished = _wait(out, jobs, args.timeout)
        except KeyboardInterrupt:
            out.say("\ninterrupted; the jobs stay in the ledger (seedance-nb resume)")
            return 130
        data = [_job_data(j) for j in jobs]
        lines = [f"{j.id}  {j.status:<9}  {j.video_path or ''}".rstrip() for j in jobs]
    for job in jobs:
        if job.outcome_unknown:
            for line in _ways_out(job):
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


if __name__ == "__main__":
    raise SystemExit(main())
