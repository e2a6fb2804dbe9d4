"""What every emulated dialect shares: tasks, lifecycle, renders, media, signed file URLs.

A dialect module turns its wire format into :meth:`Service.create_task` calls and renders
:class:`~.store.TaskRecord` objects back into its own JSON; everything stateful is here.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import ipaddress
import logging
import math
import queue
import re
import secrets
import threading
import time
import unicodedata
import urllib.parse
import urllib.request
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .. import catalog
from .faults import TASK_TRIGGERS, FaultPlan, callback_bodies
from .store import Store, TaskRecord

log = logging.getLogger("seedance_nb.emulator")

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
TERMINAL = frozenset({"succeeded", "failed", "expired", "cancelled"})
CallbackBody = Callable[[TaskRecord], dict[str, Any]]
MAX_FETCH_BYTES = catalog.REQUEST_MAX_BYTES


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
    return re.sub(r"\s{2,}", " ", TRIGGER_RE.sub("", text or "")).strip()


class MediaError(ValueError):
    """A medium the request names cannot be used (bad data: URL, unknown asset, ...)."""


@dataclass
class MediaInput:
    """A request medium resolved for rendering: a stored blob, or a placeholder note."""

    kind: str
    role: str
    label: str
    blob: str | None = None
    note: str = ""
    size: tuple[int, int] | None = None  # pixels, images/videos we could read

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "label": self.label, "blob": self.blob, "note": self.note}


@dataclass
class ServiceConfig:
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
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._inflight: set[str] = set()
        self._inflight_lock = threading.Lock()
        self._stopped = threading.Event()
        self._workers = [
            threading.Thread(target=self._work, name=f"seedance-emulator-render-{i}", daemon=True)
            for i in range(workers)
        ]
        for t in self._workers:
            t.start()
        for task in self.store.pending_renders():  # resume renders a previous process left
            self.schedule_render(task.id)
        self._callback_bodies: dict[str, CallbackBody] = {}
        self._watch: set[str] = {
            t.id
            for t in self.store.query(since=time.time() - 3 * 86400)
            if t.fields.get("callback_url") and t.fields.get("notified") not in TERMINAL
        }
        self._watch_lock = threading.Lock()
        self._notifier = threading.Thread(
            target=self._notify_loop, daemon=True, name="seedance-emulator-callbacks"
        )
        self._notifier.start()

    def close(self, timeout: float = 5.0) -> None:
        self._stopped.set()
        for _ in self._workers:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for t in [*self._workers, self._notifier]:
            t.join(max(0.0, deadline - time.monotonic()))
        self.store.close()

    # ----------------------------------------------------------------------------- stats

    def count(self, counter: str, key: str, n: int = 1) -> None:
        with self._stats_lock:
            getattr(self, counter)[key] += n

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
                "renders_in_flight": len(self._inflight),
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
            with self._watch_lock:
                self._watch.add(task.id)
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
        self._callback_bodies[dialect] = make_body

    def _notify_loop(self) -> None:
        """POST the task body to its callback URL on each status change (loopback only: we
        are offline; other hosts are recorded as skipped). Polling stays the source of truth."""
        while not self._stopped.wait(0.2):
            with self._watch_lock:
                ids = list(self._watch)
            for task_id in ids:
                try:
                    self._notify_one(task_id)
                except Exception:
                    if self._stopped.is_set():
                        return
                    log.debug("callback for %s failed", task_id, exc_info=True)

    def _notify_one(self, task_id: str) -> None:
        task = self.store.get(task_id)
        make_body = self._callback_bodies.get(task.dialect) if task else None
        if task is None or make_body is None:
            with self._watch_lock:
                self._watch.discard(task_id)
            return
        status = task.status()
        if status == task.fields.get("notified"):
            return
        url = str(task.fields["callback_url"])
        host = urllib.parse.urlsplit(url).hostname or ""
        if is_loopback(host):
            plan = self.faults
            skip = () if status in TERMINAL else ("callback-reorder",)
            fault = plan.draw("callback", skip) if plan is not None else None
            if fault == "callback-drop":
                self.count("callbacks", "dropped by fault")
            for data in callback_bodies(fault, task, make_body):
                self.count("callbacks", "delivered" if post_callback(url, data) else "failed")
        else:
            self.count("callbacks", "skipped (not loopback)")
        self.store.update(task_id, fields={**task.fields, "notified": status})
        if status in TERMINAL:
            with self._watch_lock:
                self._watch.discard(task_id)

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; False if the service is stopping (a held request gives up)."""
        return not self._stopped.wait(seconds)

    # ----------------------------------------------------------------------------- renders

    def schedule_render(self, task_id: str) -> None:
        with self._inflight_lock:
            if task_id in self._inflight or self._stopped.is_set():
                return
            self._inflight.add(task_id)
        self._queue.put(task_id)

    def _work(self) -> None:
        while True:
            task_id = self._queue.get()
            if task_id is None:
                return
            try:
                self._render_one(task_id)
            except Exception as exc:  # the store may be closed during shutdown
                if not self._stopped.is_set():
                    log.exception("render of %s failed", task_id)
                    self.count("renders", "failed")
                    try:
                        self.store.update(
                            task_id,
                            render_error=f"{type(exc).__name__}: {exc}",
                            render_done_at=time.time(),
                        )
                    except Exception:
                        pass
            finally:
                with self._inflight_lock:
                    self._inflight.discard(task_id)

    def _render_one(self, task_id: str) -> None:
        task = self.store.get(task_id)
        if task is None or task.render_spec is None or task.render_done_at is not None:
            return
        from . import render as r  # heavy (PyAV, numpy, Pillow): only in the worker

        spec_json = task.render_spec

        def media(m: dict[str, Any] | None) -> r.Media | None:
            if m is None:
                return None
            data = self.store.blob(m["blob"]) if m.get("blob") else None
            return r.Media(kind=m["kind"], label=m["label"], data=data, note=m.get("note", ""))

        spec = r.RenderSpec(
            prompt=spec_json["prompt"],
            width=spec_json["width"],
            height=spec_json["height"],
            frames=spec_json["frames"],
            fps=spec_json.get("fps", catalog.FPS),
            audio=bool(spec_json.get("audio")),
            header=spec_json.get("header", ""),
            seed=spec_json.get("seed"),
            first_frame=media(spec_json.get("first_frame")),
            last_frame=media(spec_json.get("last_frame")),
            refs=tuple(m for m in (media(x) for x in spec_json.get("refs", [])) if m),
            last_frame_png=bool(spec_json.get("last_frame_png")),
        )
        key = r.render_key(spec)
        result = r.render(spec, self.store.renders, key)
        with self._stats_lock:
            self.renders["cached" if result.seconds == 0 else "rendered"] += 1
            self.render_seconds += result.seconds
        if self._stopped.is_set():
            return
        self.store.update(task_id, render_key=key, render_done_at=time.time())

    def file_path(self, task: TaskRecord, name: str) -> Path | None:
        if task.render_key is None or task.render_done_at is None:
            return None
        if name == "video.mp4":
            path = self.store.renders / f"{task.render_key}.mp4"
        elif name == "last_frame.png" and (task.render_spec or {}).get("last_frame_png"):
            path = self.store.renders / f"{task.render_key}.png"
        else:
            return None
        return path if path.exists() else None

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
        asset_id = "asset-" + time.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(6)
        self.store.add_asset(asset_id, data, content_type, filename)
        return asset_id

    def resolve_media(self, url: Any, kind: str, role: str, label: str) -> MediaInput:
        """Make a request medium renderable: data: URLs and asset:// ids are decoded and kept;
        http(s) URLs are fetched only from loopback (we are offline); others become a chip."""
        if not isinstance(url, str) or not url.strip():
            raise MediaError(f"the {kind} url must be a non-empty string")
        url = url.strip()
        item = MediaInput(kind=kind, role=role, label=label)
        data: bytes | None = None
        if url.startswith("data:"):
            data = decode_data_url(url, kind)
        elif url.startswith("asset://"):
            asset = self.store.asset(url[len("asset://") :])
            if asset is None:
                raise MediaError(f"asset {url!r} does not exist")
            data = self.store.blob(asset["sha256"])
        elif url.startswith(("http://", "https://")):
            problem = url_problem(url)
            if problem is not None:
                raise MediaError(f"the {kind} url is malformed: {problem}")
            host = urllib.parse.urlsplit(url).hostname or ""
            if is_loopback(host):
                data = fetch_loopback(url)
            else:
                item.note = host
        else:
            raise MediaError(f"unsupported {kind} url scheme (use https://, data: or asset://)")
        if data is not None:
            item.blob = self.store.put_blob(data)
            if kind in ("image", "video"):
                from . import render as r

                item.size = r.image_size(data) if kind == "image" else r.video_size(data)
                if kind == "image" and item.size is None:
                    raise MediaError("the image could not be decoded")
        return item


