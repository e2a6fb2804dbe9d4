"""``seedance-nb``: generate from a shell, list the ledger, run the emulator."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

from .errors import SeedanceError


def _bool(text: str) -> bool:
    return text.lower() in ("1", "true", "yes", "on")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="seedance-nb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="submit a prompt, wait, print the MP4 path")
    gen.add_argument("prompt")
    gen.add_argument("--model", "-m", default="seedance-2.0")
    gen.add_argument("--provider")
    gen.add_argument("--workdir")
    gen.add_argument("--ratio")
    gen.add_argument("--resolution")
    gen.add_argument("--duration", type=int)
    gen.add_argument("--audio", dest="generate_audio", action="store_true", default=None)
    gen.add_argument("--no-audio", dest="generate_audio", action="store_false")
    gen.add_argument("--seed", type=int)
    gen.add_argument("--first-frame")
    gen.add_argument("--last-frame")
    gen.add_argument("--image", action="append", default=[])
    gen.add_argument("--video", action="append", default=[])
    gen.add_argument("--ref-audio", action="append", default=[])
    gen.add_argument(
        "--last-frame-out", dest="return_last_frame", action="store_true", default=None
    )
    gen.add_argument("--force", action="store_true")
    gen.add_argument("--timeout", type=float)

    jobs = sub.add_parser("jobs", help="list the ledger, newest first")
    jobs.add_argument("--workdir")
    jobs.add_argument("--limit", type=int, default=20)

    sub.add_parser("emulator", help="run the offline emulator server", add_help=False)

    args, rest = parser.parse_known_args(argv)
    if args.command == "emulator":
        from .emulator import main as emulator_main

        return emulator_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        if args.command == "generate":
            return _generate(args)
        return _jobs(args)
    except SeedanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\ninterrupted; the job goes on and is in the ledger (seedance-nb jobs)",
            file=sys.stderr,
        )
        return 130


def _generate(args: argparse.Namespace) -> int:
    from .client import Client

    with Client(provider=args.provider, workdir=args.workdir) as client:
        job = client.submit(
            args.prompt, model=args.model, ratio=args.ratio, resolution=args.resolution,
            duration=args.duration, generate_audio=args.generate_audio, seed=args.seed,
            return_last_frame=args.return_last_frame, first_frame=args.first_frame,
            last_frame=args.last_frame, images=args.image, videos=args.video,
            audios=args.ref_audio, force=args.force,
        )  # fmt: skip
        print(f"{job.id}: {job.request.describe()} on {client.provider_name}"
              f"{' (emulator)' if client.emulated else ''}", file=sys.stderr)  # fmt: skip
        last = ""
        deadline = None if args.timeout is None else time.monotonic() + args.timeout
        while not job.done:
            line = f"  {job.status}"
            if job.progress is not None:
                line += f" {job.progress:.0%}"
            line += f"  {job.elapsed:5.1f}s"
            if line != last and sys.stderr.isatty():
                print("\r" + line, end="", file=sys.stderr, flush=True)
            last = line
            if deadline is not None and time.monotonic() > deadline:
                print(f"\ntimed out; {job.id} goes on", file=sys.stderr)
                return 3
            time.sleep(0.2)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        job.wait()
        print(f"done: {job.summary()}", file=sys.stderr)
        print(job.video_path)
    return 0


def _jobs(args: argparse.Namespace) -> int:
    from .client import Client

    with Client(workdir=args.workdir) as client:
        for job in client.jobs(limit=args.limit):
            stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(job.created_at))
            video = job.video_path or ""
            print(
                f"{job.id}  {stamp}  {job.status:<9} {job.model:<20} {job.request.prompt[:40]!r}  {video}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
