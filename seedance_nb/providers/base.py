"""The dialect interface: how one provider's wire format maps to our request and task.

A dialect is pure translation. It builds :class:`HttpCall` descriptions and parses bodies;
it owns no connection, loop or storage, so it can be unit-tested with payloads alone and a
new gateway is one module.
"""

from __future__ import annotations

import math
import re
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from .. import errors
from ..catalog import Provider
from .task import STATUSES, TaskState

if TYPE_CHECKING:  # annotations only: a dialect's module loads without pydantic
    from ..request import VideoRequest

Fetch = Callable[[str], Awaitable[bytes]]

_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,199}$")


@dataclass
class HttpCall:
    """One HTTP request, relative to the provider's base URL."""

    method: str
    path: str
    params: list[tuple[str, str]] = field(default_factory=list)
    json: Any = None
    data: dict[str, str] | None = None  # multipart text fields
    files: list[tuple[str, tuple[str, bytes, str]]] | None = None  # multipart file parts
    idempotent: bool = True  # False for creates: never retried blindly


class Dialect(ABC):
    """Translate between :class:`VideoRequest`/:class:`TaskState` and one provider's wire."""

    name: ClassVar[str]
    #: How many task ids one batch status read may carry (0: no batch read).
    batch_size: ClassVar[int] = 0

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    # create -------------------------------------------------------------------------------
    @abstractmethod
    async def create_call(self, request: VideoRequest, fetch: Fetch) -> HttpCall:
        """The create request. ``fetch`` downloads a remote file when the wire needs bytes."""

    @abstractmethod
    def parse_created(self, body: Any) -> TaskState:
        """The task as the create response describes it (at least its id)."""

    # read ---------------------------------------------------------------------------------
    @abstractmethod
    def get_call(self, task_id: str) -> HttpCall: ...

    @abstractmethod
    def parse_task(self, body: Any) -> TaskState: ...

    def list_call(self, task_ids: list[str]) -> HttpCall:
        raise NotImplementedError(f"{self.name} has no batch status read")

    def list_items(self, body: Any) -> list[Any]:
        """A listing's task objects, unparsed (each is read by :meth:`parse_task`): a
        hundred-task listing can then be parsed a slice per turn of the event loop."""
        raise NotImplementedError(f"{self.name} has no batch status read")

    def parse_list(self, body: Any) -> list[TaskState]:
        return [self.parse_task(item) for item in self.list_items(body)]

    def parse_callback(self, body: Any) -> TaskState:
        """A status callback body; most providers post what a GET returns."""
        return self.parse_task(body)

    # reconcile ----------------------------------------------------------------------------
    def reconcile_call(self, request: VideoRequest, page: int) -> HttpCall | None:
        """A listing that may contain a task created by an answer we never got (None: none)."""
        return None

    def parse_reconcile(self, body: Any) -> tuple[list[TaskState], bool]:
        """Tasks in one page of the reconcile listing, and whether more pages follow."""
        return [], False

    def matches(self, request: VideoRequest, task: TaskState) -> bool:
        """Whether a listed task could be the one ``request`` created."""
        return False

    # cancel -------------------------------------------------------------------------------
    def cancel_call(self, task_id: str) -> HttpCall | None:
        """The cancel request, or None when the provider has no way to cancel."""
        return None

    def parse_cancel(self, task_id: str, body: Any) -> TaskState | None:
        """The task after a cancel, when the answer says; None means read it again."""
        return None

    def refuse(
        self, request: VideoRequest, field: str, value: Any, why: str, allowed: str
    ) -> errors.InvalidRequest:
        """A local refusal shaped like every other validation error: field, value, allowed."""
        model = request.tier or request.model_id
        return errors.InvalidRequest(
            f"{field}={value!r} is not allowed for {model} on {self.provider.name}: {why} "
            f"Allowed: {allowed}.",
            field=field,
            value=value,
            allowed=allowed,
            model=model,
            provider=self.provider.name,
        )

    def public_urls(self, request: VideoRequest, why: str) -> list[str]:
        """Every medium as an http(s) URL, in content order, for gateways that fetch URLs only."""
        urls = []
        for ref in request.media:
            url = ref.url or ""
            if ref.is_local or not url.lower().startswith(("http://", "https://")):
                raise self.refuse(request, ref.role, ref.short(), why, "https:// URLs")
            urls.append(url)
        return urls

    # errors -------------------------------------------------------------------------------
    def parse_error(self, status: int, body: Any, headers: Mapping[str, str]) -> errors.APIError:
        """Turn an error answer into the right :class:`APIError` subclass."""
        code, message, param = None, None, None
        if isinstance(body, dict):
            err = body.get("error")
            if isinstance(err, dict):
                code = _text(err.get("code"))
                message = _text(err.get("message"))
                param = _text(err.get("param"))
            elif isinstance(err, str):
                message = err
            code = code or _text(body.get("code"))
            message = message or _text(body.get("message")) or _text(body.get("msg"))
        elif isinstance(body, str) and body.strip():
            message = body.strip()[:300]
        return api_error(
            self.provider.name,
            status,
            code,
            message or f"HTTP {status}",
            headers=headers,
            param=param,
            body=body,
        )


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        from email.utils import parsedate_to_datetime
        from time import time

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time())
        except (TypeError, ValueError):
            return None


