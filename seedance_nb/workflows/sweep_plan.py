"""A sweep's plan: every combination of its axes, validated, priced and checked for reuse
before anything is sent.

``plan_sweep(client, "A {animal} at dawn", animal=["fox", "owl"], seed=[1, 2, 3])``: a
parameter given as a list is an axis, a scalar is fixed, and ``{name}`` placeholders in the
prompt are filled from either (``{{`` and ``}}`` write a literal brace). A name that is
neither a request parameter (:data:`~seedance_nb.request.schema.PARAMS`) nor a placeholder is
refused. For ``images``/``videos``/``audios`` (already lists) an axis is a list of lists; for
``options`` a list of dicts. Every combination goes through ``client.validate`` (the same
checks as a submit), so a refusal names the axis values that caused it and nothing is sent.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidRequest
from ..request import VideoRequest, schema

_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SHOWN_REFUSALS = 3


def placeholders(prompt: str) -> list[str]:
    """The ``{name}`` placeholders of ``prompt``, in order, each once."""
    return list(dict.fromkeys(m.group(1) for m in _PLACEHOLDER.finditer(prompt) if m.group(1)))


def fill(prompt: str, values: dict[str, Any]) -> str:
    """``prompt`` with each ``{name}`` replaced by ``values[name]`` (``{{``/``}}``: a brace)."""

    def one(m: re.Match[str]) -> str:
        if m.group(1) is None:
            return m.group(0)[0]
        return str(values[m.group(1)])

    return _PLACEHOLDER.sub(one, prompt)


def shown(value: Any) -> str:
    """A value as a label shows it: strings bare, media by name, bytes by size."""
    if isinstance(value, str):
        return value
    if isinstance(value, Path):
        return value.name
    if isinstance(value, bytes | bytearray):
        return f"<{len(value):,} bytes>"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(shown(v) for v in value) + "]"
    if hasattr(value, "size") and hasattr(value, "mode"):  # a PIL image
        return f"<image {value.size[0]}×{value.size[1]}>"
    return repr(value)


@dataclass(frozen=True)
class Combo:
    """One combination: its axis values, and the prompt and keywords of its request."""

    index: int
    values: dict[str, Any]  # axis name → value, in axis order
    positions: tuple[int, ...]  # each axis value's index on its axis
    prompt: str
    params: dict[str, Any]

    def label(self, sep: str = " · ") -> str:
        return sep.join(f"{k}={shown(v)}" for k, v in self.values.items())


@dataclass(frozen=True)
class Expansion:
    """The combinations of a sweep, before validation (pure: no client needed)."""

    prompt: str
    axes: dict[str, list[Any]]
    fixed: dict[str, Any]
    combos: list[Combo]


def _is_axis(name: str, value: Any) -> bool:
    """A list is an axis, except where the parameter itself takes a list (media lists): there
    an axis is a list of lists."""
    param = schema.BY_NAME.get(name)
    if param is not None and param.kind == "media_list":
        return (
            isinstance(value, list)
            and bool(value)
            and all(isinstance(v, list | tuple) for v in value)
        )
    if param is not None and param.kind == "mapping":
        return isinstance(value, list)
    return isinstance(value, list | tuple | range)


# the columns rows() adds after the axis values; a placeholder axis may not take their names
RESULT_KEYS = frozenset(
    "status job_id reused wall_s tokens estimated_tokens estimated_cost_usd cost_usd seed "
    "video_path error".split()
)


def _check_names(prompt: str, params: dict[str, Any], template: bool) -> list[str]:
    """Every name is a request parameter or a placeholder, and every placeholder has a value."""
    holes = placeholders(prompt) if template else []
    for name in params:
        if name not in schema.BY_NAME and name not in holes:
            where = (
                "the prompt's placeholders are " + ", ".join(f"{{{h}}}" for h in holes)
                if holes
                else "the prompt has no {placeholder}"
            )
            raise InvalidRequest(
                f"sweep: {name!r} is neither a request parameter nor a {{placeholder}} in the "
                f"prompt ({where}); request parameters are {', '.join(schema.NAMES)}",
                field=name,
                value=params[name],
            )
    for name in holes:
        if name in RESULT_KEYS and name not in schema.BY_NAME:
            raise InvalidRequest(
                f"sweep: the placeholder {{{name}}} would hide the results column {name!r} in "
                "rows() and the table; call it something else",
                field=name,
            )
    missing = [h for h in holes if h not in params]
    if missing:
        raise InvalidRequest(
            f"sweep: the prompt's {{{missing[0]}}} has no value: pass {missing[0]}=[…] (an axis) "
            f"or {missing[0]}='…' (fixed); write {{{{ and }}}} for a literal brace",
            field=missing[0],
        )
    return holes


def expand(prompt: str, params: dict[str, Any], *, template: bool = True) -> Expansion:
    """Every combination of the axes (the first axis varies slowest). ``template=False`` sends
    the prompt verbatim (no placeholders), as ``compare`` does."""
    holes = _check_names(prompt, params, template)
    axes = {k: list(v) for k, v in params.items() if _is_axis(k, v)}
    fixed = {k: v for k, v in params.items() if k not in axes}
    for name, values in axes.items():
        if not values:
            raise InvalidRequest(f"sweep: the axis {name} has no values", field=name, value=[])
    combos: list[Combo] = []
    ranges = [range(len(v)) for v in axes.values()]
    for i, positions in enumerate(itertools.product(*ranges)):
        values = {a: axes[a][p] for a, p in zip(axes, positions, strict=True)}
        merged = {**fixed, **values}
        request_params = {k: v for k, v in merged.items() if k in schema.BY_NAME}
        text = fill(prompt, merged) if holes else prompt
        combos.append(Combo(i, values, tuple(positions), text, request_params))
    return Expansion(prompt, axes, fixed, combos)


class SweepInvalid(InvalidRequest):
    """Some combinations of a sweep are refused; nothing was sent. ``refusals`` pairs each
    refused combination with its error; ``cause`` is the first error."""

    def __init__(self, refusals: list[tuple[Combo, InvalidRequest]], total: int) -> None:
        self.refusals = refusals
        combo, cause = refusals[0]
        self.combo = combo
        self.cause = cause
        if len(refusals) == 1:
            head = f"sweep: the combination {combo.label()} is refused; nothing was sent: "
            text = head + str(cause)
        else:
            lines = [f"  {c.label()}: {e}" for c, e in refusals[:_SHOWN_REFUSALS]]
            if len(refusals) > _SHOWN_REFUSALS:
                lines.append(f"  … and {len(refusals) - _SHOWN_REFUSALS} more")
            text = (
                f"sweep: {len(refusals)} of {total} combinations are refused; nothing was sent:\n"
            )
            text += "\n".join(lines)
        super().__init__(
            text,
            field=cause.field,
            value=cause.value,
            allowed=cause.allowed,
            model=cause.model,
            provider=cause.provider,
        )


def validated_requests(client: Any, combos: Sequence[Combo]) -> list[VideoRequest]:
    """Every combination's request, checked as a submit checks it, before anything is sent;
    the refused ones raise :class:`SweepInvalid` together, each named by its axis values."""
    requests: list[VideoRequest] = []
    refusals: list[tuple[Combo, InvalidRequest]] = []
    for combo in combos:
        try:
            requests.append(client.validate(combo.prompt, **combo.params))
        except InvalidRequest as exc:
            refusals.append((combo, exc))
    if refusals:
        raise SweepInvalid(refusals, len(combos))
    return requests


@dataclass(frozen=True)
class PlannedJob:
    """One combination as it will run: its request, and whether a submit would reuse a job
    (from the ledger, or an earlier combination of the same sweep with the same request)."""

    combo: Combo
    request: VideoRequest
    reused: str | None = None  # the ledger's job id
    same_as: int | None = None  # the index of an earlier identical combination

    @property
    def new(self) -> bool:
        """Whether this job is sent (and paid for)."""
        return self.reused is None and self.same_as is None

    @property
    def tokens(self) -> int:
        return self.request.estimated_tokens

    @property
    def cost(self) -> float | None:
        return self.request.estimated_cost


@dataclass(frozen=True)
class Tally:
    """Jobs, new jobs, and the estimated tokens and cost of the new ones."""

    jobs: int = 0
    new: int = 0
    tokens: int = 0
    cost: float = 0.0
    unpriced: int = 0  # new jobs whose tier has no catalog price

    def add(self, job: PlannedJob) -> Tally:
        if not job.new:
            return Tally(self.jobs + 1, self.new, self.tokens, self.cost, self.unpriced)
        cost = job.cost
        return Tally(
            self.jobs + 1,
            self.new + 1,
            self.tokens + job.tokens,
            self.cost + (cost or 0.0),
            self.unpriced + (cost is None),
        )

    @property
    def reused(self) -> int:
        return self.jobs - self.new


@dataclass(frozen=True)
class SweepPlan:
    """A validated sweep: what will be sent, what is reused, and what it should cost."""

    expansion: Expansion
    jobs: list[PlannedJob]
    provider: str
    emulated: bool
    force: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def axes(self) -> dict[str, list[Any]]:
        return self.expansion.axes

    @property
    def combos(self) -> list[Combo]:
        return self.expansion.combos

    @property
    def requests(self) -> list[VideoRequest]:
        """Every validated request of the plan, one per combination."""
        return [j.request for j in self.jobs]

    def total(self) -> Tally:
        tally = Tally()
        for job in self.jobs:
            tally = tally.add(job)
        return tally

    def by_axis(self) -> dict[str, list[tuple[Any, Tally]]]:
        """For each axis value, the tally of the jobs that have it."""
        out: dict[str, list[tuple[Any, Tally]]] = {}
        for i, (name, values) in enumerate(self.axes.items()):
            tallies = [Tally() for _ in values]
            for job in self.jobs:
                p = job.combo.positions[i]
                tallies[p] = tallies[p].add(job)
            out[name] = list(zip(values, tallies, strict=True))
        return out

    def headline(self) -> str:
        """``6 jobs (animal × seed: 2 × 3) · 2 reused · 4 to send ≈ 160,704 tokens ≈ $0.90
        estimated``."""
        t = self.total()
        shape = " × ".join(str(len(v)) for v in self.axes.values()) or "1"
        names = " × ".join(self.axes) or "no axis"
        parts = [f"{t.jobs} job{'s' * (t.jobs != 1)} ({names}: {shape})"]
        if t.reused:
            parts.append(f"{t.reused} reused (nothing charged)")
        if t.new:
            parts.append(f"{t.new} to send ≈ {t.tokens:,} tokens ≈ {cost_text(t)} estimated")
        else:
            parts.append("nothing to send")
        return " · ".join(parts)

    def text(self) -> str:
        """The plan as plain text: the headline, then a line per axis value."""
        lines = [f"sweep plan · {self.headline()}"]
        for name, values in self.by_axis().items():
            for value, t in values:
                lines.append(
                    f"  {name}={shown(value)}: {t.jobs} job{'s' * (t.jobs != 1)}, {t.new} new"
                    f" ≈ {t.tokens:,} tokens ≈ {cost_text(t)}"
                )
        if self.emulated:
            lines.append("  (offline emulator: nothing is charged; costs are what it would cost)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<SweepPlan {self.headline()}>"


def cost_text(t: Tally) -> str:
    """Dollars to the cent; a tier without a catalog price says so."""
    if t.new and t.unpriced == t.new:
        return "(no catalog price)"
    usd = round(t.cost, 4)
    text = "<$0.01" if 0 < usd < 0.005 else f"${usd:,.2f}"
    return text + (" + unpriced tiers" if t.unpriced else "")


def _reuse(client: Any, requests: list[VideoRequest], force: bool) -> list[tuple[Any, Any]]:
    """(ledger job id, earlier identical combination) for each request; nothing with force."""
    if force:
        return [(None, None)] * len(requests)
    seen: dict[str, int] = {}
    out: list[tuple[Any, Any]] = []
    for i, request in enumerate(requests):
        digest = request.digest(client.route)
        existing = client.existing(request)
        earlier = seen.get(digest) if existing is None else None
        seen.setdefault(digest, i)
        out.append((existing, earlier))
    return out


def plan_sweep(
    client: Any, prompt: str, *, force: bool = False, template: bool = True, **params: Any
) -> SweepPlan:
    """Expand, validate every combination and look each up in the ledger; nothing is sent.

    ``client`` is an :class:`~seedance_nb.AsyncClient` (or anything with its ``validate``,
    ``existing``, ``route``, ``provider_name`` and ``emulated``).
    """
    expansion = expand(prompt, params, template=template)
    requests = validated_requests(client, expansion.combos)
    # Every request of the sweep is known here, before any submit: the place for a check
    # across all of them (the budget pre-check: client.check_budget(requests)).
    jobs = [
        PlannedJob(combo, request, reused, same_as)
        for combo, request, (reused, same_as) in zip(
            expansion.combos, requests, _reuse(client, requests, force), strict=True
        )
    ]
    return SweepPlan(expansion, jobs, client.provider_name, bool(client.emulated), force)
