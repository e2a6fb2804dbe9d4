"""Creating a provider task exactly once, and reconciling a create whose answer was lost.

A create that got no answer (or a 5xx, or garbage) may still have made a task; before sending
again the provider's task listing is read until it shows the task or, past the sender's
deadline, proves none was made. Providers without a listing (``Dialect.reconcile_call``
returns None) leave the job "unknown" instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Callable

from .. import errors
from ..providers.task import TaskState
from ..request import VideoRequest
from .job import Job, Phase
from .leases import LEASE_RENEW_SECONDS, Leases
from .state import EngineState

log = logging.getLogger("seedance_nb")

MAX_CREATES = 6  # unanswered sends of a request; each resend only after a listing proved none
CREATE_RATE_LIMIT_RETRIES = 8  # a 429 on create means "not processed": wait and send again
RECONCILE_FIRST_PAUSE = 0.2  # seconds between listing reads of a create in doubt: it doubles...
RECONCILE_MAX_PAUSE = 1.0  # ...up to this, until the sender's deadline


class Creator:
    """Sends creates and reconciles the ones in doubt; hands adopted tasks to ``track``."""

    def __init__(self, state: EngineState, leases: Leases, track: Callable[[Job], None]) -> None:
        self.state = state
        self.leases = leases
        self.track = track
        self.unanswered: dict[str, int] = {}  # job id → sends whose answer was lost or ambiguous

    async def submit(self, job: Job) -> None:
        """Create the task of a freshly claimed job (this client drives it meanwhile)."""
        self.state.creating.add(job.id)
        try:
            await self.create(job)
        finally:
            self.state.creating.discard(job.id)

    async def fetch(self, url: str) -> bytes:
        assert self.state.files is not None
        response = await self.state.files.get(url)
        response.raise_for_status()
        return response.content

    def wire_request(self, job: Job) -> VideoRequest:
        """The request as sent. Where a lost answer is reconciled against a listing and the
        seed was left random, the seed is drawn here and kept in the ledger before sending:
        still random, but it tells this task apart from siblings that differ only in prompt
        (a listing does not show prompts)."""
        wire = self.sent_request(job.request, job.row.get("seed"))
        if wire is not None:
            return wire
        seed = secrets.randbelow(2**31)
        self.state.update(job, seed=seed)
        return job.request.model_copy(update={"seed": seed})

    def sent_request(self, request: VideoRequest, seed: int | None) -> VideoRequest | None:
        """``request`` as it goes out with the seed the ledger holds; None while that seed is
        still to be drawn (then nothing has been sent yet)."""
        dialect = self.state.dialect
        offer = self.state.provider.offer(request.tier) if request.tier else None
        if (
            request.seed not in (None, -1)
            or offer is None
            or "seed" not in offer.params
            or dialect.reconcile_call(request, 1) is None
        ):
            return request
        if seed is None:
            return None
        return request.model_copy(update={"seed": int(seed)})

    async def create(self, job: Job) -> None:
        http, dialect = self.state.http, self.state.dialect
        assert http is not None
        try:
            call = await dialect.create_call(self.wire_request(job), self.fetch)
        except Exception as exc:  # a reference could not be fetched, say: nothing went out
            self._not_sent(job, f"the create was not sent: {exc}")
            raise
        for attempt in range(CREATE_RATE_LIMIT_RETRIES + 1):
            sent = self.state.ledger.now()  # until the deadline an unanswered create may land
            deadline = sent + self.state.request_timeout
            self.state.update(job, create_sent_at=sent, create_deadline=deadline)
            try:
                body = await http.call(call)
                state = dialect.parse_created(body)
            except errors.NotSentError as exc:
                self._not_sent(job, str(exc))
                raise
            except errors.RateLimitError as exc:
                # 429 means the create was not processed: nothing exists, nothing was paid
                self.state.fault_seen(job, "create")
                if attempt < CREATE_RATE_LIMIT_RETRIES:
                    wait = http.retry.delay(attempt, exc.retry_after)
                    log.info("create for %s rate-limited; sending again in %.1fs", job.id, wait)
                    await asyncio.sleep(wait)
                    continue
                self._reject(job, exc)
                raise
            except errors.APIError as exc:
                if exc.status_code is not None and exc.status_code >= 500:
                    self.state.fault_seen(job, "create")
                    await self.reconcile(job, exc)
                    return
                self._reject(job, exc)  # refused (4xx): no task exists, nothing was paid
                raise
            except (errors.APIConnectionError, errors.BadResponseError) as exc:
                self.state.fault_seen(job, "create")
                await self.reconcile(job, exc)
                return
            self.adopt(job, state)
            return

    def _not_sent(self, job: Job, message: str) -> None:
        """The create never left this machine: nothing exists, nothing was paid, and the same
        request may be sent again as it is (no force, no doubt to wait out)."""
        self.state.forget_fault(job)
        error = {"code": "NotSent", "message": message}
        self.state.update(
            job, phase=Phase.REJECTED, status="failed", finished_at=time.time(), error_json=error
        )

    def _reject(self, job: Job, exc: errors.APIError) -> None:
        """A refused create: the same request may be sent again later (it is not a job yet)."""
        self.state.forget_fault(job)
        error = {"code": exc.code or f"HTTP{exc.status_code}", "message": exc.message}
        self.state.update(
            job, phase=Phase.REJECTED, status="failed", finished_at=time.time(), error_json=error
        )

    def adopt(self, job: Job, state: TaskState) -> None:
        self.state.update(
            job,
            task_id=state.task_id,
            phase=Phase.TRACKING,
            status=state.status,
            raw_json=state.raw,
        )
        self.state.recovered(job)
        self.track(job)

    def _unknown(self, job: Job, message: str) -> None:
        """The create's fate cannot be told: the job says 'unknown' wherever it is shown."""
        self.state.forget_fault(job)
        error = {"code": "UnknownOutcome", "message": message}
        self.state.update(job, phase=Phase.UNKNOWN, status="unknown", error_json=error)

    async def reconcile_quietly(self, job: Job) -> None:
        """Reconcile a create left in doubt by a process that died; log what cannot be told."""
        self.state.creating.add(job.id)
        self.state.fault_seen(job, "create")
        try:
            await self.reconcile(job, RuntimeError("a previous process died while creating"))
        except errors.SeedanceError as exc:  # unknown, or a resend that could not go out
            log.warning("%s", exc)
        finally:
            self.state.creating.discard(job.id)

    async def reconcile(self, job: Job, cause: Exception, *, grace: float = 1.0) -> None:
        """A create whose answer we lost: find the task it made, or prove there is none.

        The listing is read at once and then every second or so; a task that matches is
        adopted as soon as it shows. Only when the sender's deadline has passed (a create
        without an answer may still be worked on until then) does an empty listing prove that
        nothing was made, and only then is the request sent again.
        """
        request = self.wire_request(job)
        self.unanswered[job.id] = self.unanswered.get(job.id, 0) + 1
        provider = self.state.provider.name
        if self.state.dialect.reconcile_call(request, 1) is None:
            self._unknown(job, str(cause))
            raise errors.UnknownOutcomeError(
                f"the create for {job.id} may or may not have reached {provider} ({cause}); "
                f"{provider} has no task listing to check against, so nothing was resent.",
                job=job,
            )
        sent = job.row.get("create_sent_at") or job.created_at
        now = self.state.ledger.now  # the ledger's clock: the deadline may be another host's
        deadline = now() + grace  # an answer came (5xx, garbage): the server is done
        if not isinstance(cause, (errors.APIError, errors.BadResponseError)):
            # no answer at all (cut, or a process died): the server may still be working on
            # it, so an empty listing proves nothing until the sender's timeout has passed
            timeout = self.state.request_timeout
            deadline = max(deadline, job.row.get("create_deadline") or sent + timeout)
        candidates = await self._listed(job, request, sent, deadline)
        if len(candidates) == 1:
            log.info("reconciled %s with task %s", job.id, candidates[0].task_id)
            self.adopt(job, candidates[0])
            return
        tries = self.unanswered[job.id]
        if not candidates and job.phase == Phase.CREATING and tries < MAX_CREATES:
            # the listing proves the last send made nothing, so one more send cannot pay twice
            log.info("no task was created for %s: sending the create again", job.id)
            await asyncio.sleep(min(8.0, 0.5 * 2**tries))
            await self.create(job)
            return
        self._unknown(job, f"{len(candidates)} tasks could match; none adopted")
        raise errors.UnknownOutcomeError(
            f"the create for {job.id} got no answer and {len(candidates)} listed tasks could be "
            "it; nothing was resent.",
            job=job,
        )

    async def _listed(
        self, job: Job, request: VideoRequest, sent: float, deadline: float
    ) -> list[TaskState]:
        """Read the listing until one task is surely ours or the deadline has passed."""
        pause = RECONCILE_FIRST_PAUSE
        candidates: list[TaskState] = []
        renewed = 0.0
        while True:
            final = self.state.ledger.now() >= deadline
            if time.time() - renewed > LEASE_RENEW_SECONDS:  # no second client reconciles it
                renewed = time.time()
                self.leases.renew([job.id])
            try:
                candidates, contested = await self._candidates(job, request, sent)
            except errors.SeedanceError as exc:
                if not final:
                    log.info("task listing for %s not readable yet (%s)", job.id, exc)
                    await asyncio.sleep(min(pause, max(0.0, deadline - self.state.ledger.now())))
                    continue
                self._unknown(job, str(exc))
                raise errors.UnknownOutcomeError(
                    f"the create for {job.id} got no answer and the task listing could not be "
                    f"read ({exc}); nothing was resent.",
                    job=job,
                ) from None
            if candidates and (final or not contested):
                return candidates  # one is ours; two or more cannot be told apart
            if final:
                return candidates
            await asyncio.sleep(min(pause, max(0.0, deadline - self.state.ledger.now())))
            pause = min(RECONCILE_MAX_PAUSE, pause * 2)

    def _siblings(self, job: Job, sent: float) -> list[VideoRequest]:
        """The requests of this route's other creates still without a task, as sent."""
        siblings: list[VideoRequest] = []
        for row in self.state.ledger.unbound(self.state.route, since=sent - 3600):
            if row["id"] == job.id:
                continue
            other = self.state.jobs.get(row["id"])
            if other is not None:
                base = other.request
            else:
                base = VideoRequest.model_validate(json.loads(row["request_json"]))
            wire = self.sent_request(base, row.get("seed"))
            if wire is not None:
                siblings.append(wire)
        return siblings

    async def _candidates(
        self, job: Job, request: VideoRequest, sent: float
    ) -> tuple[list[TaskState], bool]:
        """The listed tasks that could be the one ``request`` made, and whether any of them
        could as well be a sibling's whose own create is still unanswered (then it is not
        ours to take yet: that sibling's answer may still come and claim it)."""
        http, dialect = self.state.http, self.state.dialect
        assert http is not None
        # read the ledger before the listing: a sibling that adopts its task meanwhile is
        # then still counted as unanswered, never missed in both sets
        known = self.state.ledger.task_ids(self.state.route)
        siblings = self._siblings(job, sent)
        candidates: list[TaskState] = []
        page = 1
        while page <= 20:
            call = dialect.reconcile_call(request, page)
            assert call is not None
            tasks, more = dialect.parse_reconcile(await http.call(call))
            for task in tasks:
                created = task.created_at
                if task.task_id in known or (created is not None and created < sent - 300):
                    continue
                if dialect.matches(request, task):
                    candidates.append(task)
            if not more:
                break
            page += 1
        contested = any(dialect.matches(w, t) for w in siblings for t in candidates)
        return candidates, contested