def decode_data_url(url: str, kind: str) -> bytes:
    head, sep, payload = url.partition(",")
    if not sep:
        raise MediaError("malformed data: URL")
    mime = head[5:].split(";")[0].strip().lower()
    if mime and not mime.startswith(kind + "/"):
        raise MediaError(f"data: URL has media type {mime!r}, expected {kind}/*")
    if ";base64" in head.lower():
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise MediaError("data: URL is not valid base64") from exc
    return urllib.parse.unquote_to_bytes(payload)


def url_problem(url: str) -> str | None:
    """Why no server could fetch this http(s) URL (None if it is well formed).

    The providers refuse such a URL with a 400 rather than crash on it, so the emulator does
    too: whitespace or control characters, a netloc ``urlsplit`` cannot parse (an unclosed
    IPv6 bracket raises ``ValueError``), no host, text after an IPv6 host's ``]``, a port
    outside 1-65535. Kept apart from the client's own check: the emulator is a witness."""
    for ch in url:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            names = {" ": "a space", "\n": "a line break", "\r": "a line break", "\t": "a tab"}
            return f"it contains {names.get(ch, repr(ch))}"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return str(exc)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url[len(scheme) :].startswith("://"):
        return "it is not an http(s) URL"
    hostport = parts.netloc.rpartition("@")[2]
    if not parts.hostname:
        return "it has no host"
    if hostport.startswith("["):
        try:
            ipaddress.IPv6Address(parts.hostname.replace("%25", "%"))
        except ValueError:
            return f"[{parts.hostname}] is not an IPv6 address"
        after = hostport[hostport.index("]") + 1 :]
        if after and not after.startswith(":"):
            return "text follows the IPv6 host"
    elif ":" in hostport.partition(":")[2]:
        return "an IPv6 host must be in brackets"
    if port == 0:
        return "port 0 is not a port"
    return None


def post_callback(url: str, data: bytes) -> bool:
    """POST one callback body; Ark retries an unacknowledged callback 3 times."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    for _attempt in range(3):
        req = urllib.request.Request(
            url, data=data, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with opener.open(req, timeout=5) as resp:
                if 200 <= resp.status < 300:
                    return True
        except Exception:
            pass
    return False


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def fetch_loopback(url: str) -> bytes | None:
    """Fetch a loopback URL (a local file server, or this emulator); None if it fails."""
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=5) as resp:
            return resp.read(MAX_FETCH_BYTES + 1)[:MAX_FETCH_BYTES]
    except Exception:
        return None
