"""Callbacks: POST a task's body to its ``callback_url`` on each status change.

Ark POSTs the task object it serves on reads to the caller's callback URL whenever the status
changes and retries an unacknowledged callback; the emulator does the same from one thread,
loopback hosts only (it is offline; other hosts are counted as skipped). Polling stays the
source of truth, so a dropped callback never loses a task.
"""

from __future__ import annotations

import logging
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .faults import callback_bodies
from .media import is_loopback
from .store import Store, TaskRecord

if TYPE_CHECKING:
    from .faults import FaultPlan

log = logging.getLogger("seedance_nb.emulator")

TERMINAL = frozenset({"succeeded", "failed", "expired", "cancelled"})
TICK = 0.2  # the longest a watched task goes unlooked-at (a cancel is seen within it)
RENDER_TICK = 0.02  # while a finished task's render is still being written
CallbackBody = Callable[[TaskRecord], dict[str, Any]]


class CallbackNotifier:
    """Watches the tasks that have a callback URL and notifies each status once."""

    def __init__(
        self,
        store: Store,
        stopped: threading.Event,
        faults: Callable[[], FaultPlan | None],
        count: Callable[[str, str], None],
    ) -> None:
        self.store, self._stopped, self._faults, self._count = store, stopped, faults, count
        self._bodies: dict[str, CallbackBody] = {}
        # task id → when to look at it next: at its next status change (the times are known),
        # so a callback leaves as the status changes rather than at the next tick
        self._due: dict[str, float] = {
            t.id: 0.0
            for t in store.query(since=time.time() - 3 * 86400)
            if t.fields.get("callback_url") and t.fields.get("notified") not in TERMINAL
        }
        self._poke = threading.Event()
        self._lock = threading.Lock()
        self.thread = threading.Thread(
            target=self._loop, daemon=True, name="seedance-emulator-callbacks"
        )
        self.thread.start()

    def register(self, dialect: str, make_body: CallbackBody) -> None:
        """How a dialect renders the body it POSTs to ``fields["callback_url"]``."""
        self._bodies[dialect] = make_body

    def watch(self, task_id: str) -> None:
        """Start notifying a newly created task."""
        with self._lock:
            self._due[task_id] = 0.0
        self._poke.set()

    def _loop(self) -> None:
        while not self._stopped.is_set():
            now = time.time()
            with self._lock:
                ids = [task_id for task_id, at in self._due.items() if at <= now]
            for task_id in ids:
                try:
                    self._notify_one(task_id)
                except Exception:
                    if self._stopped.is_set():
                        return
                    log.debug("callback for %s failed", task_id, exc_info=True)
            with self._lock:
                soonest = min(self._due.values(), default=now + TICK)
            self._poke.wait(max(0.0, min(soonest - time.time(), TICK)))
            self._poke.clear()

    def _notify_one(self, task_id: str) -> None:
        task = self.store.get(task_id)
        make_body = self._bodies.get(task.dialect) if task else None
        if task is None or make_body is None:
            with self._lock:
                self._due.pop(task_id, None)
            return
        status = task.status()
        with self._lock:
            self._due[task_id] = _next_change(task, status)
        if status == task.fields.get("notified"):
            return
        url = str(task.fields["callback_url"])
        host = urllib.parse.urlsplit(url).hostname or ""
        if is_loopback(host):
            plan = self._faults()
            skip = () if status in TERMINAL else ("callback-reorder",)
            fault = plan.draw("callback", skip) if plan is not None else None
            if fault == "callback-drop":
                self._count("callbacks", "dropped by fault")
            for data in callback_bodies(fault, task, make_body):
                self._count("callbacks", "delivered" if post_callback(url, data) else "failed")
        else:
            self._count("callbacks", "skipped (not loopback)")
        self.store.update(task_id, fields={**task.fields, "notified": status})
        if status in TERMINAL:
            with self._lock:
                self._due.pop(task_id, None)


def _next_change(task: TaskRecord, status: str) -> float:
    """When ``task`` may read differently: its next scheduled change, or soon (a render being
    written, a cancel) — never later than a tick from now."""
    now = time.time()
    if status == "queued":
        at = task.running_at
    elif status == "running" and now < task.finish_at:
        at = task.finish_at
    else:
        at = now + RENDER_TICK  # past its running time, waiting for the render to be written
    return min(at, now + TICK)


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
