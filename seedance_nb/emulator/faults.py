"""A switchable fault plan: the emulator misbehaves on purpose, by name, rate and count.

Clients must survive lost answers, throttling, garbage bodies, cut downloads and odd callbacks;
a :class:`FaultPlan` makes the emulator produce each one on demand and reproducibly (seeded).
The server asks :meth:`FaultPlan.effect` once per eligible request and acts on the
:class:`Effect`; the service asks :meth:`FaultPlan.draw` for ``task-*`` at create and for
``callback-*`` per callback. The grammar is in the package docstring.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .http_types import Response, json_response

if TYPE_CHECKING:
    from .store import TaskRecord

__all__ = ["FAULTS", "OPTIONS", "Effect", "Fault", "FaultPlan", "to_plan"]

# A fault's phase is its name up to the first dash: create, status, download, callback, task.
FAULTS: dict[str, str] = {
    "create-5xx": "a create is answered 500 InternalServiceError before the task exists",
    "create-429": "a create is answered 429 with Retry-After before the task exists",
    "create-drop": "a create is handled (the task exists), then the connection closes unanswered",
    "create-timeout": "a create is handled, the answer withheld `stall` s, then the connection closes",
    "create-stall": "a create is held `stall` s before it is handled, then answered normally",
    "status-429": "a status read is answered 429 with Retry-After",
    "status-5xx": "a status read and the next `burst`-1 ones are answered 503",
    "status-garbage": "a status read is answered 200 with an HTML (non-JSON) body",
    "status-partial": "a status read is answered 200 with a JSON body missing every field ({})",
    "status-reset": "a status read's connection closes without a response",
    "status-huge": "a status read is answered 200 with a ~16 MB JSON body",
    "download-cut": "a file GET sends full headers and about half the bytes, then closes",
    "download-trickle": "a file GET sends its body at `trickle` bytes/second",
    "download-expired": "a file GET is answered 403 AccessDenied 'Request has expired.'",
    "download-redirect-file": "a file GET is answered 302 Location: file:///etc/passwd",
    "callback-drop": "a status callback is not sent",
    "callback-duplicate": "a status callback is sent twice",
    "callback-reorder": "a terminal callback is followed by a stale `running` one",
    "task-expired": "a created task ends expired (like [[expire]])",
    "task-moderated": "a created task ends failed OutputVideoSensitiveContentDetected "
    "(like [[moderation]])",
}
# option → (default, what it means); numbers only, validated by _check_option
OPTIONS: dict[str, tuple[float, str]] = {
    "seed": (0, "RNG seed (int): the same spec and seed fire the same sequence"),
    "retry-after": (1, "seconds in Retry-After of the 429 faults"),
    "stall": (5, "seconds create-timeout and create-stall hold a create"),
    "burst": (3, "consecutive status reads one status-5xx firing fails (int >= 1)"),
    "trickle": (262144, "bytes/second of download-trickle (int >= 1)"),
}
# task-* faults reuse the prompt triggers' outcomes (see service.OUTCOMES)
TASK_TRIGGERS = {"task-expired": "expire", "task-moderated": "moderation"}
HUGE_BYTES = 16 * 1024 * 1024
_ITEM_RE = re.compile(r"^([a-z0-9-]+)(?:@([^*]*))?(?:\*(.*))?$")


def phase_of(name: str) -> str:
    return name.partition("-")[0]


def _num(value: float) -> str:
    """A number as the spec writes it: ``1`` not ``1.0``, ``0.3`` not ``0.30000``."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _allowed(names: Iterable[str]) -> str:
    return "allowed: " + ", ".join(names)


@dataclass(frozen=True)
class Fault:
    """One plan item: fire ``name`` with probability ``rate``, at most ``count`` times."""

    name: str
    rate: float = 1.0
    count: int | None = None

    def __post_init__(self) -> None:
        if self.name not in FAULTS:
            raise ValueError(f"unknown fault {self.name!r} ({_allowed(FAULTS)})")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault {self.name!r}: rate {self.rate!r} is not in 0..1")
        if self.count is not None and self.count < 0:
            raise ValueError(f"fault {self.name!r}: count {self.count!r} is negative")

    def __str__(self) -> str:
        rate = "" if self.rate == 1.0 else f"@{_num(self.rate)}"
        count = "" if self.count is None else f"*{self.count}"
        return f"{self.name}{rate}{count}"

    @classmethod
    def parse(cls, item: str) -> Fault:
        """``name[@rate][*count]``."""
        m = _ITEM_RE.match(item.replace(" ", ""))
        if m is None or m.group(1) not in FAULTS:
            raise ValueError(f"unknown fault {item.strip()!r} ({_allowed(FAULTS)})")
        name, rate, count = m.groups()
        try:
            return cls(
                name, 1.0 if rate is None else float(rate), None if count is None else int(count)
            )
        except ValueError as exc:
            raise ValueError(
                f"bad fault item {item.strip()!r}: {exc} "
                "(write name[@rate][*count], rate 0..1, count an integer)"
            ) from None


