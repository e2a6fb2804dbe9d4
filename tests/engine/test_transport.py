"""HTTP plumbing: the sealed key, the URL policy, retries for reads and never for creates."""

from __future__ import annotations

import asyncio
import contextlib
import pickle
import socket
import threading
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from seedance_nb import catalog, errors
from seedance_nb.engine.http import (
    USER_AGENT,
    ProviderHTTP,
    RetryPolicy,
    Secret,
    build_httpx_request,
    check_base_url,
    decode_json,
    is_loopback,
)
from seedance_nb.providers import HttpCall, dialect_for

KEY = "sk-live-TRANSPORT-do-not-print-7f3a"
ARK = dialect_for(catalog.PROVIDERS["ark"])
GET = HttpCall("GET", "/contents/generations/tasks/cgt-1")
CREATE = HttpCall("POST", "/contents/generations/tasks", json={"model": "m"}, idempotent=False)


# ----------------------------------------------------------------------------- Secret


def test_secret_never_prints_itself() -> None:
    s = Secret(KEY)
    assert s.reveal() == KEY
    for text in (repr(s), str(s), f"{s}", f"{s!r}", repr([s]), repr({"k": s})):
        assert KEY not in text and "****" in text
    assert bool(s) and not bool(Secret(""))
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(s)


# ----------------------------------------------------------------------------- base URL policy


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8642/api/v3",
        "http://localhost:1/api/v3",
        "http://[::1]:9/api/v3",
        "http://127.0.0.2/x",
        "http://emu.localhost:5/api",
    ],
)
def test_plain_http_with_a_key_is_fine_on_loopback(url: str) -> None:
    assert check_base_url(url + "/", has_key=True) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://ark.example.com/api/v3",
        "http://10.0.0.8/api/v3",
        "http://192.168.1.2:8080",
        "http://localhost.evil.com/x",
    ],
)
def test_plain_http_with_a_key_is_refused_elsewhere(url: str) -> None:
    with pytest.raises(
        errors.ConfigurationError, match="refusing to send an API key over plain http"
    ):
        check_base_url(url, has_key=True)
    assert check_base_url(url, has_key=False) == url  # no key, nothing to leak
    assert check_base_url(url.replace("http://", "https://"), has_key=True)


@pytest.mark.parametrize("url", ["ftp://example.com", "example.com/api", "https://", ""])
def test_base_url_must_be_http(url: str) -> None:
    with pytest.raises(errors.ConfigurationError, match="must be an http"):
        check_base_url(url, has_key=False)


def test_base_url_must_not_carry_credentials() -> None:
    with pytest.raises(errors.ConfigurationError, match="must not carry credentials") as info:
        check_base_url(f"https://user:{KEY}@example.com", has_key=False)
    assert KEY not in str(info.value)


def test_is_loopback() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("[::1]")
    assert is_loopback("localhost") and not is_loopback("example.com")
    assert not is_loopback(None) and not is_loopback("10.1.1.1")


def test_provider_http_applies_the_policy() -> None:
    with pytest.raises(errors.ConfigurationError):
        ProviderHTTP(ARK, "http://ark.example.com/api/v3", Secret(KEY))
    http = ProviderHTTP(ARK, "http://127.0.0.1:9/api/v3/", Secret(KEY))
    assert http.base_url == "http://127.0.0.1:9/api/v3"
    asyncio.run(http.aclose())


# ----------------------------------------------------------------------------- requests


def test_build_httpx_request() -> None:
    call = HttpCall("GET", "/tasks", params=[("filter.task_ids", "a"), ("filter.task_ids", "b")])
    req = build_httpx_request(call, "https://h/api/v3/", {"X": "1"})
    assert str(req.url) == "https://h/api/v3/tasks?filter.task_ids=a&filter.task_ids=b"
    assert req.headers["X"] == "1"
    req = build_httpx_request(CREATE, "https://h/api/v3")
    assert req.method == "POST" and req.content == b'{"model":"m"}'
    multipart = HttpCall(
        "POST", "/v", data={"prompt": "p"}, files=[("f", ("a.png", b"PNG", "image/png"))]
    )
    req = build_httpx_request(multipart, "https://h")
    assert req.headers["content-type"].startswith("multipart/form-data")


