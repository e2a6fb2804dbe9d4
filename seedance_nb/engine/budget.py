"""The spend and the budget: what a workdir's jobs cost, and a cap that holds before any money.

Spend is read from the ledger, so it survives restarts and counts every client and kernel on
the workdir. At the price in force for the job's tier (``catalog.price_of``: the list price,
or yours from ``catalog.set_price``):

- a finished job costs its billed tokens (the provider's usage);
- a job in flight, or of unknown outcome (it may have been made), costs its estimate;
- a job that ended without a video costs nothing (Ark bills only generated videos), nor does a
  create that was refused or never left the machine.

Two pools never mix. The emulator's jobs (route ``…@emulator``) are counted apart, as what they
*would have cost*. A client on a real provider holds its budget against the real spend of the
workdir (every real provider: money is money); a client on the emulator holds it against the
emulator's would-have-cost, so a budget can be tried offline and refuses there the same way.

The check runs right before the ledger claim with no ``await`` in between, so within one client
two submits cannot both slip under the cap. Two processes on one workdir may each pass a check
the other's claim then makes untrue: the overshoot is at most one batch each.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .. import catalog
from ..errors import BudgetExceeded
from ..request import VideoRequest
from .ledger_core import LedgerCore
from .settings import budget_value, default_budget

GROUPS = ("provider", "model", "day")


def emulated_route(route: str) -> bool:
    """Whether a ledger route is the offline emulator's (``provider@emulator``)."""
    return route.rpartition("@")[2] == "emulator"


@dataclass(frozen=True)
class JobCost:
    """One job's cost at catalog prices; ``estimated`` until the provider's usage is known."""

    usd: float | None  # None: no price known for its model
    estimated: bool


def row_cost(row: dict[str, Any]) -> JobCost:
    """The cost of one ledger row (see the module docstring for what counts)."""
    if row["phase"] == "rejected":
        return JobCost(0.0, False)
    usage = json.loads(row["usage_json"]) if row.get("usage_json") else {}
    tokens = usage.get("total_tokens") or usage.get("completion_tokens")
    if tokens:
        return JobCost(catalog.estimate_cost(row["tier"], int(tokens)), False)
    if row["phase"] == "done" and row["status"] != "succeeded":
        return JobCost(0.0, False)  # failed, cancelled, expired: no video, no bill
    request = VideoRequest.model_validate(json.loads(row["request_json"]))
    return JobCost(request.estimated_cost, True)


@dataclass(frozen=True)
class SpendRow:
    """Spend of one provider, model and day (the day the job was submitted, local time)."""

    provider: str
    model: str
    day: str
    jobs: int
    usd: float
    estimated_usd: float  # the part of ``usd`` that is still an estimate
    emulated: bool  # the emulator's: what these jobs would have cost
    unpriced: int = 0  # jobs of a model with no price, counted as $0


@dataclass(frozen=True)
class Spend:
    """A workdir's spend by provider, model and day; shows itself as a table with bars."""

    rows: tuple[SpendRow, ...]
    budget_usd: float | None
    emulated: bool  # the pool the budget holds against: the client's
    workdir: str

    @property
    def total_usd(self) -> float:
        """Spend on real providers (estimated where usage is not known yet)."""
        return sum((r.usd for r in self.rows if not r.emulated), 0.0)

    @property
    def would_have_cost_usd(self) -> float:
        """What the emulator's jobs would have cost on a real provider."""
        return sum((r.usd for r in self.rows if r.emulated), 0.0)

    @property
    def spent_usd(self) -> float:
        """What the budget counts: the would-have-cost on the emulator, else real spend."""
        return self.would_have_cost_usd if self.emulated else self.total_usd

    @property
    def left_usd(self) -> float | None:
        return None if self.budget_usd is None else self.budget_usd - self.spent_usd

    def by(self, group: str, *, emulated: bool | None = None) -> dict[str, float]:
        """Spend summed by ``provider``, ``model`` or ``day`` (one pool, or both)."""
        if group not in GROUPS:
            raise ValueError(f"group by one of {', '.join(GROUPS)}, not {group!r}")
        out: dict[str, float] = {}
        for r in self.rows:
            if emulated is None or r.emulated == emulated:
                key = getattr(r, group)
                out[key] = out.get(key, 0.0) + r.usd
        return out

    def as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.rows]

    def __str__(self) -> str:
        from ..display.spend import spend_text

        return spend_text(self)

    __repr__ = __str__

    def _repr_html_(self) -> str:
        from ..display.spend import spend_html

        return spend_html(self)


