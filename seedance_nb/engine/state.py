"""What the engine's parts share: the ledger, HTTP, the dialect, the loop and the live jobs.

Each part (creator, scheduler, downloader) is handed this object instead of reaching into
:class:`~seedance_nb.engine.client.AsyncClient`; it also keeps the recovery clock, which every
part starts on a fault and stops when the broken step succeeds.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from ..catalog import Provider
from ..providers.base import Dialect
from ..request import VideoRequest
from .http import ProviderHTTP
from .job import Job
from .ledger_core import LedgerCore
from .settings import Settings

if TYPE_CHECKING:
    from .pacing import PollPolicy


class EngineState:
    """The engine's shared state: one per :class:`AsyncClient`, alive as long as it is."""

    def __init__(
        self,
        client: Any,
        settings: Settings,
        dialect: Dialect,
        ledger: LedgerCore,
        poll: PollPolicy,
        owner: str,
        *,
        request_timeout: float,
        max_download_bytes: int,
    ) -> None:
        self.client = client  # the AsyncClient a Job reports as its own
        self.settings = settings
        self.dialect = dialect
        self.ledger = ledger
        self.poll = poll
        self.owner = owner
        self.request_timeout = request_timeout  # also how long an unanswered create stays in doubt
        self.max_download_bytes = max_download_bytes
        self.loop: asyncio.AbstractEventLoop | None = None
        self.http: ProviderHTTP | None = None
        self.files: httpx.AsyncClient | None = None
        self.jobs: dict[str, Job] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.creating: set[str] = set()  # jobs whose create or reconcile runs in this client
        self.downloading: set[str] = set()
        self.closed = False
        self.status_requests = 0
        self.callbacks_received = 0
        # (job id, step, seconds) from a fault the client saw to the broken step succeeding
        self.recoveries: list[tuple[str, str, float]] = []
        self.faulted: dict[str, tuple[str, float]] = {}  # job id → (step, monotonic time seen)

    @property
    def provider(self) -> Provider:
        return self.settings.provider

    @property
    def route(self) -> str:
        return self.settings.route

    @property
    def workdir(self) -> Path:
        return self.settings.workdir

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` on the running loop, kept until done and cancelled on close."""
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    def update(self, job: Job, **fields: Any) -> None:
        """Write ``fields`` to the job's ledger row and show the new row on the job."""
        job.refresh(self.ledger.update(job.id, **fields))

    def job_from_row(self, row: dict[str, Any]) -> Job:
        """The one live :class:`Job` of a ledger row (made on first sight, refreshed after)."""
        job = self.jobs.get(row["id"])
        if job is None:
            request = VideoRequest.model_validate(json.loads(row["request_json"]))
            job = Job(self.client, row, request)
            self.jobs[row["id"]] = job
        elif row != job.row:
            job.refresh(row)
        return job

    def fault_seen(self, job: Job, step: str) -> None:
        """Start the recovery clock of ``job`` (unless a fault already started it)."""
        self.faulted.setdefault(job.id, (step, time.monotonic()))

    def recovered(self, job: Job) -> None:
        """The step a fault broke has succeeded: record how long that took."""
        seen = self.faulted.pop(job.id, None)
        if seen is not None:
            self.recoveries.append((job.id, seen[0], time.monotonic() - seen[1]))

    def forget_fault(self, job: Job) -> None:
        """The job settled without the broken step succeeding: no recovery to count."""
        self.faulted.pop(job.id, None)