def test_decode_json() -> None:
    ok = httpx.Response(200, content=b'{"a": 1}')
    assert decode_json(ok, "ark") == {"a": 1}
    assert decode_json(httpx.Response(200, content=b"  "), "ark") == {}
    with pytest.raises(errors.BadResponseError, match="not JSON"):
        decode_json(httpx.Response(200, content=b"<html>oops</html>"), "ark")
    with pytest.raises(errors.BadResponseError, match="byte body"):
        decode_json(httpx.Response(200, content=b"1" * (8 * 1024 * 1024 + 1)), "ark")


# ----------------------------------------------------------------------------- retries (MockTransport)

Handler = Callable[[httpx.Request], httpx.Response]


def session(handler: Handler, attempts: int = 4) -> tuple[ProviderHTTP, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(record))
    http = ProviderHTTP(
        ARK,
        "https://ark.example.com/api/v3",
        Secret(KEY),
        client=client,
        retry=RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.01),
    )
    return http, seen


def sequence(*responses: httpx.Response) -> Handler:
    queue = list(responses)
    return lambda request: queue.pop(0) if len(queue) > 1 else queue[0]


def err(status: int, code: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, json={"error": {"code": code, "message": f"{code} happened"}}, headers=headers or {}
    )


def call(http: ProviderHTTP, c: HttpCall) -> Any:
    async def go() -> Any:
        try:
            return await http.call(c)
        finally:
            await http.client.aclose()

    return asyncio.run(go())


def test_headers_carry_the_key_only_in_authorization() -> None:
    http, seen = session(lambda r: httpx.Response(200, json={"id": "cgt-1"}))
    assert call(http, GET) == {"id": "cgt-1"}
    req = seen[0]
    assert req.headers["authorization"] == f"Bearer {KEY}"
    assert req.headers["user-agent"] == USER_AGENT
    assert KEY not in str(req.url)
    assert str(req.url) == "https://ark.example.com/api/v3/contents/generations/tasks/cgt-1"


@pytest.mark.parametrize(
    "status,code",
    [(503, "ServerOverloaded"), (429, "RateLimitExceeded"), (500, "InternalServiceError")],
)
def test_reads_retry_on_429_and_5xx(status: int, code: str) -> None:
    http, seen = session(
        sequence(
            err(status, code),
            err(status, code),
            httpx.Response(200, json={"id": "cgt-1", "status": "running"}),
        )
    )
    assert call(http, GET)["status"] == "running"
    assert len(seen) == 3 and http.requests_sent == 3


def test_reads_give_up_after_the_attempts_with_the_typed_error() -> None:
    http, seen = session(
        lambda r: err(503, "ServerOverloaded", {"x-request-id": "req-9"}), attempts=3
    )
    with pytest.raises(errors.ServerError) as info:
        call(http, GET)
    e = info.value
    assert len(seen) == 3
    assert (e.status_code, e.code, e.request_id, e.provider) == (
        503,
        "ServerOverloaded",
        "req-9",
        "ark",
    )
    assert e.retryable and KEY not in str(e) and KEY not in repr(e.body)


def test_reads_honour_retry_after() -> None:
    http, seen = session(
        sequence(
            err(429, "RateLimitExceeded", {"Retry-After": "0"}),
            httpx.Response(200, json={"ok": True}),
        )
    )
    assert call(http, GET) == {"ok": True} and len(seen) == 2
    assert RetryPolicy().delay(0, 3.0) == 3.0 and RetryPolicy().delay(0, 999.0) == 120.0
    assert 0.25 <= RetryPolicy(base_delay=0.5).delay(0, None) <= 0.5


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (503, "ServerOverloaded", errors.ServerError),
        (429, "RateLimitExceeded", errors.RateLimitError),
        (500, "InternalServiceError", errors.ServerError),
    ],
)
def test_creates_are_never_retried(status: int, code: str, cls: type[errors.APIError]) -> None:
    http, seen = session(sequence(err(status, code), httpx.Response(200, json={"id": "cgt-2"})))
    with pytest.raises(cls) as info:
        call(http, CREATE)
    assert len(seen) == 1 and info.value.code == code


