"""The whole command line; the request options come from :mod:`seedance_nb.request.schema`."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from .. import catalog
from ..engine.settings import DEFAULT_WORKDIR
from ..request import schema as params

CONFIRM_ENV = "SEEDANCE_CONFIRM_USD"
DEFAULT_CONFIRM_USD = 1.0
# ``add_subparsers().add_parser``: how a command is added (argparse keeps its type private)
AddParser = Callable[..., argparse.ArgumentParser]
EXIT_CODES = """exit codes:
  0    done (generate prints the video's path on stdout)
  1    the job ended without a video, a cancel was not possible, or you answered no
  2    refused before anything was sent: usage, invalid request, configuration, an estimate
       over the confirm threshold without --yes; or the provider refused the request
  3    --timeout ran out (the job goes on: seedance-nb resume)
  4    unknown outcome: the create may or may not have reached the provider
  130  interrupted (what was submitted goes on and is in the ledger)"""


def _provider_help() -> str:
    keys = ", ".join(catalog.PROVIDERS[n].key_env[0] for n in catalog.AUTO_PROVIDER_ORDER)
    return (
        f"Who serves the request. Allowed: {', '.join(catalog.PROVIDER_NAMES)}. Default: "
        f"$SEEDANCE_PROVIDER, else the first provider whose key is set ({keys}), else the "
        "offline emulator."
    )


def build_parser() -> argparse.ArgumentParser:
    """The whole command line; the request options come from :mod:`seedance_nb.request.schema`."""
    parser = argparse.ArgumentParser(
        prog="seedance-nb",
        description="Seedance video generation from a shell: generate, inspect the ledger, "
        "run the offline emulator.\nWithout a provider key the offline emulator stands in "
        "(free, synthetic videos).",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common, chooses = _parents()
    _add_generate(sub.add_parser, common, chooses)
    _add_ledger_commands(sub.add_parser, common)
    _add_provider_commands(sub.add_parser, common, chooses)
    sub.add_parser(
        "emulator", help="run the offline emulator server (--help for its options)", add_help=False
    )
    return parser


def _parents() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The options every command shares (--workdir, --json), and --provider."""
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
    return common, chooses


def _add_generate(
    add: AddParser, common: argparse.ArgumentParser, chooses: argparse.ArgumentParser
) -> None:
    gen = add(
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


def _add_ledger_commands(add: AddParser, common: argparse.ArgumentParser) -> None:
    """``jobs`` and ``show``: they read the ledger only."""
    jobs = add(
        "jobs",
        parents=[common],
        help="list the ledger, newest first",
        description="List the ledger, newest first (reads the ledger only).",
    )
    jobs.add_argument(
        "--limit", type=int, default=20, metavar="N", help="How many jobs to list. Default: 20."
    )

    show = add(
        "show",
        parents=[common],
        help="one job: status, paths, payload",
        description="One job's status, files, request and the provider's "
        "last answer (reads the ledger only).",
    )
    show.add_argument("id", metavar="ID", help="A job id (job_…), as `jobs` lists them.")


def _add_provider_commands(
    add: AddParser, common: argparse.ArgumentParser, chooses: argparse.ArgumentParser
) -> None:
    """``models``, ``cancel`` and ``resume``: they name a provider."""
    add(
        "models",
        parents=[common, chooses],
        help="what each tier of a provider can do, and its price",
        description="Each tier a provider sells: modes, references, "
        "durations, resolutions, ratios, audio and $ per million tokens, "
        "from the catalog.",
    )

    cancel = add(
        "cancel",
        parents=[common, chooses],
        help="ask the provider to cancel a job",
        description="Ask the provider to cancel a job and "
        "print its answer (Ark cancels queued tasks only).",
    )
    cancel.add_argument("id", metavar="ID", help="A job id (job_…), as `jobs` lists them.")

    add(
        "spend",
        parents=[common, chooses],
        help="spend by provider, model and day, and the budget",
        description="The workdir's spend by provider, model and day at catalog prices "
        "(billed tokens, estimates for jobs in flight), read from the ledger; the emulator's "
        "jobs apart, as what they would have cost; the budget of $SEEDANCE_BUDGET_USD.",
    )

    resume = add(
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