def request_id(headers: Mapping[str, str]) -> str | None:
    for name in ("x-request-id", "x-tt-logid", "request-id", "x-client-request-id"):
        if headers.get(name):
            return headers[name]
    return None


def api_error(
    provider: str,
    status: int,
    code: str | None,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    param: str | None = None,
    body: Any = None,
) -> errors.APIError:
    """Build the :class:`APIError` subclass that fits the status and code."""
    headers = headers or {}
    cls: type[errors.APIError] = errors.APIError
    lowered = (code or "").lower()
    if status == 401:
        cls = errors.AuthenticationError
    elif status == 402 or ("quota" in lowered and status != 429):
        cls = errors.InsufficientQuotaError
    elif status == 403:
        cls = errors.PermissionDeniedError
    elif status == 404:
        cls = errors.NotFoundError
    elif status == 429:
        cls = errors.RateLimitError
    elif status >= 500:
        cls = errors.ServerError
    return cls(
        message,
        status_code=status,
        code=code,
        request_id=request_id(headers),
        provider=provider,
        param=param,
        retry_after=retry_after_seconds(headers),
        body=_scrub(body),
    )


def _scrub(body: Any) -> Any:
    """Keep error bodies small; they end up in reprs and the ledger."""
    if isinstance(body, str):
        return body[:2000]
    return body


def safe_task_id(value: Any, provider: str) -> str:
    """A provider task id we can safely put in a URL path and a file name."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _SAFE_ID.match(value):
        raise errors.BadResponseError(
            f"{provider} returned a task id that is not a plain identifier: {str(value)[:80]!r}"
        )
    return value


def expect_dict(body: Any, provider: str, what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise errors.BadResponseError(
            f"{provider} {what}: expected a JSON object, got {type(body).__name__}"
        )
    return body


def check_status(value: Any, provider: str) -> Any:
    if value not in STATUSES:
        raise errors.BadResponseError(
            f"{provider} returned an unknown task status {str(value)[:40]!r}"
        )
    return value


def as_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        if isinstance(value, (int, float)):
            f = float(value)
        elif isinstance(value, str):
            f = float(value.strip().rstrip("%"))
        else:
            return None
    except (OverflowError, ValueError):
        return None
    return f if math.isfinite(f) else None


def as_int(value: Any) -> int | None:
    f = as_float(value)
    return None if f is None else int(f)


def as_url(value: Any, provider: str) -> str | None:
    """A result URL must be http(s); anything else (file:, javascript:) is refused."""
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.lower().startswith(("http://", "https://")):
        raise errors.BadResponseError(
            f"{provider} returned a result URL that is not http(s): {str(value)[:60]!r}"
        )
    return value


def progress_fraction(value: Any) -> float | None:
    """'50%', 50 or 0.5 → 0.5."""
    f = as_float(value)
    if f is None:
        return None
    if (isinstance(value, str) and value.strip().endswith("%")) or f > 1.0:
        f = f / 100.0
    return max(0.0, min(1.0, f))


def percent_fraction(value: Any) -> float | None:
    """Gateways that report whole percentages: 50 or "50%" → 0.5 (so 1 means 1%, not 100%)."""
    if isinstance(value, str):
        return progress_fraction(value) if as_float(value) is not None else None
    f = as_float(value)
    return None if f is None else max(0.0, min(1.0, f / 100.0))
