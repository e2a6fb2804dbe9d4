"""The ``%%seedance`` options and help text: the request parameters come from
:mod:`seedance_nb.request.schema` (the one declaration the CLI and the form read too), then the
magic's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.core.magic_arguments import (
    MagicHelpFormatter,
    argument,
    argument_group,
    kwds,
    magic_arguments,
)

from .. import catalog
from ..request import schema as params

COMMANDS = ("history", "status", "cancel", "resubmit", "models", "config", "spend")
COMMANDS_TEXT = (
    "history [N] | status | cancel JOB | resubmit JOB | models [PROVIDER] | config | spend"
)


class _Formatter(MagicHelpFormatter):
    """IPython's magic help without the reST ``::`` before the usage."""

    def add_usage(self, usage: Any, actions: Any, groups: Any, prefix: str | None = "") -> None:
        super().add_usage(usage, actions, groups, "Usage:\n  ")


_USAGE = (
    "%%%%seedance [options]          the cell body is the prompt\n"
    f"  %%seedance COMMAND             {COMMANDS_TEXT}"
)


HELP = """\
Generate a Seedance video from a notebook cell. The cell returns at once and a live view
follows the job; --wait blocks until the video is on disk. The same request twice is not
sent again (the old video comes back, nothing is charged) unless --force. REF is a URL, a
local file, or the name of a variable holding a path, bytes or a PIL image.

Examples:
  %%seedance -m seedance-2.0-fast --duration 5 --resolution 720p --seed 7
  A paper boat drifts down a rain-soaked street at dusk

  %%seedance --image cat --ratio 1:1 --name take --wait
  The cat from [Image 1] leaps onto the windowsill

  %%seedance -m seedance-2.0,seedance-2.0-fast --duration 4 --dry-run
  A lighthouse in a storm, waves breaking over the rocks

  %%seedance --sweep seed=1,2,3 --sweep animal=fox,owl --duration 4 --name sw
  A {animal} at dawn

Line commands:
  %seedance history [N]            the last N jobs: cost, status; open / re-run / remix / cancel
  %seedance status [--provider P]  provider, endpoint and live jobs
  %seedance cancel JOB             JOB: a job id, or a variable bound with --name
  %seedance resubmit JOB           the same request again, a new paid take (--name, --wait)
  %seedance models [PROVIDER]      every tier with its durations, resolutions, ratios
  %seedance config                 the %config Seedance.* defaults
  %seedance spend                  spend by provider, model and day; the budget

Allowed values for each model and provider: %seedance models
"""


def with_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give the magic its options: the request parameters from the schema, then its own."""
    decorators: list[Any] = [
        argument(
            "command", nargs="*", metavar="COMMAND", help=f"Line magic only: {COMMANDS_TEXT}."
        ),
        argument_group("request parameters (%seedance models lists what each tier allows)"),
    ]
    model_default = {"model": f"Seedance.model (initially {catalog.DEFAULT_TIER})"}
    for flags, spec in params.argument_specs(defaults=model_default):
        if spec["dest"] == "model":
            spec = {
                **spec,
                "help": spec["help"] + " A comma list runs one job per tier, side by side.",
            }
        decorators.append(argument(*flags, **spec))
    decorators += [
        argument_group("cell options"),
        argument(
            "--provider",
            help="Provider (default: Seedance.provider, else the environment; "
            "no key: the offline emulator).",
        ),
        argument("--wait", action="store_true", help="Block until the video is on disk."),
        argument(
            "--force",
            action="store_true",
            help="Send again (and pay again) even if the same request ran before.",
        ),
        argument(
            "--dry-run",
            action="store_true",
            help="Show the exact request and its estimate; send nothing.",
        ),
        argument("--name", metavar="VAR", help="Bind the job to this variable."),
        argument(
            "--sweep",
            action="append",
            metavar="NAME=V1,V2",
            help="An axis of a sweep, repeatable: one job per combination, in a gallery. NAME "
            "is a request parameter (seed=1,2,3; ratio=16:9,9:16) or a {NAME} placeholder of "
            "the cell body.",
        ),
    ]
    # IPython builds the parser from the decorators in source order, i.e. last applied first
    for deco in reversed(decorators):
        func = deco(func)
    func = kwds(usage=_USAGE, formatter_class=_Formatter)(func)
    return magic_arguments()(func)  # type: ignore[no-any-return]
