"""What every emulated dialect shares: tasks, their lifecycle, auth, rate limit, signed URLs.

The parts live beside it: ``renders`` (the render workers), ``callbacks`` (status POSTs),
``media`` (request URLs made renderable); their public names are re-exported here.

A dialect module turns its wire format into :meth:`Service.create_task` calls and renders
:class:`~.store.TaskRecord` objects back into its own JSON; everything stateful is here.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
import urllib.parse
from collections import Counter, deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .callbacks import TERMINAL, CallbackBody, CallbackNotifier, post_callback
from .faults import TASK_TRIGGERS, FaultPlan
from .media import (
    MAX_FETCH_BYTES,
    MediaError,
    MediaInput,
    decode_data_url,
    fetch_loopback,
    is_loopback,
    resolve_media,
    url_problem,
)
from .renders import RenderWorkers
from .store import Store, TaskRecord

__all__ = [
    "FILE_NAMES",
    "MAX_FETCH_BYTES",
    "OUTCOMES",
    "TERMINAL",
    "TRIGGERS",
    "CallbackBody",
    "MediaError",
    "MediaInput",
    "Service",
    "ServiceConfig",
    "decode_data_url",
    "fetch_loopback",
    "is_loopback",
    "jitter_factor",
    "post_callback",
    "strip_triggers",
    "triggers",
    "url_problem",
]

TRIGGER_RE = re.compile(r"\[\[\s*([a-z][a-z-]*)\s*\]\]", re.IGNORECASE)
TRIGGERS = {
    "moderation": "the task runs, then ends failed with OutputVideoSensitiveContentDetected",
    "input-moderation": "the create is refused at once: 400 InputTextSensitiveContentDetected",
    "expire": "the task leaves the queue as expired",
    "slow": "the running phase lasts 5x longer",
    "fail": "the task runs, then ends failed with InternalServiceError",
}
# outcome-deciding triggers, in priority order → (outcome, error code, message)
OUTCOMES: dict[str, tuple[str, str | None, str | None]] = {
    "moderation": (
        "failed",
        "OutputVideoSensitiveContentDetected",
        "The request failed because the output video may contain sensitive information.",
    ),
    "fail": (
        "failed",
        "InternalServiceError",
        "The service encountered an unexpected internal error.",
    ),
    "expire": (
        "expired",
        "TaskExpired",
        "The task was not run within execution_expires_after and has expired.",
    ),
}
FILE_NAMES = {"video.mp4": "video/mp4", "last_frame.png": "image/png"}


def triggers(text: str) -> set[str]:
    """The ``[[trigger]]`` markers in a prompt (see the package docstring)."""
    return {m.group(1).lower() for m in TRIGGER_RE.finditer(text or "")}


def jitter_factor(prompt: str, jitter: float) -> float:
    """A running-time factor in ``[1 - jitter, 1 + jitter]``, fixed per prompt: real renders
    vary, and tasks that all take the same time would finish in lockstep with any poller
    that started with them (its fixed interval would always land at the same phase)."""
    if jitter <= 0:
        return 1.0
    draw = int.from_bytes(hashlib.sha256(prompt.encode()).digest()[:8], "big") / 2**64
    return 1.0 + jitter * (2.0 * draw - 1.0)


def strip_triggers(text: str) -> str:
    """The prompt without its ``[[trigger]]`` markers (what the render shows)."""
    return re.sub(r"\s{2,}", " ", TRIGGER_RE.sub("", text or "")).strip()


@dataclass
class ServiceConfig:
    """Timings and limits of one emulator (see ``Emulator``'s keyword arguments)."""

    queued_seconds: float = 1.0
    running_seconds: float = 2.0
    running_jitter: float = 0.0  # ± fraction of running_seconds, drawn per prompt
    url_ttl_seconds: float = 86400.0
    api_key: str | None = None
    rate_limit_rpm: int | None = None


class Service:
    """The emulator's state and workers; one per running :class:`~seedance_nb.emulator.Emulator`."""

    def __init__(self, state_dir: Path, config: ServiceConfig, workers: int = 2) -> None:
        self.config = config
        self.store = Store(state_dir)
        self.base_url = ""  # set by the server once bound
        self.faults: FaultPlan | None = None  # switched at runtime by Emulator.set_faults
        self._stats_lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.creates: Counter[str] = Counter()
        self.creates_by_provider: Counter[str] = Counter()
        self.responses: Counter[str] = Counter()
        self.renders: Counter[str] = Counter()
        self.callbacks: Counter[str] = Counter()
        self.render_seconds = 0.0
        self._rate: deque[float] = deque()
        self._rate_lock = threading.Lock()
        self._stopped = threading.Event()
        self._renders = RenderWorkers(
            self.store, self._stopped, self._rendered, self.count, workers
        )
        for task in self.store.pending_renders():  # resume renders a previous process left
            self.schedule_render(task.id)
        self._callbacks = CallbackNotifier(
            self.store, self._stopped, lambda: self.faults, self.count
        )

    def close(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        self._renders.stop()
        deadline = time.monotonic() + timeout
        for t in [*self._renders.threads, self._callbacks.thread]:
            t.join(max(0.0, deadline - time.monotonic()))
        self.store.close()

    # ----------------------------------------------------------------------------- stats

    def count(self, counter: str, key: str, n: int = 1) -> None:
        """Add ``n`` to one key of one of the counters ``stats`` reports."""
        with self._stats_lock:
            getattr(self, counter)[key] += n

    def _rendered(self, seconds: float) -> None:
        """A render finished (0 s: the cache had it)."""
        with self._stats_lock:
            self.renders["cached" if seconds == 0 else "rendered"] += 1
            self.render_seconds += seconds

    def stats(self) -> dict[str, Any]:
        with self._stats_lock:
            return {
                "requests": dict(self.requests),
                "responses": dict(self.responses),
                "creates": dict(self.creates),
                "creates_by_provider": dict(self.creates_by_provider),
                "tasks_created": sum(self.creates.values()),
                "renders": dict(self.renders),
                "callbacks": dict(self.callbacks),
                "render_seconds": round(self.render_seconds, 3),
                "renders_in_flight": self._renders.in_flight,
                "faults": self.faults.counts() if self.faults else {},
            }

    # ----------------------------------------------------------------------------- auth

    def check_bearer(self, authorization: str | None) -> Literal["ok", "missing", "invalid"]:
        """Ark's rule: a non-empty Bearer key; the configured key, if one was set."""
        value = (authorization or "").strip()
        scheme, _, token = value.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return "missing"
        want = self.config.api_key
        if want is not None and not hmac.compare_digest(token.encode(), want.encode()):
            return "invalid"
        return "ok"

    def rate_limited(self) -> int | None:
        """Seconds to wait if this create would exceed ``rate_limit_rpm``, else None."""
        rpm = self.config.rate_limit_rpm
        if not rpm:
            return None
        now = time.monotonic()
        with self._rate_lock:
            while self._rate and now - self._rate[0] >= 60.0:
                self._rate.popleft()
            if len(self._rate) >= rpm:
                return max(1, math.ceil(60.0 - (now - self._rate[0])))
            self._rate.append(now)
        return None

    # ----------------------------------------------------------------------------- tasks

    @staticmethod
    def new_id(prefix: str = "cgt-") -> str:
        return prefix + time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(4)

    def create_task(
        self,
        *,
        dialect: str,
        provider: str,
        model: str,
        prompt: str,
        render: dict[str, Any] | None,
        fields: dict[str, Any],
        expires_after: float | None = None,
        id_prefix: str = "cgt-",
        task_id: str | None = None,
    ) -> TaskRecord:
        """Store a task, honour the prompt's triggers and start its render at once.

        ``render`` is the JSON render spec (see :mod:`.render`: prompt, width, height, frames,
        audio, header, seed, first_frame/last_frame/refs as :meth:`MediaInput.as_json`,
        last_frame_png) or None for a task that never renders.
        """
        marks = triggers(prompt)
        queued, running = self.config.queued_seconds, self.config.running_seconds
        if "slow" in marks:
            running *= 5
        running *= jitter_factor(prompt, self.config.running_jitter)
        decided = next((mark for mark in OUTCOMES if mark in marks), None)
        plan = self.faults
        if decided is None and plan is not None:  # a prompt trigger wins over a task-* fault
            decided = TASK_TRIGGERS.get(plan.draw("task") or "")
        outcome, code, message = OUTCOMES.get(decided or "", ("succeeded", None, None))
        task = TaskRecord(
            id=task_id or self.new_id(id_prefix),
            dialect=dialect,
            provider=provider,
            model=model,
            created_at=time.time(),
            queued_s=queued,
            running_s=running,
            outcome=outcome,
            error_code=code,
            error_message=message,
            expires_after=expires_after,
            render_spec=render if outcome == "succeeded" else None,
            fields=fields,
        )
        self.store.insert(task)
        if fields.get("callback_url"):
            self._callbacks.watch(task.id)
        self.count("creates", dialect)
        self.count("creates_by_provider", provider)
        if task.render_spec is not None:
            self.schedule_render(task.id)
        return task

    def get(self, task_id: str) -> TaskRecord | None:
        task = self.store.get(task_id)
        if (
            task is not None
            and task.render_done_at is None
            and task.render_spec is not None
            and task.render_error is None
            and task.cancelled_at is None
        ):
            self.schedule_render(task.id)  # idempotent: covers a render lost to a crash
        return task

    def tasks(self, **query: Any) -> list[TaskRecord]:
        return self.store.query(**query)

    def cancel(self, task_id: str) -> None:
        self.store.update(task_id, cancelled_at=time.time())

    def delete(self, task_id: str) -> None:
        self.store.delete(task_id)

    # ----------------------------------------------------------------------------- callbacks

    def register_callback_body(self, dialect: str, make_body: CallbackBody) -> None:
        """How a dialect renders the body it POSTs to ``fields["callback_url"]``."""
        self._callbacks.register(dialect, make_body)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False if the service is stopping (a held request gives up)."""
        return not self._stopped.wait(seconds)

    # ----------------------------------------------------------------------------- renders

    def schedule_render(self, task_id: str) -> None:
        """Queue a task's render (idempotent while it is in flight)."""
        self._renders.schedule(task_id)

    def file_path(self, task: TaskRecord, name: str) -> Path | None:
        """A finished task's file on disk, or None (not rendered, not asked for, gone)."""
        return self._renders.file_path(task, name)

    # ----------------------------------------------------------------------------- signed URLs

    def _sign(self, task_id: str, name: str, expires: int) -> str:
        msg = f"{task_id}/{name}|{expires}".encode()
        return hmac.new(self.store.secret, msg, hashlib.sha256).hexdigest()

    def signed_url(self, base_url: str, task_id: str, name: str) -> str:
        """A fresh URL for a task's file, valid ``url_ttl_seconds`` (like Ark's TOS links)."""
        expires = math.ceil(time.time() + self.config.url_ttl_seconds)  # never shorter than the TTL
        q = urllib.parse.urlencode(
            {"expires": expires, "signature": self._sign(task_id, name, expires)}
        )
        return f"{base_url}/emulator/files/{urllib.parse.quote(task_id, safe='')}/{name}?{q}"

    def verify(
        self, task_id: str, name: str, expires: str | None, signature: str | None
    ) -> str | None:
        """None if the URL is good; else why not (for the 403 body)."""
        if not expires or not signature:
            return "Missing signature."
        try:
            exp = int(expires)
        except ValueError:
            return "Malformed expires."
        if not hmac.compare_digest(self._sign(task_id, name, exp), signature):
            return "Signature does not match."
        if time.time() > exp:
            return "Request has expired."
        return None

    # ----------------------------------------------------------------------------- media

    def add_asset(self, data: bytes, content_type: str, filename: str | None) -> str:
        """Store an uploaded asset; its id is what ``asset://`` URLs name."""
        asset_id = "asset-" + time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(6)
        self.store.add_asset(asset_id, data, content_type, filename)
        return asset_id

    def resolve_media(self, url: Any, kind: str, role: str, label: str) -> MediaInput:
        """Make a request medium renderable (see ``media.resolve_media``)."""
        return resolve_media(self.store, url, kind, role, label)
