"""HTTP plumbing: the sealed API key, the URL policy, and one call with retries.

The key lives in a :class:`Secret` whose repr is a mask; it is put into the Authorization
header at the last moment and never into a URL, log line, exception or ledger row. It is
never sent over plain ``http://`` unless the host is loopback.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import json
import random
import secrets
import socket
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from .. import errors
from ..providers.base import Dialect, HttpCall, retry_after_seconds

USER_AGENT = "seedance-nb/0.1"
MAX_JSON_BYTES = 8 * 1024 * 1024  # a status body larger than this is not a status body


class Secret:
    """An API key that will not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("an API key is not picklable")


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(base_url: str, *, has_key: bool) -> str:
    """Refuse URLs that would leak the key: plain http is for loopback only."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise errors.ConfigurationError(f"base_url must be an http(s) URL, got {base_url!r}")
    if parts.username or parts.password:
        raise errors.ConfigurationError("base_url must not carry credentials; pass api_key=")
    if parts.scheme == "http" and has_key and not is_loopback(parts.hostname):
        raise errors.ConfigurationError(
            f"refusing to send an API key over plain http to {parts.hostname}; "
            "use https:// (plain http is allowed only for loopback addresses)"
        )
    return base_url.rstrip("/")


def _multipart(call: HttpCall, url: httpx.URL) -> tuple[dict[str, str], bytes]:
    """A multipart/form-data body and its headers, even with no file part: httpx urlencodes
    ``data=`` alone, so text fields travel as file parts without a file name, which httpx
    renders byte for byte like plain form fields (fields first, then files, as before)."""
    parts: list[tuple[str, Any]] = [
        (name, (None, value)) for name, value in (call.data or {}).items()
    ]
    parts += call.files or []
    if not parts:  # nothing to send is still a (closed) multipart body
        boundary = secrets.token_hex(16)
        return {
            "Content-Type": f"multipart/form-data; boundary={boundary}"
        }, f"--{boundary}--\r\n".encode()
    form = httpx.Request(call.method, url, files=parts)
    body = form.read()  # bytes: a stream object would be sync-only
    keep = ("content-type", "content-length")
    return {k: v for k, v in form.headers.items() if k.lower() in keep}, body


def build_httpx_request(
    call: HttpCall, base_url: str, headers: Mapping[str, str] | None = None
) -> httpx.Request:
    """Turn a dialect's :class:`HttpCall` into an :class:`httpx.Request` (no I/O)."""
    url = _url(base_url.rstrip("/") + call.path, tuple(call.params))
    kwargs: dict[str, Any] = {"headers": dict(headers or {})}
    if call.files is not None or call.data is not None:
        form_headers, kwargs["content"] = _multipart(call, url)
        kwargs["headers"].update(form_headers)
    elif call.json is not None:
        kwargs["json"] = call.json
    return httpx.Request(call.method, url, **kwargs)


@functools.lru_cache(maxsize=64)
def _url(url: str, params: tuple[tuple[str, str], ...]) -> httpx.URL:
    """The parsed URL of a call. httpx checks a URL a character at a time, and a listing of a
    hundred tasks is a 4 KB URL: each round asks for the same ones again, so they are kept."""
    return httpx.URL(url, params=params or None)


def decode_json(response: httpx.Response, provider: str) -> Any:
    """A JSON body, or a typed error for anything that is not one."""
    if len(response.content) > MAX_JSON_BYTES:
        raise errors.BadResponseError(
            f"{provider} sent a {len(response.content):,}-byte body where JSON was expected"
        )
    if not response.content.strip():
        return {}
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        snippet = response.content[:80].decode("utf-8", "replace")
        raise errors.BadResponseError(
            f"{provider} sent a body that is not JSON: {snippet!r}"
        ) from None