def test_creates_are_not_retried_after_a_connection_error() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    http, seen = session(boom)
    with pytest.raises(errors.APIConnectionError, match="timed out"):
        call(http, CREATE)
    assert len(seen) == 1
    http, seen = session(boom, attempts=3)
    with pytest.raises(errors.APIConnectionError):
        call(http, GET)
    assert len(seen) == 3


def test_reads_recover_from_a_dropped_connection() -> None:
    state = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        state["n"] += 1
        if state["n"] == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, json={"id": "cgt-1"})

    http, seen = session(flaky)
    assert call(http, GET) == {"id": "cgt-1"} and len(seen) == 2


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (400, "InvalidParameter", errors.APIError),
        (401, "AuthenticationError", errors.AuthenticationError),
        (402, "insufficient_quota", errors.InsufficientQuotaError),
        (403, "AccessDenied", errors.PermissionDeniedError),
        (404, "InvalidEndpointOrModel.NotFound", errors.NotFoundError),
    ],
)
def test_client_errors_are_mapped_and_not_retried(
    status: int, code: str, cls: type[errors.APIError]
) -> None:
    http, seen = session(lambda r: err(status, code))
    with pytest.raises(cls) as info:
        call(http, GET)
    e = info.value
    assert len(seen) == 1 and type(e) is cls and not e.retryable
    assert e.status_code == status and e.code == code and e.message == f"{code} happened"
    assert f"HTTP {status}" in str(e) and code in str(e) and KEY not in str(e)


def test_error_bodies_that_are_not_json() -> None:
    http, _ = session(lambda r: httpx.Response(400, content=b"bad gateway thing"))
    with pytest.raises(errors.APIError, match="bad gateway thing") as info:
        call(http, GET)
    assert info.value.status_code == 400


def test_redirects_are_not_followed() -> None:
    http, seen = session(
        lambda r: httpx.Response(302, headers={"Location": "https://evil.example"})
    )
    with pytest.raises(errors.BadResponseError, match="redirect"):
        call(http, GET)
    assert len(seen) == 1


def test_ok_body_that_is_not_json_is_retried_for_reads_then_raised() -> None:
    http, seen = session(lambda r: httpx.Response(200, content=b"<html>"), attempts=2)
    with pytest.raises(errors.BadResponseError):
        call(http, GET)
    assert len(seen) == 2


def test_an_endless_body_is_cut_off_at_the_cap_not_read_whole() -> None:
    sent = {"bytes": 0}

    class Endless(httpx.AsyncByteStream):  # no Content-Length: only reading tells the size
        async def __aiter__(self):  # type: ignore[override]
            while sent["bytes"] < 64 * 1024 * 1024:
                sent["bytes"] += 65536
                yield b" " * 65536

    http, _ = session(lambda r: httpx.Response(200, stream=Endless()))
    with pytest.raises(errors.BadResponseError, match="where JSON was expected"):
        call(http, GET)
    # each of the read's attempts stopped just past the 8 MB cap
    assert sent["bytes"] <= http.retry.attempts * (8 * 1024 * 1024 + 65536)


def test_a_huge_announced_body_is_refused_before_reading() -> None:
    http, _ = session(
        lambda r: httpx.Response(200, headers={"content-length": str(10**12)}, content=b"{}")
    )
    with pytest.raises(errors.BadResponseError, match="announced a 1,000,000,000,000-byte body"):
        call(http, GET)


# ----------------------------------------------------------------------------- sent, or provably not


