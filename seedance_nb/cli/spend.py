"""``spend``: the workdir's spend by provider, model and day, read from the ledger (no client,
so no emulator starts); the emulator's jobs apart, as what they would have cost."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..engine.budget import spend_of
from ..engine.settings import choose_provider, default_budget
from .ledger_views import open_ledger
from .output import Output, workdir_of

if TYPE_CHECKING:
    import argparse


def run_spend(args: argparse.Namespace, out: Output) -> int:
    workdir = workdir_of(args)
    budget = default_budget()
    emulated = choose_provider(args.provider).emulated
    ledger = open_ledger(workdir)
    if ledger is None:
        out.say(f"no jobs yet in {workdir}")
        out.result({"rows": [], "total_usd": 0.0, "would_have_cost_usd": 0.0, "budget_usd": budget})
        return 0
    try:
        spend = spend_of(ledger, budget_usd=budget, emulated=emulated)
    finally:
        ledger.close()
    data = {
        "rows": spend.as_dicts(),
        "total_usd": spend.total_usd,
        "would_have_cost_usd": spend.would_have_cost_usd,
        "budget_usd": spend.budget_usd,
        "budget_counts": "emulator" if emulated else "providers",
        "spent_usd": spend.spent_usd,
    }
    out.result(data, str(spend))
    return 0
