"""The async core: submit once, poll every job from one scheduler, download at once.

``AsyncClient`` runs on whatever event loop first uses it (in a notebook, the kernel's), so
polls never block the kernel. One scheduler task serves all in-flight jobs: batched status
reads where the provider has them (Ark's ``filter.task_ids``), adaptive intervals, and
``Retry-After``. A create is never retried blindly: if its fate is unknown the provider is
asked (reconcile) before anything is sent again.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import secrets
import socket
import sqlite3
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .. import errors
from ..params import check_names, params_of
from ..providers import dialect_for
from ..request import VideoRequest, build_request
from ..task import TERMINAL, TaskState
from .assets import Asset, register_asset
from .callbacks import CallbackReceiver
from .downloader import DownloadCapExceeded, URLExpired, download
from .http import ProviderHTTP
from .job import Job
from .ledger import LEASE_SECONDS, Ledger, stored
from .settings import Settings, announce_emulator, choose_provider, resolve, workdir_path

log = logging.getLogger("seedance_nb")

MP4_MAGIC = b"ftyp"
LEASE_RENEW_SECONDS = 4.0
MAX_CREATES = 6  # unanswered sends of a request; each resend only after a listing proved none
CREATE_RATE_LIMIT_RETRIES = 8  # a 429 on create means "not processed": wait and send again
MISSES_BEFORE_LOST = 3
RECONCILE_FIRST_PAUSE = 0.2  # seconds between listing reads of a create in doubt: it doubles...
RECONCILE_MAX_PAUSE = 1.0  # ...up to this, until the sender's deadline
DOWNLOAD_ATTEMPTS = 8  # in a row without progress, before the download is parked for later
DOWNLOAD_PARK_SECONDS = 60.0


_RANK = {"queued": 1, "running": 2}  # non-final statuses, in the order a task moves through


@dataclass
class _Tracking:
    """What the runtime remembers about one job between polls (not persisted: derived anew)."""

    unanswered_creates: int = 0  # sends whose answer was lost or ambiguous (5xx, cut, garbage)
    misses: int = 0  # status reads that did not know the task


class PollPolicy:
    """Poll often while a task is young (short renders finish fast), then back off as it
    ages: the interval is ``growth`` × age, bounded by ``min_interval`` and ``max_interval``."""

    def __init__(self, min_interval: float, max_interval: float, growth: float = 0.1) -> None:
        self.min_interval = min_interval
        self.max_interval = max_interval
        self.growth = growth

    def interval(self, age: float) -> float:
        return max(self.min_interval, min(self.max_interval, age * self.growth))


def default_policy(emulated: bool) -> PollPolicy:
    return PollPolicy(0.25, 2.0) if emulated else PollPolicy(2.0, 15.0)


def start_settings(
    provider: str | None, api_key: str | None, base_url: str | None, workdir: str | Path | None
) -> Settings:
    """:func:`config.resolve`, starting the offline emulator first when it stands in: the engine
    owns that side effect (and its once-per-process notice), the settings layer only decides."""
    emulator_url = None
    choice = choose_provider(provider, api_key, base_url)
    if choice.emulated and base_url is None:
        from ..emulator import ensure_running

        emulator_url = ensure_running(workdir_path(workdir) / "emulator")
        announce_emulator(choice.provider)
    return resolve(provider, api_key, base_url, workdir, emulator_url=emulator_url)


class AsyncClient:
    """Seedance client for ``async`` code; see :class:`seedance_nb.Client` for the sync twin."""

    def __init__(
        self,
        provider: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        workdir: str | Path | None = None,
        *,
        poll: PollPolicy | None = None,
        http_client: httpx.AsyncClient | None = None,
        max_download_bytes: int = 4 * 1024**3,
        request_timeout: float = 30.0,
    ) -> None:
        self._settings: Settings = start_settings(provider, api_key, base_url, workdir)
        s = self._settings
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.dialect = dialect_for(s.provider)
        self.ledger = Ledger(self.workdir / "ledger.sqlite", background_checkpoints=True)
        self.poll = poll or default_policy(s.emulated)
        self.max_download_bytes = max_download_bytes
        self.request_timeout = request_timeout  # also how long an unanswered create stays in doubt
        self._http_client = http_client
        self._http: ProviderHTTP | None = None
        self._files: httpx.AsyncClient | None = None
        self.owner = f"{socket.gethostname()}:{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.loop: asyncio.AbstractEventLoop | None = None
        self._jobs: dict[str, Job] = {}
        self._track: dict[str, _Tracking] = {}
        self._next_poll: dict[str, float] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._downloading: set[str] = set()
        self._creating: set[str] = set()  # jobs whose create or reconcile runs in this client
        self._backoff_until = 0.0  # loop time before which no status read is sent
        self._checkpointing: asyncio.Task[Any] | None = None
        self._scheduler: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._resumed = False
        self._closed = False
        self.status_requests = 0
        self.callbacks_received = 0
        # (job id, step, seconds) from a fault the client saw to the broken step succeeding
        self.recoveries: list[tuple[str, str, float]] = []
        self._faulted: dict[str, tuple[str, float]] = {}  # job id → (step, monotonic time seen)
        self._round_failed_at: float | None = (
            None  # a failed status round: one fault, not one per job
        )
        self._receivers: list[CallbackReceiver] = []

    # properties ---------------------------------------------------------------------------
    @property
    def provider(self) -> Any:
        return self._settings.provider

    @property
    def provider_name(self) -> str:
        return self._settings.provider.name

    @property
    def emulated(self) -> bool:
        return self._settings.emulated

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def route(self) -> str:
        return self._settings.route

    @property
    def workdir(self) -> Path:
        return self._settings.workdir

    def __repr__(self) -> str:
        where = "emulator" if self.emulated else self.base_url
        return f"<{type(self).__name__} provider={self.provider_name} at {where} workdir={self.workdir}>"

    # validation ---------------------------------------------------------------------------
    def validate(self, prompt: Any, **params: Any) -> VideoRequest:
        """Check a request against the provider's limits; no network, no money."""
        return self._build(prompt, params, warn=False)[0]

    def _build(
        self, prompt: Any, params: dict[str, Any], *, warn: bool
    ) -> tuple[VideoRequest, list[str]]:
        check_names(params)
        return build_request(self.provider, prompt, workdir=self.workdir, warn=warn, **params)

    def preview(self, prompt: Any, **params: Any) -> dict[str, Any]:
        """The exact create request that would be sent (data URLs shortened), and its estimate."""
        request, notes = self._build(prompt, params, warn=False)

        async def fetch(url: str) -> bytes:
            return b"<fetched at submit time>"

        call = _run_now(self.dialect.create_call(request, fetch))
        body: Any = call.json if call.json is not None else {**(call.data or {}),
            **{name: f"<file {meta[0]}, {len(meta[1]):,} bytes>" for name, meta in (call.files or [])}}  # fmt: skip
        return {
            "provider": self.provider_name,
            "emulated": self.emulated,
            "method": call.method,
            "url": self.base_url + call.path,
            "body": _shorten_data_urls(body),
            "estimated_tokens": request.estimated_tokens,
            "estimated_cost_usd": request.estimated_cost,
            "warnings": notes,
            "request": request,
        }

    # lifecycle ----------------------------------------------------------------------------
    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if self.loop is None:
            self.loop = loop
        elif self.loop is not loop and not self.loop.is_closed():
            raise RuntimeError("an AsyncClient is bound to the event loop that first used it")
        else:
            self.loop = loop
        if self._http is None:
            s = self._settings
            self._http = ProviderHTTP(self.dialect, s.base_url, s.api_key,
                                      client=self._http_client, timeout=self.request_timeout)  # fmt: skip
            self._files = httpx.AsyncClient(
                timeout=httpx.Timeout(60.0, connect=10.0), follow_redirects=True, trust_env=False
            )
        if not self._resumed:
            self._resumed = True
            self._resume()

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _resume(self) -> None:
        """Pick up every unfinished job of this route left by an earlier process."""
        for row in self.ledger.active(self.route):
            job = self._job_from_row(row)
            self._fault_seen(job, "resume")  # its process went away: driven again from here
            if row["phase"] == "creating" and not self._take_lease(job):
                self._watch(job)
                continue
            self._ensure_tracked(job)

    def _take_lease(self, job: Job) -> bool:
        """Become the job's driver if nobody else is; a holder whose process is gone (a dead
        kernel on this machine) loses its lease at once instead of when it runs out."""
        if self.ledger.take_lease(job.id, self.owner):
            return True
        holder = (self.ledger.get(job.id) or {}).get("owner")
        if holder and holder != self.owner and _process_gone(holder):
            log.info("the process that drove %s is gone; taking over", job.id)
            self.ledger.release_leases(holder)
            return self.ledger.take_lease(job.id, self.owner)
        return False

    async def aclose(self) -> None:
        self._closed = True
        for receiver in self._receivers:
            await receiver.aclose()
        for task in list(self._tasks):
            task.cancel()
        if self._scheduler is not None:
            self._scheduler.cancel()
            self._tasks.add(self._scheduler)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.ledger.release_leases(self.owner)
        if self._http is not None:
            await self._http.aclose()
        if self._files is not None:
            await self._files.aclose()
        self.ledger.close()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # jobs ---------------------------------------------------------------------------------
    def _job_from_row(self, row: dict[str, Any]) -> Job:
        job = self._jobs.get(row["id"])
        if job is None:
            request = VideoRequest.model_validate(_request_from_json(row["request_json"]))
            job = Job(self, row, request)
            self._jobs[row["id"]] = job
        else:
            job._row = row
        return job

    async def jobs(self, limit: int = 50, offset: int = 0) -> list[Job]:
        """The ledger's history (all routes), newest first."""
        self._bind()  # jobs listed here can be waited on, and unfinished ones resume
        return [self._job_from_row(r) for r in self.ledger.history(limit, offset)]

    async def get_job(self, job_id: str) -> Job:
        self._bind()
        row = self.ledger.get(job_id)
        if row is None:
            raise KeyError(f"no job {job_id!r} in {self.ledger.path}")
        return self._job_from_row(row)

    async def submit(self, prompt: Any, *, force: bool = False, **params: Any) -> Job:
        """Validate, then create the task once; the same request returns the same job."""
        request, notes = self._build(prompt, params, warn=True)
        self._bind()
        digest = request.digest(self.route)
        row, fresh = self.ledger.claim(
            route=self.route, request_hash=digest, provider=self.provider_name,
            tier=request.tier, model_id=request.model_id, prompt=request.prompt,
            request=_request_to_json(request), owner=self.owner, force=force,
        )  # fmt: skip
        job = self._job_from_row(row)
        job.request = request if fresh else job.request
        job.warnings = notes
        job.reused = not fresh
        if not fresh:
            log.info("same request as %s: not sent again", job.id)
            self._ensure_tracked(job)
            return job
        self._creating.add(job.id)
        try:
            await self._create(job)
        finally:
            self._creating.discard(job.id)
        return job

    async def generate(self, prompt: Any, *, timeout: float | None = None, force: bool = False,
                       **params: Any) -> Job:  # fmt: skip
        job = await self.submit(prompt, force=force, **params)
        return await job.wait_async(timeout)

    async def register_asset(self, media: Any, **kw: Any) -> Asset:
        """Upload a local file to the emulator as an ``asset://`` id (refused, before any
        network, on real providers: Ark assets live in your account's asset library)."""
        return await register_asset(self, media, **kw)

    async def resubmit(self, job: Job) -> Job:
        """Send an unknown-outcome job's request again, on purpose (it may pay twice)."""
        return await self.submit(job.request.prompt, force=True, **params_of(job.request))

    # create & reconcile -------------------------------------------------------------------
    async def _fetch(self, url: str) -> bytes:
        assert self._files is not None
        response = await self._files.get(url)
        response.raise_for_status()
        return response.content

    def _tracking(self, job: Job) -> _Tracking:
        return self._track.setdefault(job.id, _Tracking())

    def _wire_request(self, job: Job) -> VideoRequest:
        """The request as sent. Where a lost answer is reconciled against a listing and the
        seed was left random, the seed is drawn here and kept in the ledger before sending:
        still random, but it tells this task apart from siblings that differ only in prompt
        (a listing does not show prompts)."""
        wire = self._sent_request(job.request, job._row.get("seed"))
        if wire is not None:
            return wire
        seed = secrets.randbelow(2**31)
        self._update(job, seed=seed)
        return job.request.model_copy(update={"seed": seed})

    def _sent_request(self, request: VideoRequest, seed: int | None) -> VideoRequest | None:
        """``request`` as it goes out with the seed the ledger holds; None while that seed is
        still to be drawn (then nothing has been sent yet)."""
        offer = self.provider.offer(request.tier) if request.tier else None
        if (request.seed not in (None, -1) or offer is None or "seed" not in offer.params
                or self.dialect.reconcile_call(request, 1) is None):  # fmt: skip
            return request
        if seed is None:
            return None
        return request.model_copy(update={"seed": int(seed)})

    async def _create(self, job: Job) -> None:
        assert self._http is not None
        try:
            call = await self.dialect.create_call(self._wire_request(job), self._fetch)
        except Exception as exc:  # a reference could not be fetched, say: nothing went out
            self._not_sent(job, f"the create was not sent: {exc}")
            raise
        for attempt in range(CREATE_RATE_LIMIT_RETRIES + 1):
            sent = time.time()  # until the deadline an unanswered create may still land
            self._update(job, create_sent_at=sent, create_deadline=sent + self.request_timeout)
            try:
                body = await self._http.call(call)
                state = self.dialect.parse_created(body)
            except errors.NotSentError as exc:
                self._not_sent(job, str(exc))
                raise
            except errors.RateLimitError as exc:
                # 429 means the create was not processed: nothing exists, nothing was paid
                self._fault_seen(job, "create")
                if attempt < CREATE_RATE_LIMIT_RETRIES:
                    wait = self._http.retry.delay(attempt, exc.retry_after)
                    log.info("create for %s rate-limited; sending again in %.1fs", job.id, wait)
                    await asyncio.sleep(wait)
                    continue
                self._reject(job, exc)
                raise
            except errors.APIError as exc:
                if exc.status_code is not None and exc.status_code >= 500:
                    self._fault_seen(job, "create")
                    await self._reconcile(job, exc)
                    return
                self._reject(job, exc)  # refused (4xx): no task exists, nothing was paid
                raise
            except (errors.APIConnectionError, errors.BadResponseError) as exc:
                self._fault_seen(job, "create")
                await self._reconcile(job, exc)
                return
            self._adopt(job, state)
            return

    def _not_sent(self, job: Job, message: str) -> None:
        """The create never left this machine: nothing exists, nothing was paid, and the same
        request may be sent again as it is (no force, no doubt to wait out)."""
        self._faulted.pop(job.id, None)
        error = {"code": "NotSent", "message": message}
        self._update(
            job, phase="rejected", status="failed", finished_at=time.time(), error_json=error
        )

    def _reject(self, job: Job, exc: errors.APIError) -> None:
        """A refused create: the same request may be sent again later (it is not a job yet)."""
        self._faulted.pop(job.id, None)
        self._update(job, phase="rejected", status="failed", finished_at=time.time(),
                     error_json={"code": exc.code or f"HTTP{exc.status_code}", "message": exc.message})  # fmt: skip

    def _adopt(self, job: Job, state: TaskState) -> None:
        self._update(job, task_id=state.task_id, phase="tracking", status=state.status,
                     raw_json=state.raw)  # fmt: skip
        self._recovered(job)
        self._ensure_tracked(job)

    def _unknown(self, job: Job, message: str) -> None:
        """The create's fate cannot be told: the job says 'unknown' wherever it is shown."""
        self._faulted.pop(job.id, None)
        error = {"code": "UnknownOutcome", "message": message}
        self._update(job, phase="unknown", status="unknown", error_json=error)

    def _fault_seen(self, job: Job, step: str) -> None:
        """Start the recovery clock of ``job`` (unless a fault already started it)."""
        self._faulted.setdefault(job.id, (step, time.monotonic()))

    def _recovered(self, job: Job) -> None:
        """The step a fault broke has succeeded: record how long that took."""
        seen = self._faulted.pop(job.id, None)
        if seen is not None:
            self.recoveries.append((job.id, seen[0], time.monotonic() - seen[1]))

    def recovery_seconds(self) -> list[float]:
        """Seconds from each fault this client saw to the step it broke succeeding: a lost or
        refused create to its task adopted, a failed status round to the next good round, a
        failed download to the video on disk, a job left by a dead process to it being
        driven again, and a read retried inside one call to its success."""
        http = self._http.recoveries if self._http is not None else []
        return [seconds for _, _, seconds in self.recoveries] + list(http)

    async def _reconcile(self, job: Job, cause: Exception, *, grace: float = 1.0) -> None:
        """A create whose answer we lost: find the task it made, or prove there is none.

        The listing is read at once and then every second or so; a task that matches is
        adopted as soon as it shows. Only when the sender's deadline has passed (a create
        without an answer may still be worked on until then) does an empty listing prove that
        nothing was made, and only then is the request sent again.
        """
        assert self._http is not None
        request = self._wire_request(job)
        track = self._tracking(job)
        track.unanswered_creates += 1
        provider = self.provider_name
        if self.dialect.reconcile_call(request, 1) is None:
            self._unknown(job, str(cause))
            raise errors.UnknownOutcomeError(
                f"the create for {job.id} may or may not have reached {provider} ({cause}); "
                f"{provider} has no task listing to check against, so nothing was resent.",
                job=job,
            )
        sent = job._row.get("create_sent_at") or job.created_at
        deadline = time.time() + grace  # an answer came (5xx, garbage): the server is done
        if not isinstance(cause, (errors.APIError, errors.BadResponseError)):
            # no answer at all (cut, or a process died): the server may still be working on
            # it, so an empty listing proves nothing until the sender's timeout has passed
            deadline = max(deadline, job._row.get("create_deadline") or sent + self.request_timeout)
        pause = RECONCILE_FIRST_PAUSE
        candidates: list[TaskState] = []
        renewed = 0.0
        while True:
            final = time.time() >= deadline
            if time.time() - renewed > LEASE_RENEW_SECONDS:  # no second client reconciles it
                renewed = time.time()
                self.ledger.renew_leases([job.id], self.owner)
            try:
                candidates, contested = await self._candidates(job, request, sent)
            except errors.SeedanceError as exc:
                if not final:
                    log.info("task listing for %s not readable yet (%s)", job.id, exc)
                    await asyncio.sleep(min(pause, max(0.0, deadline - time.time())))
                    continue
                self._unknown(job, str(exc))
                raise errors.UnknownOutcomeError(
                    f"the create for {job.id} got no answer and the task listing could not be "
                    f"read ({exc}); nothing was resent.",
                    job=job,
                ) from None
            if candidates and (final or not contested):
                break  # one is ours; two or more cannot be told apart (waiting will not help)
            if final:
                break
            await asyncio.sleep(min(pause, max(0.0, deadline - time.time())))
            pause = min(RECONCILE_MAX_PAUSE, pause * 2)
        if len(candidates) == 1:
            log.info("reconciled %s with task %s", job.id, candidates[0].task_id)
            self._adopt(job, candidates[0])
            return
        if not candidates and job.phase == "creating" and track.unanswered_creates < MAX_CREATES:
            # the listing proves the last send made nothing, so one more send cannot pay twice
            log.info("no task was created for %s: sending the create again", job.id)
            await asyncio.sleep(min(8.0, 0.5 * 2**track.unanswered_creates))
            await self._create(job)
            return
        self._unknown(job, f"{len(candidates)} tasks could match; none adopted")
        raise errors.UnknownOutcomeError(
            f"the create for {job.id} got no answer and {len(candidates)} listed tasks could be "
            "it; nothing was resent.",
            job=job,
        )

    async def _candidates(
        self, job: Job, request: VideoRequest, sent: float
    ) -> tuple[list[TaskState], bool]:
        """The listed tasks that could be the one ``request`` made, and whether any of them
        could as well be a sibling's whose own create is still unanswered (then it is not
        ours to take yet: that sibling's answer may still come and claim it)."""
        assert self._http is not None
        # read the ledger before the listing: a sibling that adopts its task meanwhile is
        # then still counted as unanswered, never missed in both sets
        known = self.ledger.task_ids(self.route)
        siblings: list[VideoRequest] = []
        for row in self.ledger.unbound(self.route, since=sent - 3600):
            if row["id"] == job.id:
                continue
            other = self._jobs.get(row["id"])
            if other is not None:
                base = other.request
            else:
                base = VideoRequest.model_validate(_request_from_json(row["request_json"]))
            wire = self._sent_request(base, row.get("seed"))
            if wire is not None:
                siblings.append(wire)
        candidates: list[TaskState] = []
        page = 1
        while page <= 20:
            call = self.dialect.reconcile_call(request, page)
            assert call is not None
            tasks, more = self.dialect.parse_reconcile(await self._http.call(call))
            for task in tasks:
                created = task.created_at
                if task.task_id in known or (created is not None and created < sent - 300):
                    continue
                if self.dialect.matches(request, task):
                    candidates.append(task)
            if not more:
                break
            page += 1
        contested = any(self.dialect.matches(w, t) for w in siblings for t in candidates)
        return candidates, contested

    # tracking -----------------------------------------------------------------------------
    def _update(self, job: Job, **fields: Any) -> None:
        job._apply_row(self.ledger.update(job.id, **fields))

    def _ensure_tracked(self, job: Job) -> None:
        if self._closed or job.done or self.loop is None:
            return
        try:
            if asyncio.get_running_loop() is not self.loop:
                self.loop.call_soon_threadsafe(self._ensure_tracked, job)
                return
        except RuntimeError:
            return
        self._jobs[job.id] = job
        if job.phase == "downloading" and job.id not in self._downloading:
            if self._take_lease(job):
                self._spawn(self._download(job, None))
            else:
                self._watch(job)
        elif job.phase == "creating":
            if job.id in self._creating:
                return  # this client is sending or reconciling it right now
            if self._take_lease(job):
                self._spawn(self._reconcile_quietly(job))
            else:
                self._watch(job)
        elif job.phase == "tracking" and job.id not in self._next_poll:
            self._next_poll[job.id] = 0.0
            self._start_scheduler()

    async def _reconcile_quietly(self, job: Job) -> None:
        self._creating.add(job.id)
        self._fault_seen(job, "create")
        try:
            await self._reconcile(job, RuntimeError("a previous process died while creating"))
        except errors.SeedanceError as exc:  # unknown, or a resend that could not go out
            log.warning("%s", exc)
        finally:
            self._creating.discard(job.id)

    def _watch(self, job: Job) -> None:
        """Another process drives this job; follow its ledger row until it settles."""
        if job.id not in self._next_poll:
            self._next_poll[job.id] = 0.0
            self._start_scheduler()

    def _start_scheduler(self) -> None:
        if self._wake is None:
            self._wake = asyncio.Event()
        self._wake.set()
        if self._scheduler is None or self._scheduler.done():
            self._scheduler = asyncio.get_running_loop().create_task(self._run_scheduler())

    async def _run_scheduler(self) -> None:
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        renewed = loop.time()
        while self._next_poll and not self._closed:
            now = loop.time()
            if now - renewed > LEASE_RENEW_SECONDS:
                renewed = now
                self.ledger.renew_leases(list(self._next_poll), self.owner)
                self._checkpoint_soon()
            # a Retry-After holds every read back, not only the jobs of the round that got it
            soonest = max(min(self._next_poll.values()), self._backoff_until)
            if soonest > now:
                self._wake.clear()
                try:
                    await asyncio.wait_for(
                        self._wake.wait(), min(soonest - now, LEASE_RENEW_SECONDS)
                    )
                except asyncio.TimeoutError:
                    pass
                continue
            # everything due now, plus whatever is nearly due; where one listing reads up to
            # batch_size tasks for the price of one, every job rides along in the round
            if self.provider.batch_poll and self.dialect.batch_size:
                due = list(self._next_poll)  # every job rides in the round
            else:
                due = [j for j, t in self._next_poll.items() if t <= now + self.poll.min_interval]
            try:
                await self._poll(due)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poll round failed; will try again")
                for j in due:
                    self._next_poll[j] = loop.time() + self.poll.max_interval

    def _checkpoint_soon(self) -> None:
        """Fold the ledger's WAL back in from a worker thread (its fsyncs never hold the loop)."""
        if self._checkpointing is None or self._checkpointing.done():
            self._checkpointing = self._spawn(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            await asyncio.to_thread(self.ledger.checkpoint)
        except sqlite3.Error as exc:  # the next one catches up; commits never wait for it
            log.debug("ledger checkpoint skipped: %s", exc)

    async def _poll(self, job_ids: list[str]) -> None:
        assert self._http is not None
        loop = asyncio.get_running_loop()
        mine: list[Job] = []
        rows = self.ledger.get_many(job_ids)
        for job_id in job_ids:
            job = self._jobs[job_id]
            row = rows.get(job_id)
            if row is None:
                self._next_poll.pop(job_id, None)
                continue
            if row != job._row:
                job._apply_row(row)
            if job.done or job.id in self._downloading or job.id in self._creating:
                self._next_poll.pop(job_id, None)
                continue
            if row.get("owner") != self.owner and not self._take_lease(job):
                self._next_poll[job_id] = loop.time() + 1.0  # someone else drives it
                continue
            if job.phase in ("creating", "downloading"):
                self._next_poll.pop(job_id, None)
                self._ensure_tracked(job)
                continue
            mine.append(job)
        if not mine:
            return
        # a lease still good for most of its term is left alone: fewer rows written per round
        soon = time.time() + LEASE_SECONDS - LEASE_RENEW_SECONDS
        self.ledger.renew_leases(
            [j.id for j in mine if (j._row.get("lease_until") or 0) < soon], self.owner
        )
        started = loop.time()  # intervals count from here, so a slow round does not stretch them
        states: dict[str, TaskState] = {}
        retry_after: float | None = None
        batched = bool(self.provider.batch_poll and self.dialect.batch_size)
        sem = asyncio.Semaphore(8)

        async def one(job: Job) -> None:
            async with sem:
                self.status_requests += 1
                try:
                    body = await self._http.call(self.dialect.get_call(str(job.task_id)))
                except errors.NotFoundError:
                    return  # the provider says the task is gone: a miss
                state = self.dialect.parse_task(body)
                states[state.task_id] = state

        async def listing(chunk: list[str]) -> None:
            async with sem:
                self.status_requests += 1
                body = await self._http.call(self.dialect.list_call(chunk))
            for state in self.dialect.parse_list(body):
                states[state.task_id] = state

        try:
            if batched:
                size = self.dialect.batch_size
                ids = [str(j.task_id) for j in mine if j.task_id]
                chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
                # side by side, and every listing settles before the first failure is raised
                outcomes = await asyncio.gather(*map(listing, chunks), return_exceptions=True)
                failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
                if failure is not None:
                    raise failure
                # a task left out of a listing is not proof that it is gone: ask for it alone
                await asyncio.gather(*(one(j) for j in mine if str(j.task_id) not in states))
            else:
                await asyncio.gather(*(one(j) for j in mine))
        except errors.RateLimitError as exc:
            retry_after = exc.retry_after or self.poll.max_interval
        except errors.BadResponseError as exc:
            # the provider is up and answered, only not in its contract's shape (a partial
            # listing, say): no reason to back off further than the usual pace
            log.warning("status read answered badly (%s); reading again", exc)
            retry_after = self._interval(mine)
        except (errors.APIError, errors.APIConnectionError) as exc:
            log.warning("status read failed (%s); backing off", exc)
            retry_after = self.poll.max_interval
        now = loop.time()
        if retry_after is not None:
            self._backoff_until = now + retry_after
            if self._round_failed_at is None:
                self._round_failed_at = time.monotonic()
        elif self._round_failed_at is not None:
            self.recoveries.append(("*", "status", time.monotonic() - self._round_failed_at))
            self._round_failed_at = None
        with self.ledger.batch():
            for job in mine:
                state = states.get(str(job.task_id))
                if retry_after is not None:
                    self._next_poll[job.id] = now + retry_after
                    continue
                if state is None:
                    self._missing(job)
                    continue
                self._recovered(job)
                self._apply_state(job, state)
                if job.phase == "tracking":
                    self._next_poll[job.id] = started + self._interval([job])
                else:
                    self._next_poll.pop(job.id, None)
        if retry_after is None and batched:
            # one listing reads them all: the next round comes as soon as the policy would
            # poll a lone job, divided among the jobs that share the round's requests
            tracking = [j for j in mine if j.id in self._next_poll]
            if tracking:
                due = started + self._interval(tracking)
                for job in tracking:
                    self._next_poll[job.id] = due

    def _interval(self, jobs: list[Job]) -> float:
        """Seconds to the next status read of ``jobs`` read together (one request per
        ``batch_size`` of them): the lone-job interval of the youngest, shared among them."""
        youngest = self.poll.interval(time.time() - max(j.created_at for j in jobs))
        requests = -(-len(jobs) // (self.dialect.batch_size or 1))
        return max(self.poll.min_interval, youngest * requests / len(jobs))

    def _missing(self, job: Job) -> None:
        track = self._tracking(job)
        track.misses += 1
        if track.misses >= MISSES_BEFORE_LOST:
            self._next_poll.pop(job.id, None)
            self._update(job, phase="done", status="failed", finished_at=time.time(),
                         error_json={"code": "TaskNotFound",
                                     "message": f"{self.provider_name} no longer knows task {job.task_id}"})  # fmt: skip
        else:
            self._next_poll[job.id] = asyncio.get_running_loop().time() + self.poll.max_interval

    def _apply_state(self, job: Job, state: TaskState) -> None:
        fields: dict[str, Any] = {"raw_json": state.raw, "progress": state.progress}
        if state.usage is not None:
            fields["usage_json"] = state.usage.as_dict()
        if state.seed is not None:
            fields["seed"] = state.seed
        if state.error is not None:
            fields["error_json"] = {"code": state.error.code, "message": state.error.message}
        if state.status == "succeeded":
            fields.update(phase="downloading", status="running")
            self._update(job, **fields)
            self._spawn(self._download(job, state))
            return
        if state.status in TERMINAL:
            fields.update(phase="done", status=state.status, finished_at=time.time())
        else:
            fields["status"] = state.status
            if all(job._row.get(k) == stored(k, v) for k, v in fields.items()):
                return  # nothing new: no write, so a round of unchanged jobs stays cheap
        self._update(job, **fields)

    async def apply_callback(self, body: Any) -> Job | None:
        """Apply a provider's status callback; idempotent, and safe against stale or forged ones.

        A callback is a hint: progress moves forward only, and a final status is confirmed by
        a status read of our own before anything is downloaded (callbacks arrive late, twice,
        out of order, or not at all; polling stays on as the recovery path). Returns the job
        the callback named, or None if it is not one of ours.
        """
        self._bind()
        state = self.dialect.parse_callback(body)
        self.callbacks_received += 1
        for row in self.ledger.active(self.route):
            if row.get("task_id") != state.task_id:
                continue
            job = self._job_from_row(row)
            if job.phase != "tracking":
                return job  # already downloading or settled: a repeat changes nothing
            if state.status in TERMINAL:
                self._next_poll[job.id] = 0.0  # read it now instead of at the next interval
                self._start_scheduler()
            elif _RANK[state.status] > _RANK.get(job.status, 0):
                fields: dict[str, Any] = {"status": state.status}
                if state.progress is not None:
                    fields["progress"] = state.progress
                self._update(job, **fields)
            return job
        return None

    async def receive_callbacks(self, *, port: int = 0, public_url: str | None = None,
                                host: str = "127.0.0.1") -> CallbackReceiver:  # fmt: skip
        """Start a local callback endpoint on this client's loop; pass ``receiver.url`` as
        ``callback_url`` (with ``public_url`` set to your tunnel's address)."""
        self._bind()
        receiver = CallbackReceiver(self, host=host, port=port, public_url=public_url)
        self._receivers.append(receiver)
        return await receiver.start()

    # download -----------------------------------------------------------------------------
    async def _download(self, job: Job, state: TaskState | None) -> None:
        if job.id in self._downloading:
            return
        self._downloading.add(job.id)
        heartbeat = self._spawn(self._keep_lease(job.id))
        try:
            await self._download_inner(job, state)
        finally:
            heartbeat.cancel()
            self._downloading.discard(job.id)

    async def _keep_lease(self, job_id: str) -> None:
        """Hold a job's lease through a long download, so no other client starts a second one."""
        while True:
            self.ledger.renew_leases([job_id], self.owner)
            await asyncio.sleep(LEASE_RENEW_SECONDS)

    async def _download_inner(self, job: Job, state: TaskState | None) -> None:
        assert self._http is not None and self._files is not None
        folder = self.workdir / "videos"
        video = folder / f"{job.id}.mp4"
        frame = folder / f"{job.id}.last-frame.png"
        part = video.with_name(video.name + ".part")
        failures = 0
        while True:
            have = part.stat().st_size if part.exists() else 0
            try:
                if state is None:
                    state = self.dialect.parse_task(
                        await self._http.call(self.dialect.get_call(str(job.task_id)))
                    )
                if state.video_url is None:
                    raise errors.DownloadError(
                        f"{self.provider_name} reported success without a video URL"
                    )
                if not video.exists():
                    await download(self._files, state.video_url, video,
                                   max_bytes=self.max_download_bytes, expect=MP4_MAGIC)  # fmt: skip
                if state.last_frame_url and not frame.exists():
                    await download(self._files, state.last_frame_url, frame,
                                   max_bytes=64 * 1024 * 1024, expect=b"PNG")  # fmt: skip
                break
            except URLExpired:
                self._fault_seen(job, "download")
                state = None  # re-read the task for a fresh signed URL
                failures += 1
            except DownloadCapExceeded as exc:
                self._faulted.pop(job.id, None)
                self._fail_download(job, exc)
                return
            except (errors.DownloadError, errors.APIError, errors.APIConnectionError,
                    errors.BadResponseError) as exc:  # fmt: skip
                self._fault_seen(job, "download")
                log.warning("download of %s failed (%s); retrying", job.id, exc)
                grew = part.exists() and part.stat().st_size > have
                failures = 0 if grew else failures + 1  # a cut that made progress is not a failure
                await asyncio.sleep(min(30.0, 0.25 * 2**failures))
            if failures >= DOWNLOAD_ATTEMPTS:
                log.error("could not download %s yet; trying again in %.0fs", job.id,
                          DOWNLOAD_PARK_SECONDS)  # fmt: skip
                self._update(job, phase="downloading")
                assert self.loop is not None
                self.loop.call_later(DOWNLOAD_PARK_SECONDS, self._ensure_tracked, job)
                return
        payload = {"job": job.id, "provider": self.provider_name, "task_id": job.task_id,
                   "request": _request_to_json(job.request), "response": state.raw}  # fmt: skip
        sidecar = folder / f"{job.id}.json"
        tmp = sidecar.with_suffix(".json.part")
        tmp.write_text(json.dumps(payload, indent=2, default=str))
        os.replace(tmp, sidecar)
        fields: dict[str, Any] = {"phase": "done", "status": "succeeded", "finished_at": time.time(),
                                  "video_path": str(video), "raw_json": state.raw, "progress": 1.0}  # fmt: skip
        if frame.exists():
            fields["last_frame_path"] = str(frame)
        if state.usage is not None:
            fields["usage_json"] = state.usage.as_dict()
        if state.seed is not None:
            fields["seed"] = state.seed
        self._update(job, **fields)
        self._recovered(job)

    def _fail_download(self, job: Job, exc: Exception) -> None:
        self._update(job, phase="done", status="failed", finished_at=time.time(),
                     error_json={"code": "DownloadFailed", "message": str(exc)})  # fmt: skip

    # cancel -------------------------------------------------------------------------------
    async def _cancel(self, job: Job) -> None:
        self._bind()
        assert self._http is not None
        if job.done:
            return
        if job.task_id is None:
            raise errors.SeedanceError(f"job {job.id} has no provider task yet; nothing to cancel")
        call = self.dialect.cancel_call(job.task_id)
        if call is None:
            raise errors.SeedanceError(
                f"{self.provider.label} cannot cancel: {self.provider.cancel_note}"
            )
        body = await self._http.call(call)
        state = self.dialect.parse_cancel(job.task_id, body)
        if state is None:
            try:
                state = self.dialect.parse_task(
                    await self._http.call(self.dialect.get_call(job.task_id))
                )
            except errors.NotFoundError:
                state = None
        if state is not None:
            self._apply_state(job, state)


# helpers ----------------------------------------------------------------------------------
def _process_gone(owner: str) -> bool:
    """Whether a lease holder (``host:pid-nonce``) was a process on this machine that no
    longer exists. Unknown formats, other hosts and live processes count as present."""
    host, _, rest = owner.rpartition(":")
    pid = rest.split("-", 1)[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False
    return False


def _request_to_json(request: VideoRequest) -> dict[str, Any]:
    """The request as stored; local media is kept by path and hash, never as bytes."""
    return request.model_dump(mode="json")


def _request_from_json(text: str) -> dict[str, Any]:
    return json.loads(text)


def _shorten_data_urls(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("data:") and len(value) > 60:
        return value[:40] + f"…<{len(value):,} chars>"
    if isinstance(value, dict):
        return {k: _shorten_data_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten_data_urls(v) for v in value]
    return value


def _run_now(coro: Any) -> Any:
    """Drive a coroutine that never actually suspends (pure builders) to completion."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("preview needs network access for this provider; submit instead")


__all__: Sequence[str] = ["AsyncClient", "PollPolicy"]