def _check_option(key: str, value: float) -> float:
    if key not in OPTIONS:
        raise ValueError(f"unknown fault option {key!r} ({_allowed(OPTIONS)})")
    if not math.isfinite(value):
        raise ValueError(f"fault option {key}={value} is not a finite number")
    integral = key in ("seed", "burst", "trickle")
    if integral and not float(value).is_integer():
        raise ValueError(f"fault option {key}={_num(value)} must be an integer")
    low = {"seed": float("-inf"), "burst": 1, "trickle": 1}.get(key, 0)
    if value < low:
        raise ValueError(f"fault option {key}={_num(value)} must be >= {low}")
    return int(value) if integral else float(value)


@dataclass(frozen=True)
class Effect:
    """What the server does about one request under a fired fault (times in seconds)."""

    name: str = ""
    hold: float = 0.0  # wait this long before anything else
    handle: bool = True  # pass the request on to its dialect
    answer: Response | None = None  # send this instead of the real response
    hang_up: float | None = None  # close without a response, after waiting this long
    cut: bool = False  # file: send the headers and about half the bytes, then close
    bytes_per_second: int | None = None  # file: send the body this slowly


NO_FAULT = Effect()


class FaultPlan:
    """Which faults fire, how often and how many times; thread-safe and deterministic.

    Each fault draws from its own RNG seeded by ``(seed, name)``, so its firing sequence
    depends only on how many eligible events it saw, not on other faults' traffic.
    """

    def __init__(
        self,
        faults: Mapping[str, float] | Iterable[Fault | str] = (),
        *,
        seed: int = 0,
        retry_after: float = 1,
        stall: float = 5,
        burst: int = 3,
        trickle: int = 262144,
    ) -> None:
        if isinstance(faults, Mapping):
            items = [Fault(name, float(rate)) for name, rate in faults.items()]
        else:
            items = [f if isinstance(f, Fault) else Fault.parse(f) for f in faults]
        names = [f.name for f in items]
        if len(set(names)) != len(names):
            raise ValueError(f"a fault is listed twice in {', '.join(names)}")
        self.faults: tuple[Fault, ...] = tuple(items)
        given = {
            "seed": seed,
            "retry-after": retry_after,
            "stall": stall,
            "burst": burst,
            "trickle": trickle,
        }
        self.options = {key: _check_option(key, value) for key, value in given.items()}
        self.seed = int(self.options["seed"])
        self.retry_after = self.options["retry-after"]
        self.stall = self.options["stall"]
        self.burst = int(self.options["burst"])
        self.trickle = int(self.options["trickle"])
        self._lock = threading.Lock()
        self._rngs = {f.name: random.Random(f"{self.seed}:{f.name}") for f in items}
        self._fired = dict.fromkeys(names, 0)
        self._burst_left = 0

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """``name[@rate][*count],…[;key=value,…]`` → a plan; ValueError names the bad item."""
        items, _, opts = spec.partition(";")
        faults = [Fault.parse(item) for item in items.split(",") if item.strip()]
        options: dict[str, Any] = {}
        for opt in (o for o in opts.split(",") if o.strip()):
            key, sep, raw = (part.strip() for part in opt.partition("="))
            if not sep:
                raise ValueError(
                    f"fault option {opt.strip()!r} needs a value: write key=value "
                    f"({_allowed(OPTIONS)})"
                )
            if key not in OPTIONS:
                raise ValueError(f"unknown fault option {key!r} ({_allowed(OPTIONS)})")
            try:
                options[key.replace("-", "_")] = float(raw)
            except ValueError:
                raise ValueError(f"fault option {opt.strip()!r}: {raw!r} is not a number") from None
        return cls(faults, **options)

    def __str__(self) -> str:
        opts = [f"seed={self.seed}"] + [
            f"{key}={_num(value)}"
            for key, value in self.options.items()
            if key != "seed" and value != OPTIONS[key][0]
        ]
        return ",".join(map(str, self.faults)) + ";" + ",".join(opts)

    def __repr__(self) -> str:
        return f"FaultPlan.parse({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FaultPlan) and str(self) == str(other)

    __hash__ = None  # type: ignore[assignment]  # mutable counters

    def counts(self) -> dict[str, int]:
        """How many times each fault of the plan has fired so far."""
        with self._lock:
            return dict(self._fired)

    def draw(self, phase: str, skip: Collection[str] = ()) -> str | None:
        """The fault that fires for one eligible event of ``phase`` (counted), or None.

        Every fault of the phase rolls (so each keeps its own sequence); the first in plan
        order that hits and has firings left wins. A ``status-5xx`` firing also claims the
        next ``burst - 1`` status reads, counted once.
        """
        with self._lock:
            if phase == "status" and self._burst_left > 0:
                self._burst_left -= 1
                return "status-5xx"
            fired: str | None = None
            for f in self.faults:
                if phase_of(f.name) != phase or f.name in skip:
                    continue
                hit = self._rngs[f.name].random() < f.rate
                if hit and fired is None and (f.count is None or self._fired[f.name] < f.count):
                    fired = f.name
            if fired is not None:
                self._fired[fired] += 1
                if fired == "status-5xx":
                    self._burst_left = self.burst - 1
            return fired

    def effect(self, phase: str) -> Effect:
        """Draw for one request of ``phase`` and say what the server must do about it."""
        name = self.draw(phase)
        return NO_FAULT if name is None else self._effect_of(name)

    def _effect_of(self, name: str) -> Effect:
        def error(status: int, code: str, message: str, retry: bool = False) -> Response:
            body = {"error": {"code": code, "message": f"{message} (emulator fault {name})"}}
            return json_response(
                body, status, {"Retry-After": _num(self.retry_after)} if retry else None
            )

        answers: dict[str, Callable[[], Response]] = {
            "create-5xx": lambda: error(
                500, "InternalServiceError", "The service encountered an unexpected internal error."
            ),
            "create-429": lambda: error(
                429,
                "RateLimitExceeded.EndpointRPMExceeded",
                "The request rate exceeds the endpoint's RPM limit.",
                retry=True,
            ),
            "status-429": lambda: error(
                429,
                "RateLimitExceeded.EndpointRPMExceeded",
                "Too many status reads; retry later.",
                retry=True,
            ),
            "status-5xx": lambda: error(
                503, "ServiceUnavailable", "The service is temporarily unavailable."
            ),
            "status-garbage": lambda: Response(
                body=b"<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
            ),
            "status-partial": lambda: json_response({}),
            "status-huge": lambda: Response(body=_huge_json()),
            "download-expired": lambda: json_response(
                {"error": {"code": "AccessDenied", "message": "Request has expired."}}, 403
            ),
            "download-redirect-file": lambda: Response(
                status=302, content_type="text/plain", headers={"Location": "file:///etc/passwd"}
            ),
        }
        if name in answers:
            return Effect(name, handle=False, answer=answers[name]())
        return {
            "create-drop": Effect(name, hang_up=0.0),
            "create-timeout": Effect(name, hang_up=self.stall),
            "create-stall": Effect(name, hold=self.stall),
            "status-reset": Effect(name, handle=False, hang_up=0.0),
            "download-cut": Effect(name, cut=True),
            "download-trickle": Effect(name, bytes_per_second=self.trickle),
        }[name]