@pytest.mark.parametrize(
    "exc,reason",
    [
        (httpx.ConnectError("refused"), "connection failed"),
        (httpx.ConnectTimeout("slow"), "connection timed out"),
        (httpx.ProxyError("407 Proxy Authentication Required"), "the proxy refused the connection"),
    ],
)
def test_a_request_that_never_left_is_told_apart(exc: httpx.HTTPError, reason: str) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    http, seen = session(boom)
    with pytest.raises(errors.NotSentError) as info:
        call(http, CREATE)
    assert len(seen) == 1 and info.value.reason == reason and info.value.host == "ark.example.com"
    assert str(info.value) == (
        f"could not reach ark at ark.example.com: {reason}; nothing was sent, nothing was charged"
    )
    assert isinstance(info.value, errors.APIConnectionError) and KEY not in str(info.value)


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ReadTimeout("no answer"),
        httpx.ReadError("reset"),
        httpx.WriteError("broken pipe"),
        httpx.WriteTimeout("stuck"),
        httpx.RemoteProtocolError("closed without a response"),
        httpx.PoolTimeout("no connection free"),
    ],
)
def test_a_request_that_may_have_arrived_is_not_called_unsent(exc: httpx.HTTPError) -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise exc

    http, _ = session(boom)
    with pytest.raises(errors.APIConnectionError) as info:
        call(http, CREATE)
    assert not isinstance(info.value, errors.NotSentError)
    assert "nothing was sent" not in str(info.value)


def _real_session(base_url: str) -> ProviderHTTP:
    return ProviderHTTP(ARK, base_url, Secret(KEY), retry=RetryPolicy(attempts=1), timeout=5.0)


def _send_create(http: ProviderHTTP) -> errors.SeedanceError:
    async def go() -> errors.SeedanceError:
        try:
            await http.call(CREATE)
        except errors.SeedanceError as exc:
            return exc
        finally:
            await http.aclose()
        raise AssertionError("the create went through")

    return asyncio.run(go())


def test_a_closed_port_reads_connection_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exc = _send_create(_real_session(f"http://127.0.0.1:{port}/api/v3"))
    assert isinstance(exc, errors.NotSentError) and exc.reason == "connection refused"
    assert exc.host == f"127.0.0.1:{port}"


def test_a_tls_handshake_that_fails_reads_tls() -> None:
    # a loopback server that takes the connection and closes it without speaking TLS
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def close_all() -> None:
            with contextlib.suppress(OSError):
                while True:
                    conn, _ = server.accept()
                    conn.recv(64)
                    conn.close()

        threading.Thread(target=close_all, daemon=True).start()
        exc = _send_create(_real_session(f"https://127.0.0.1:{port}/api/v3"))
    assert isinstance(exc, errors.NotSentError) and exc.reason == "TLS handshake failed", exc


def test_a_request_cut_after_it_was_read_may_have_arrived() -> None:
    # the server reads the whole request, then closes without answering: it may have acted
    got = bytearray()
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def read_then_close() -> None:
            conn, _ = server.accept()
            while b"\r\n\r\n" not in got:
                got.extend(conn.recv(4096))
            conn.close()

        threading.Thread(target=read_then_close, daemon=True).start()
        exc = _send_create(_real_session(f"http://127.0.0.1:{port}/api/v3"))
    assert got.startswith(b"POST /api/v3/contents/generations/tasks")
    assert isinstance(exc, errors.APIConnectionError) and not isinstance(exc, errors.NotSentError)


def test_a_retried_read_records_how_long_it_took_to_recover() -> None:
    http, seen = session(
        sequence(err(503, "ServerOverloaded"), httpx.Response(200, json={"id": "cgt-1"}))
    )
    assert call(http, GET) == {"id": "cgt-1"} and len(seen) == 2
    assert len(http.recoveries) == 1 and 0 <= http.recoveries[0] < 1.0
    http, _ = session(lambda r: httpx.Response(200, json={"id": "cgt-1"}))
    call(http, GET)
    assert http.recoveries == []  # nothing failed, nothing to recover from