def spend_of(
    ledger: LedgerCore, *, budget_usd: float | None = None, emulated: bool = False
) -> Spend:
    """The spend of every job in ``ledger``, grouped by provider, model and day."""
    groups: dict[tuple[bool, str, str, str], list[Any]] = {}
    for row in ledger.spend_rows():
        cost = row_cost(row)
        day = time.strftime("%Y-%m-%d", time.localtime(row["created_at"]))
        key = (emulated_route(row["route"]), row["provider"], row["tier"] or row["model_id"], day)
        acc = groups.setdefault(key, [0, 0.0, 0.0, 0])
        acc[0] += 1
        acc[1] += cost.usd or 0.0
        acc[2] += (cost.usd or 0.0) if cost.estimated else 0.0
        acc[3] += cost.usd is None
    rows = tuple(
        SpendRow(provider, model, day, n, usd, est, emu, unpriced)
        for (emu, provider, model, day), (n, usd, est, unpriced) in sorted(
            groups.items(), key=lambda kv: (kv[0][0], kv[0][3], kv[0][1], kv[0][2])
        )
    )
    # a workdir's file, or a team's ledger on a server (shown with its password masked)
    path = getattr(ledger, "path", None)
    return Spend(rows, budget_usd, emulated, str(path.parent) if path else ledger.where)


class Budget:
    """A client's cap on spend (``None``: no cap), checked before a job is claimed or sent."""

    def __init__(
        self, ledger: LedgerCore, route: str, emulated: bool, limit: float | None = None
    ) -> None:
        """``limit`` None: the ``SEEDANCE_BUDGET_USD`` of the environment, else no cap."""
        self.ledger = ledger
        self.route = route
        self.emulated = emulated
        self._limit = budget_value(limit) if limit is not None else default_budget()

    @property
    def limit(self) -> float | None:
        return self._limit

    @limit.setter
    def limit(self, value: float | str | None) -> None:
        self._limit = budget_value(value)

    def spend(self) -> Spend:
        return spend_of(self.ledger, budget_usd=self.limit, emulated=self.emulated)

    def check(self, requests: Sequence[VideoRequest], *, force: bool = False) -> None:
        """Refuse the whole batch (:class:`BudgetExceeded`) if what it would add takes spend
        past the cap. A request the ledger already has costs nothing (it is reused), unless
        ``force``; the same request twice in one batch is paid once."""
        if self.limit is None:
            return
        seen: set[str] = set()
        estimate, jobs, unpriced = 0.0, 0, []
        for request in requests:
            digest = request.digest(self.route)
            if not force and (digest in seen or self.ledger.find(self.route, digest)):
                continue
            seen.add(digest)
            jobs += 1
            cost = request.estimated_cost
            if cost is None:
                unpriced.append(request.tier or request.model_id)
            else:
                estimate += cost
        if not jobs:
            return  # every request is reused: nothing will be paid
        spent = self.spend().spent_usd
        if unpriced or spent + estimate > self.limit + 1e-9:
            raise BudgetExceeded(
                spent=spent,
                estimate=None if unpriced else estimate,
                budget=self.limit,
                jobs=jobs,
                emulated=self.emulated,
                unpriced=tuple(dict.fromkeys(unpriced)),
            )


class BudgetMethods:
    """The budget's face on a client (``AsyncClient`` mixes it in; ``Client`` mirrors it)."""

    _budget: Budget

    @property
    def budget_usd(self) -> float | None:
        """The cap on spend (None: none; the default is ``SEEDANCE_BUDGET_USD``)."""
        return self._budget.limit

    @budget_usd.setter
    def budget_usd(self, value: float | None) -> None:
        self._budget.limit = value

    def check_budget(self, requests: Sequence[VideoRequest], *, force: bool = False) -> None:
        """Refuse a batch whose estimate (its requests the ledger does not have yet) would
        take spend past the budget: :class:`~seedance_nb.BudgetExceeded`, before any network."""
        self._budget.check(requests, force=force)

    def spend(self) -> Spend:
        """The workdir's spend by provider, model and day, from the ledger."""
        return self._budget.spend()


__all__ = [
    "Budget",
    "BudgetMethods",
    "JobCost",
    "Spend",
    "SpendRow",
    "emulated_route",
    "row_cost",
    "spend_of",
]
