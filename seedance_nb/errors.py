"""The error hierarchy.

Every error a user can meet is a :class:`SeedanceError`, so one ``except`` catches them all,
and each says enough to act on without a traceback: the field, the value, what is allowed,
for which model and provider. None of them ever carries an API key.
"""

from __future__ import annotations

from typing import Any, Protocol


class JobLike(Protocol):
    """What an error reads of a :class:`~seedance_nb.engine.job.Job`: errors sit below every other
    module, so they name the job's shape instead of importing it."""

    @property
    def id(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def outcome_unknown(self) -> bool: ...

    @property
    def error(self) -> Any: ...


class SeedanceError(Exception):
    """Base class of everything this package raises on purpose."""


class InvalidRequest(SeedanceError, ValueError):
    """The request would be refused (or would waste money); raised before any network call."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        allowed: str | None = None,
        model: str | None = None,
        provider: str | None = None,
    ) -> None:
        self.field = field
        self.value = value
        self.allowed = allowed
        self.model = model
        self.provider = provider
        self.message = message
        super().__init__(message)


class ConfigurationError(SeedanceError, ValueError):
    """The client itself is set up wrongly (unknown provider, key over plain HTTP, ...)."""


class APIError(SeedanceError):
    """The provider answered with an error body; the code and message are the provider's own."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        provider: str | None = None,
        param: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.request_id = request_id
        self.provider = provider
        self.param = param
        self.retry_after = retry_after
        self.body = body
        parts = [f"{provider or 'provider'} answered"]
        if status_code is not None:
            parts.append(f"HTTP {status_code}")
        if code:
            parts.append(code)
        text = " ".join(parts) + f": {message}"
        if request_id and request_id not in message:  # Ark already ends its message with it
            text += f" (request id {request_id})"
        super().__init__(text)

    def as_type(self, cls: type[APIError], *, code: str | None = None) -> APIError:
        """The same answer as a more specific error class (a dialect that learns from the
        body, not the status, that this is e.g. a NotFoundError)."""
        return cls(
            self.message,
            status_code=self.status_code,
            code=code or self.code,
            request_id=self.request_id,
            provider=self.provider,
            param=self.param,
            retry_after=self.retry_after,
            body=self.body,
        )

    @property
    def retryable(self) -> bool:
        """Whether the same call may succeed later (rate limits, overload, server faults)."""
        return self.status_code is not None and (self.status_code == 429 or self.status_code >= 500)


class AuthenticationError(APIError):
    """HTTP 401: the key is missing, wrong or expired."""


class PermissionDeniedError(APIError):
    """HTTP 403: the account may not use this model (or is overdue)."""


class InsufficientQuotaError(APIError):
    """HTTP 402 (or a quota code): the account has run out of credit."""


class NotFoundError(APIError):
    """HTTP 404 (or the provider's own 'no such task'): unknown task, model or endpoint."""


class RateLimitError(APIError):
    """HTTP 429: slow down; ``retry_after`` says for how long when the provider tells."""


class ServerError(APIError):
    """HTTP 5xx: the provider failed; reads are retried, creates are reconciled."""


class BadResponseError(SeedanceError):
    """The server answered something that is not what its contract says (bad JSON, wrong types)."""


class APIConnectionError(SeedanceError):
    """The request did not get an answer: refused, reset, timed out."""


class NotSentError(APIConnectionError):
    """The request provably never left this machine: the name did not resolve, the connection
    was refused or timed out, TLS or a proxy failed before a byte of it was written.

    Nothing reached the provider, so nothing was created or charged: a create that fails so
    is not in doubt, and the same request may simply be sent again.
    """

    def __init__(self, provider: str, host: str, reason: str) -> None:
        self.provider = provider
        self.host = host
        self.reason = reason
        super().__init__(
            f"could not reach {provider} at {host}: {reason}; nothing was sent, nothing was charged"
        )


def ways_out(job_id: str | None) -> str:
    """How to send an unknown-outcome job's request again on purpose, in every face."""
    return (
        "Check the provider's console; to send it again anyway (it may pay twice): "
        "client.resubmit(job), seedance-nb generate … --force, "
        f"or %seedance resubmit {job_id or 'ID'}"
    )


class UnknownOutcomeError(SeedanceError):
    """A create was sent but its fate is unknown and could not be reconciled.

    The job is kept in the ledger with status 'unknown'. Resubmitting may pay twice, so it is
    never done automatically; the message names the ways to do it on purpose.
    """

    def __init__(self, message: str, *, job: JobLike | None = None) -> None:
        self.job: Any = job  # the Job
        super().__init__(f"{message} {ways_out(job.id if job is not None else None)}")


class JobFailed(SeedanceError):
    """The job ended without a video (failed, cancelled, expired, or its outcome unknown)."""

    def __init__(self, job: JobLike) -> None:
        self.job: Any = job  # the Job
        error = job.error
        if job.outcome_unknown:
            why = f" ({error.message})" if error else ""
            text = (
                f"job {job.id}: outcome unknown, the create may or may not have made a task"
                f"{why}; nothing was resent. {ways_out(job.id)}"
            )
        else:
            detail = f": {error.code}: {error.message}" if error else ""
            text = f"job {job.id} ended {job.status}{detail}"
        super().__init__(text)


class WaitTimeout(SeedanceError, TimeoutError):
    """``wait(timeout=…)`` ran out; the job itself goes on and can be waited for again."""


class DownloadError(SeedanceError):
    """The finished video could not be fetched (cut, too large, not a video, URL expired)."""


class DownloadCapExceeded(DownloadError):
    """The video is larger than the client's ``max_download_bytes``: retrying cannot help."""


def _usd(value: float) -> str:
    """Dollars to the cent; tenths of a cent and below for sums under a cent."""
    return f"${value:,.2f}" if value >= 0.01 or value == 0 else f"${value:.4f}"


class BudgetExceeded(SeedanceError):
    """A submit (or a batch of them) whose estimate would take spend past the budget; raised
    before anything is claimed in the ledger or sent.

    ``spent`` is the workdir's spend so far (billed tokens of finished jobs, estimates of jobs
    in flight, at catalog prices), ``estimate`` what the refused jobs would add (None when a
    model has no price), ``budget`` the cap. On the emulator both count what the jobs would
    have cost on a real provider (``emulated``), so a budget can be tried offline.
    """

    def __init__(
        self,
        *,
        spent: float,
        estimate: float | None,
        budget: float,
        jobs: int = 1,
        emulated: bool = False,
        unpriced: tuple[str, ...] = (),
    ) -> None:
        self.spent = spent
        self.estimate = estimate
        self.budget = budget
        self.jobs = jobs
        self.emulated = emulated
        self.unpriced = unpriced
        what = "this job" if jobs == 1 else f"these {jobs} jobs"
        kind = "would-have-cost spend on the emulator" if emulated else "spend"
        if unpriced:
            why = (
                f"no price is known for {', '.join(unpriced)}, so {what} cannot be held to the "
                f"budget of {_usd(budget)}; set one with sd.catalog.set_price(model, usd_per_mtok)"
            )
        else:
            total = spent + (estimate or 0.0)
            why = (
                f"budget exceeded: {kind} {_usd(spent)} + estimated {_usd(estimate or 0.0)} for "
                f"{what} = {_usd(total)}, over the budget of {_usd(budget)}"
            )
        super().__init__(
            f"{why}; nothing was sent. Raise the budget (budget_usd=…, "
            "%config Seedance.budget_usd = …, SEEDANCE_BUDGET_USD) or see client.spend()"
        )
