"""``seedance-nb``: generate from a shell, inspect the ledger, run the emulator.

Commands that need no provider (``jobs``, ``show``, ``models``, ``--help``, a request refused by
validation) read the catalog and the ledger only: they start no emulator and print no notice.

Parts: :mod:`.parser` (the command line), :mod:`.output` (stdout/stderr, ``--json`` data,
progress), :mod:`.generate`, :mod:`.ledger_views` (``jobs``, ``show``), :mod:`.models`,
:mod:`.jobs_control` (``cancel``, ``resume``), :mod:`.spend`.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Callable, Sequence

from ..errors import SeedanceError
from ..request import SeedanceWarning
from .generate import run_generate
from .jobs_control import run_cancel, run_resume
from .ledger_views import run_jobs, run_show
from .models import run_models
from .output import Output, Refused
from .parser import CONFIRM_ENV, DEFAULT_CONFIRM_USD, EXIT_CODES, build_parser
from .spend import run_spend

__all__ = [
    "CONFIRM_ENV",
    "DEFAULT_CONFIRM_USD",
    "EXIT_CODES",
    "Output",
    "Refused",
    "build_parser",
    "main",
]

COMMANDS: dict[str, Callable[[argparse.Namespace, Output], int]] = {
    "generate": run_generate,
    "jobs": run_jobs,
    "show": run_show,
    "models": run_models,
    "cancel": run_cancel,
    "resume": run_resume,
    "spend": run_spend,
}


def main(argv: Sequence[str] | None = None) -> int:
    """The ``seedance-nb`` entry point; returns the exit code (see :data:`EXIT_CODES`)."""
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "emulator":
        from ..emulator import main as emulator_main

        return emulator_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    warnings.simplefilter("ignore", SeedanceWarning)  # the CLI prints a request's notes itself
    out = Output(args.json)
    try:
        return COMMANDS[args.command](args, out)
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
