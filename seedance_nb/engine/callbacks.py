"""A small local receiver for provider status callbacks.

Providers such as Ark POST a task's status to ``callback_url`` on every change. A notebook
has no public address, so this receiver listens on loopback and expects the user to run a
tunnel (``cloudflared``, ``ngrok``…) that forwards a public HTTPS URL to it; pass that URL as
``public_url``. Every callback goes through :meth:`AsyncClient.apply_callback`, which treats it
as a hint (a final status is confirmed by a status read of our own), so duplicates, stale
ones and forgeries cannot corrupt a job, and polling goes on for callbacks that never come.

The path carries a random token: a tunnel is public, and only the provider, who was given the
full URL, should be able to reach the handler. The receiver runs on the client's event loop
(the kernel's, in a notebook): no thread, and nothing blocks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from typing import TYPE_CHECKING, Any

from .. import errors

if TYPE_CHECKING:
    from .client import AsyncClient

log = logging.getLogger("seedance_nb.engine.callbacks")

MAX_CALLBACK_BYTES = 1024 * 1024  # a status body is a few KB
HEADER_TIMEOUT = 10.0
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    413: "Payload Too Large",
}


class CallbackReceiver:
    """Listens on ``host:port`` and applies each callback POSTed to :attr:`url` to ``client``."""

    def __init__(
        self,
        client: AsyncClient,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        public_url: str | None = None,
        token: str | None = None,
    ) -> None:
        self.client = client
        self.host, self.port = host, port
        self.public_url = public_url.rstrip("/") if public_url else None
        self.path = f"/seedance-callback/{token or secrets.token_urlsafe(18)}"
        self.received = 0  # well-formed callbacks for this path
        self.applied = 0  # of those, ones that named a job of ours
        self.refused = 0  # wrong path or method, oversize, unreadable
        self._server: asyncio.AbstractServer | None = None

    @property
    def local_url(self) -> str:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{shown}:{self.port}{self.path}"

    @property
    def url(self) -> str:
        """What to pass as ``callback_url``: the public tunnel URL if given, else the local one."""
        return (self.public_url + self.path) if self.public_url else self.local_url

    def __repr__(self) -> str:
        state = "listening" if self._server else "stopped"
        return f"<CallbackReceiver {state} on {self.host}:{self.port} received={self.received}>"

    async def start(self) -> CallbackReceiver:
        if self._server is None:
            self._server = await asyncio.start_server(self._serve, self.host, self.port)
            self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def aclose(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> CallbackReceiver:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # one connection, one request ----------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, answer = await self._handle(reader)
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, ConnectionError, ValueError):
            status, answer = 400, {"error": "malformed request"}
        if status != 200:
            self.refused += 1
        body = json.dumps(answer).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        try:
            writer.write(head.encode() + body)
            await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEADER_TIMEOUT)
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        pairs = (h.partition(":") for h in lines[1:] if h)
        headers = {k.strip().lower(): v.strip() for k, _, v in pairs}
        if target.split("?", 1)[0] != self.path:
            return 404, {"error": "not found"}
        if method != "POST":
            return 405, {"error": "POST only"}
        length = int(headers.get("content-length") or 0)
        if length < 0 or length > MAX_CALLBACK_BYTES:
            return 413, {"error": "body too large"}
        body = await asyncio.wait_for(reader.readexactly(length), HEADER_TIMEOUT)
        try:
            payload = json.loads(body)
        except ValueError:
            return 400, {"error": "body is not JSON"}
        try:
            job = await self.client.apply_callback(payload)
        except errors.SeedanceError as exc:  # unreadable as this provider's status body
            return 400, {"error": str(exc)[:200]}
        self.received += 1
        if job is None:
            return 200, {"ok": True, "applied": False}  # not ours: acknowledge, or it retries
        self.applied += 1
        return 200, {"ok": True, "applied": True, "job": job.id}


__all__ = ["CallbackReceiver"]