def _huge_json() -> bytes:
    """A well-formed JSON task of ~16 MB: only a size limit protects a client from it."""
    head = b'{"id":"cgt-huge","status":"running","padding":"'
    return head + b"x" * (HUGE_BYTES - len(head) - 2) + b'"}'


def to_plan(value: FaultPlan | str | None) -> FaultPlan | None:
    """A plan from a plan, a spec string or None; a blank spec means no plan."""
    if value is None or isinstance(value, FaultPlan):
        return value
    return FaultPlan.parse(value) if value.strip() else None


def request_phase(method: str, path: str, mounts: Iterable[str]) -> str | None:
    """``create`` or ``status`` for a request on a dialect mount, else None.

    Downloads are classified after dispatch (only a GET that is answered with a file is one).
    """
    if not any(path == prefix or path.startswith(prefix + "/") for prefix in mounts):
        return None
    if method == "POST" and not path.rstrip("/").endswith("/cancel"):
        return "create"
    if method in ("GET", "HEAD"):
        return "status"
    return None


def stale_running(task: TaskRecord) -> TaskRecord:
    """A copy of ``task`` as it read while still running (for callback-reorder)."""
    return dataclasses.replace(
        task,
        outcome="succeeded",
        cancelled_at=None,
        render_done_at=None,
        render_error=None,
        expires_after=None,
        queued_s=0.0,
    )


def callback_bodies(
    fault: str | None, task: TaskRecord, make_body: Callable[[TaskRecord], dict[str, Any]]
) -> list[bytes]:
    """The bodies to POST, in order, for one status change of ``task`` under ``fault``."""
    if fault == "callback-drop":
        return []
    body = json.dumps(make_body(task)).encode()
    if fault == "callback-duplicate":
        return [body, body]
    if fault == "callback-reorder":
        return [body, json.dumps(make_body(stale_running(task))).encode()]
    return [body]