@dataclass
class RetryPolicy:
    """Reads and downloads retry on 429/5xx/connection errors; creates never do."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 20.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, 120.0)
        return min(self.max_delay, self.base_delay * 2**attempt) * (0.5 + random.random() / 2)


class ProviderHTTP:
    """One provider's HTTP session: base URL, auth header, retries, error mapping."""

    def __init__(
        self,
        dialect: Dialect,
        base_url: str,
        api_key: Secret | None,
        *,
        client: httpx.AsyncClient | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.dialect = dialect
        self.provider = dialect.provider.name
        self.base_url = check_base_url(base_url, has_key=bool(api_key))
        self._key = api_key
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
            follow_redirects=False,
            trust_env=False,
        )
        self.retry = retry or RetryPolicy()
        self.requests_sent = 0
        self.recoveries: list[float] = []  # seconds from a failed attempt to a call's success

    def _headers(self) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key.reveal()}"
        return headers

    async def send_once(self, call: HttpCall) -> tuple[int, Any, httpx.Headers]:
        """One attempt. Connection failures raise :class:`APIConnectionError`."""
        request = build_httpx_request(call, self.base_url, self._headers())
        self.requests_sent += 1
        try:
            response = await _send_capped(self.client, request, MAX_JSON_BYTES, self.provider)
        except httpx.HTTPError as exc:
            reason = not_sent_reason(exc)
            if reason is not None:  # it never left: say so, and that nothing was charged
                host = urlsplit(self.base_url).netloc
                raise errors.NotSentError(self.provider, host, reason) from None
            # it may have arrived: the answer, not the request, is what was lost
            what = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
            raise errors.APIConnectionError(
                f"{self.provider}: {call.method} {call.path} {what} ({exc.__class__.__name__})"
            ) from None
        body = (
            decode_json(response, self.provider)
            if response.status_code < 300
            else _lenient_json(response)
        )
        return response.status_code, body, response.headers

    async def call(self, call: HttpCall) -> Any:
        """Send ``call``; retry if it is idempotent; return the JSON body or raise APIError."""
        attempts = self.retry.attempts if call.idempotent else 1
        last: Exception | None = None
        failed_at: float | None = None  # when the first failed attempt of this call ended
        for attempt in range(attempts):
            retry_after: float | None = None
            try:
                status, body, headers = await self.send_once(call)
            except errors.APIConnectionError as exc:
                last = exc
            except errors.BadResponseError as exc:
                last = exc
            else:
                if status < 300:
                    if failed_at is not None:
                        self.recoveries.append(time.monotonic() - failed_at)
                    return body
                if 300 <= status < 400:
                    raise errors.BadResponseError(
                        f"{self.provider} answered {call.method} {call.path} with a redirect ({status}); not followed"
                    )
                err = self.dialect.parse_error(status, body, headers)
                if not err.retryable:
                    raise err
                last = err
                retry_after = retry_after_seconds(headers)
            if failed_at is None:
                failed_at = time.monotonic()
            if attempt + 1 < attempts:
                await asyncio.sleep(self.retry.delay(attempt, retry_after))
        assert last is not None
        raise last

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()


def not_sent_reason(exc: BaseException) -> str | None:
    """Why a request provably never left this machine, or None when it may have arrived.

    httpcore raises ``ConnectError``/``ConnectTimeout`` only while opening the connection
    (TCP connect, TLS handshake) and ``ProxyError`` only while setting up a proxy tunnel:
    in each, not a byte of the request was written. A read or write error, a read timeout,
    or a connection closed mid-answer may come after the server took the request in.
    """
    if isinstance(exc, httpx.ProxyError):
        return "the proxy refused the connection"
    if isinstance(exc, httpx.ConnectTimeout):
        return "connection timed out"
    if not isinstance(exc, httpx.ConnectError):
        return None
    chain: list[BaseException] = []
    cause: BaseException | None = exc
    while cause is not None and cause not in chain and len(chain) < 10:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    for cause in chain:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted ({cause.verify_message})"
        if isinstance(cause, ssl.SSLError) or type(cause).__name__ in _TLS_STREAM_ERRORS:
            return "TLS handshake failed"
    for cause in chain:
        if isinstance(cause, socket.gaierror):
            return "name not resolved"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, TimeoutError):
            return "connection timed out"
        if isinstance(cause, OSError) and cause.errno in _ERRNO_REASONS:
            return _ERRNO_REASONS[cause.errno]
    return "connection failed"


# anyio's stream errors: httpcore turns them into ConnectError only inside start_tls (the
# TCP connect maps plain OSErrors), so under a ConnectError they mean the handshake broke
_TLS_STREAM_ERRORS = ("EndOfStream", "BrokenResourceError")
_ERRNO_REASONS = {
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
    errno.ECONNRESET: "connection reset while connecting",
    errno.EADDRNOTAVAIL: "address not available",
}


async def _send_capped(
    client: httpx.AsyncClient, request: httpx.Request, cap: int, provider: str
) -> httpx.Response:
    """Send, reading at most ``cap + 1`` body bytes: a broken or hostile server cannot make
    a status read allocate more than that (``decode_json`` then names the oversize body)."""
    response = await client.send(request, stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise errors.BadResponseError(
                f"{provider} announced a {int(declared):,}-byte body where JSON was expected"
            )
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > cap:
                break
    finally:
        await response.aclose()
    headers = httpx.Headers(response.headers)
    for decoded in ("content-encoding", "content-length", "transfer-encoding"):
        headers.pop(decoded, None)  # the body below is already decoded
    return httpx.Response(
        response.status_code, headers=headers, content=bytes(body), request=request
    )


def _lenient_json(response: httpx.Response) -> Any:
    try:
        return json.loads(response.content[:MAX_JSON_BYTES]) if response.content else {}
    except (ValueError, UnicodeDecodeError):
        return response.content[:500].decode("utf-8", "replace")
