"""The async core: submit once, poll every job from one scheduler, download at once.

``AsyncClient`` runs on whatever event loop first uses it (in a notebook, the kernel's), so
polls never block the kernel. One scheduler task serves all in-flight jobs: batched status
reads where the provider has them (Ark's ``filter.task_ids``), adaptive intervals, and
``Retry-After``. A create is never retried blindly: if its fate is unknown the provider is
asked (reconcile) before anything is sent again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from .. import errors
from ..providers import dialect_for
from ..request import VideoRequest, build_request
from ..request.schema import check_names, params_of
from .assets import Asset, register_asset
from .budget import Budget, BudgetMethods
from .callbacks import CallbackReceiver
from .client_info import ClientInfo
from .creator import Creator
from .downloader import Downloader
from .http import ProviderHTTP
from .job import Job
from .leases import Leases, new_owner
from .ledger import open_ledger
from .ledger_url import LedgerURL
from .pacing import PollPolicy, default_policy
from .preview import preview_of
from .scheduler import Scheduler
from .settings import Settings, announce_emulator, choose_provider, resolve, workdir_path
from .state import EngineState
from .storage import Storing, open_store

log = logging.getLogger("seedance_nb")


def start_settings(
    provider: str | None,
    api_key: str | None,
    base_url: str | None,
    workdir: str | Path | None,
    ledger: str | Path | LedgerURL | None = None,
) -> Settings:
    """:func:`config.resolve`, starting the offline emulator first when it stands in: the engine
    owns that side effect (and its once-per-process notice), the settings layer only decides."""
    emulator_url = None
    choice = choose_provider(provider, api_key, base_url)
    if choice.emulated and base_url is None:
        from ..emulator import ensure_running

        emulator_url = ensure_running(workdir_path(workdir) / "emulator")
        announce_emulator(choice.provider)
    return resolve(provider, api_key, base_url, workdir, emulator_url=emulator_url, ledger=ledger)


class AsyncClient(ClientInfo, BudgetMethods):
    """Seedance client for ``async`` code; see :class:`seedance_nb.Client` for the sync twin."""

    def __init__(
        self,
        provider: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        workdir: str | Path | None = None,
        *,
        ledger: str | Path | LedgerURL | None = None,
        poll: PollPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_download_bytes: int = 4 * 1024**3,
        request_timeout: float = 30.0,
        budget_usd: float | None = None,
        storage: str | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        store = open_store(storage, storage_options)  # refused before any side effect
        settings = start_settings(provider, api_key, base_url, workdir, ledger)
        settings.workdir.mkdir(parents=True, exist_ok=True)
        self._settings: Settings = settings
        self.dialect = dialect_for(settings.provider)
        self.ledger = open_ledger(settings.ledger_at, background_checkpoints=True)
        self.poll = poll or default_policy(settings.emulated, settings.provider)
        self.owner = new_owner()
        self._http_client = http_client
        state = EngineState(
            self,
            settings,
            self.dialect,
            self.ledger,
            self.poll,
            self.owner,
            request_timeout=request_timeout,
            max_download_bytes=max_download_bytes,
        )
        self._state = state
        self._leases = Leases(self.ledger, self.owner)
        self._creator = Creator(state, self._leases, self.track)
        self._storing = Storing(state, self._leases, store)
        self._downloader = Downloader(state, self._leases, self.track, self._storing)
        self._scheduler = Scheduler(state, self._leases, self._creator, self._downloader)
        self._resumed = False
        self._receivers: list[CallbackReceiver] = []
        self._budget = Budget(self.ledger, settings.route, settings.emulated, budget_usd)

    def validate(self, prompt: Any, **params: Any) -> VideoRequest:
        """Check a request against the provider's limits; no network, no money."""
        return self._build(prompt, params, warn=False)[0]

    def existing(self, request: VideoRequest) -> str | None:
        """The id of the job a submit of ``request`` would reuse (nothing sent), else None."""
        return (self.ledger.find(self.route, request.digest(self.route)) or {}).get("id")

    def _build(
        self, prompt: Any, params: dict[str, Any], *, warn: bool
    ) -> tuple[VideoRequest, list[str]]:
        check_names(params)
        return build_request(self.provider, prompt, workdir=self.workdir, warn=warn, **params)

    def preview(self, prompt: Any, **params: Any) -> dict[str, Any]:
        """The exact create request that would be sent (data URLs shortened), and its estimate."""
        request, notes = self._build(prompt, params, warn=False)
        return preview_of(self, request, notes)

    # lifecycle ----------------------------------------------------------------------------
    async def resume(self) -> list[Job]:
        """Bind to the running loop and drive every unfinished job of this route again (left
        by an earlier process), and retry failed uploads to the object store (every call);
        returns the unfinished jobs this client now follows."""
        self._drive()
        return [job for job in self._state.jobs.values() if not job.done]

    def _drive(self) -> None:
        """What every call that sends or waits needs first: bound, open, the ledger's unfinished
        jobs driven (once), failed uploads retried; without listing every job (a submit among
        a thousand in flight stays cheap)."""
        self._open()
        if not self._resumed:
            self._resumed = True
            self._scheduler.resume_all()
        self._storing.retry_all()

    def _open(self) -> None:
        """Bind to the running loop (the first one that uses this client) and open HTTP."""
        state = self._state
        loop = asyncio.get_running_loop()
        if state.loop is not None and state.loop is not loop and not state.loop.is_closed():
            raise RuntimeError("an AsyncClient is bound to the event loop that first used it")
        state.loop = loop
        if state.http is None:
            s = self._settings
            state.http = ProviderHTTP(
                self.dialect,
                s.base_url,
                s.api_key,
                client=self._http_client,
                timeout=self.request_timeout,
            )
            state.files = httpx.AsyncClient(
                timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True, trust_env=False
            )

    async def aclose(self) -> None:
        state = self._state
        state.closed = True
        for receiver in self._receivers:
            await receiver.aclose()
        for task in list(state.tasks):
            task.cancel()
        poller = self._scheduler.stop()
        if poller is not None:
            state.tasks.add(poller)
        await asyncio.gather(*state.tasks, return_exceptions=True)
        self._storing.close()
        self._leases.release()
        if state.http is not None:
            await state.http.aclose()
        if state.files is not None:
            await state.files.aclose()
        self.ledger.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def jobs(self, limit: int = 50, offset: int = 0) -> list[Job]:
        """The ledger's history (all routes), newest first."""
        self._open()  # jobs listed here can be waited on; listing them resumes nothing
        return [self._state.job_from_row(r) for r in self.ledger.history(limit, offset)]

    async def get_job(self, job_id: str) -> Job:
        self._drive()
        row = self.ledger.get(job_id)
        if row is None:
            raise KeyError(f"no job {job_id!r} in {self.ledger.where}")
        return await self._storing.restore(self._state.job_from_row(row))

    async def submit(self, prompt: Any, *, force: bool = False, **params: Any) -> Job:
        """Validate, then create the task once; the same request returns the same job."""
        request, notes = self._build(prompt, params, warn=True)
        self.check_budget([request], force=force)  # no await from here to the claim
        self._drive()
        row, fresh = self.ledger.claim(
            route=self.route,
            request_hash=request.digest(self.route),
            provider=self.provider_name,
            tier=request.tier,
            model_id=request.model_id,
            prompt=request.prompt,
            request=request.model_dump(mode="json"),
            owner=self.owner,
            force=force,
        )
        job = self._state.job_from_row(row)
        job.request = request if fresh else job.request
        job.warnings = notes
        job.reused = not fresh
        if not fresh:
            log.info("same request as %s: not sent again", job.id)
            self.track(job)
            await self._storing.restore(job)  # a stored video whose local copy is gone
            return job
        await self._creator.submit(job)
        return job

    async def generate(
        self, prompt: Any, *, timeout: float | None = None, force: bool = False, **params: Any
    ) -> Job:
        job = await self.submit(prompt, force=force, **params)
        return await job.wait_async(timeout)

    async def register_asset(self, media: Any, **kw: Any) -> Asset:
        """Upload a local file to the emulator as an ``asset://`` id (refused, before any
        network, on real providers: Ark assets live in your account's asset library)."""
        return await register_asset(self, media, **kw)

    async def resubmit(self, job: Job) -> Job:
        """Send an unknown-outcome job's request again, on purpose (it may pay twice)."""
        return await self.submit(job.request.prompt, force=True, **params_of(job.request))

    def track(self, job: Job) -> None:
        """Drive ``job`` to its end from its current phase (thread-safe; a no-op once done)."""
        self._scheduler.track(job)

    async def cancel(self, job: Job) -> None:
        """Ask the provider to cancel ``job``'s task and apply the state it reports."""
        self._drive()
        http = self._state.http
        assert http is not None
        if job.done:
            return
        if job.task_id is None:
            raise errors.SeedanceError(f"job {job.id} has no provider task yet; nothing to cancel")
        call = self.dialect.cancel_call(job.task_id)
        if call is None:
            raise errors.SeedanceError(
                f"{self.provider.label} cannot cancel: {self.provider.cancel_note}"
            )
        state = self.dialect.parse_cancel(job.task_id, await http.call(call))
        if state is None:
            try:
                state = self.dialect.parse_task(await http.call(self.dialect.get_call(job.task_id)))
            except errors.NotFoundError:
                state = None
        if state is not None:
            self._scheduler.apply_state(job, state)

    def recovery_seconds(self) -> list[float]:
        """Seconds from each fault this client saw to the step it broke succeeding: a lost or
        refused create to its task adopted, a failed status round to the next good round, a
        failed download to the video on disk, a job left by a dead process to it being
        driven again, and a read retried inside one call to its success."""
        http = self._state.http.recoveries if self._state.http is not None else []
        return [seconds for _, _, seconds in self.recoveries] + list(http)

    async def apply_callback(self, body: Any) -> Job | None:
        """Apply a provider's status callback; idempotent, and safe against stale or forged ones.

        A callback is a hint: progress moves forward only, and a final status is confirmed by
        a status read of our own before anything is downloaded (callbacks arrive late, twice,
        out of order, or not at all; polling stays on as the recovery path). Returns the job
        the callback named, or None if it is not one of ours.
        """
        self._drive()
        return self._scheduler.apply_callback(self.dialect.parse_callback(body))

    async def receive_callbacks(
        self, *, port: int = 0, public_url: str | None = None, host: str = "127.0.0.1"
    ) -> CallbackReceiver:
        """Start a local callback endpoint on this client's loop; pass ``receiver.url`` as
        ``callback_url`` (with ``public_url`` set to your tunnel's address)."""
        self._drive()
        receiver = CallbackReceiver(self, host=host, port=port, public_url=public_url)
        self._receivers.append(receiver)
        return await receiver.start()


__all__: Sequence[str] = ["AsyncClient", "PollPolicy", "default_policy", "start_settings"]
