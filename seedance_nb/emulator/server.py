"""The HTTP layer: a stdlib threading server and routing.

Requests under a dialect's mount prefix go to that dialect (see :mod:`.dialects`); the
emulator's own endpoints live under ``/emulator/``. Nothing here logs a header value: the
access log records method, path and status only, at DEBUG on the ``seedance_nb.emulator``
logger. An active fault plan (:mod:`.faults`) is consulted once per request here and its
:class:`~.faults.Effect` carried out: this layer owns the socket.

The request/response model lives in :mod:`.http_types` (so the dialects and the fault plan need
not import this module); ``Request``, ``Response``, ``json_response`` and ``file_response`` are
re-exported here for code written against the old layout.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import urllib.parse
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .. import catalog
from .dialects import mount_all
from .faults import FAULTS, NO_FAULT, Effect, request_phase
from .http_types import Request, Response, file_response, json_response
from .service import FILE_NAMES, TRIGGERS, Service

__all__ = ["Request", "Response", "ServerThread", "file_response", "json_response"]

log = logging.getLogger("seedance_nb.emulator")
access_log = logging.getLogger("seedance_nb.emulator.access")
MAX_BODY = catalog.REQUEST_MAX_BYTES + 1024 * 1024
_HOST_RE = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def _emulator_error(status: int, code: str, message: str) -> Response:
    return json_response({"error": {"code": code, "message": message}}, status)


class Router:
    """Dispatches to the emulator's own routes or to a mounted dialect by path prefix."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.mounts = mount_all(service)  # [(prefix, dialect)], longest prefix first
        self.prefixes = [prefix for prefix, _ in self.mounts]

    def handle(self, req: Request) -> Response:
        path = req.full_path
        if path == "/emulator" or path.startswith("/emulator/"):
            return self._emulator(req)
        for prefix, dialect in self.mounts:
            if path == prefix or path.startswith(prefix + "/"):
                req.path = path[len(prefix) :] or "/"
                req.route = ""
                resp = dialect.handle(req)  # may set req.route to a template like "/tasks/{id}"
                req.route = f"{req.method} {prefix}{req.route or '/…'}"
                return resp
        req.route = f"{req.method} (unknown)"
        return _emulator_error(404, "NotFound", f"No route for {req.method} {path}.")

    # ----------------------------------------------------------------------------- /emulator

    def _emulator(self, req: Request) -> Response:
        parts = [urllib.parse.unquote(p) for p in req.full_path.split("/")[2:] if p]
        svc = self.service
        if parts == ["health"] and req.method in ("GET", "HEAD"):
            req.route = "GET /emulator/health"
            plan = svc.faults
            return json_response(
                {
                    "status": "ok",
                    "service": "seedance-nb emulator",
                    "mounts": self.prefixes,
                    "triggers": {f"[[{k}]]": v for k, v in TRIGGERS.items()},
                    "faults": FAULTS,
                    "fault_plan": str(plan) if plan else None,
                }
            )
        if parts == ["stats"] and req.method in ("GET", "HEAD"):
            req.route = "GET /emulator/stats"
            return json_response(svc.stats())
        if parts == ["assets"] and req.method == "POST":
            req.route = "POST /emulator/assets"
            return self._upload(req)
        if len(parts) == 3 and parts[0] == "files" and req.method in ("GET", "HEAD"):
            req.route = "GET /emulator/files/{id}/{name}"
            return self._file(req, parts[1], parts[2])
        req.route = f"{req.method} /emulator/…"
        return _emulator_error(404, "NotFound", f"No route for {req.method} {req.full_path}.")

    def _upload(self, req: Request) -> Response:
        svc = self.service
        if (
            svc.config.api_key is not None
            and svc.check_bearer(req.headers.get("Authorization")) != "ok"
        ):
            return _emulator_error(
                401, "AuthenticationError", "A valid Bearer API key is required."
            )
        if not req.body:
            return _emulator_error(400, "InvalidParameter", "The asset body is empty.")
        ctype = (
            (req.headers.get("Content-Type") or "application/octet-stream").split(";")[0].strip()
        )
        name = req.arg("filename")
        asset_id = svc.add_asset(req.body, ctype, os.path.basename(name) if name else None)
        return json_response(
            {
                "id": asset_id,
                "url": f"asset://{asset_id}",
                "content_type": ctype,
                "size": len(req.body),
            }
        )

    def _file(self, req: Request, task_id: str, name: str) -> Response:
        svc = self.service
        if name not in FILE_NAMES:
            return _emulator_error(404, "NotFound", "No such file.")
        why = svc.verify(task_id, name, req.arg("expires"), req.arg("signature"))
        if why is not None:
            return _emulator_error(403, "AccessDenied", why)
        task = svc.store.get(task_id)
        path = svc.file_path(task, name) if task is not None else None
        if path is None:
            return _emulator_error(404, "NoSuchKey", "The file does not exist (or was deleted).")
        return file_response(path, FILE_NAMES[name])


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "SeedanceEmulator/1.0"
    # headers and body go out in separate writes: with Nagle on, the body waits for the
    # client's delayed ACK of the headers (40 ms on Linux) on every keep-alive answer
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        access_log.debug("%s " + format, self.address_string(), *args)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = self.path.split("?", 1)[0]  # query strings may hold signatures
        access_log.debug('"%s %s" %s %s', self.command, path, code, size)

    def _dispatch(self) -> None:
        svc = self.server.service
        split = urllib.parse.urlsplit(self.path)
        length = self.headers.get("Content-Length")
        try:
            n = int(length) if length else 0
        except ValueError:
            n = -1
        if n < 0 or n > MAX_BODY:
            self.close_connection = True
            self._send(
                _emulator_error(
                    413 if n > 0 else 400,
                    "InvalidParameter",
                    "Request body too large or bad Content-Length.",
                )
            )
            return
        body = self.rfile.read(n) if n else b""
        host = self.headers.get("Host") or ""
        base = f"http://{host}" if _HOST_RE.match(host) else svc.base_url
        req = Request(
            method=self.command,
            full_path=urllib.parse.unquote(split.path) or "/",
            path=split.path,
            query=urllib.parse.parse_qs(split.query, keep_blank_values=True),
            headers=self.headers,
            body=body,
            base_url=base,
        )
        plan = svc.faults  # read once: set_faults may switch it meanwhile
        phase = request_phase(req.method, req.full_path, self.server.router.prefixes)
        effect = plan.effect(phase) if plan is not None and phase else NO_FAULT
        if effect.hold and not svc.wait(effect.hold):
            effect = Effect(effect.name, handle=False, hang_up=0.0)  # the emulator is stopping
        resp = self._handle(req) if effect.handle else None
        if plan is not None and resp is not None and resp.file is not None and req.method == "GET":
            effect = plan.effect("download")
        if effect.name and not req.route:
            req.route = f"{req.method} (fault {effect.name})"
        svc.count("requests", req.route or f"{req.method} {split.path}")
        if effect.hang_up is not None:
            svc.wait(effect.hang_up)
            svc.count("responses", "none (fault)")
            access_log.debug('"%s %s" hung up (fault %s)', req.method, split.path, effect.name)
            self._hang_up()
            return
        resp = effect.answer or resp
        assert resp is not None  # only a hang-up skips handling without an answer
        svc.count("responses", str(resp.status))
        self._send(resp, effect)

    def _handle(self, req: Request) -> Response:
        try:
            return self.server.router.handle(req)
        except Exception:
            log.exception("emulator handler crashed on %s %s", req.method, req.full_path)
            return json_response(
                {
                    "error": {
                        "code": "InternalServiceError",
                        "message": "The emulator hit an internal error.",
                        "param": "",
                        "type": "InternalServerError",
                    }
                },
                500,
            )

    def _hang_up(self) -> None:
        """Close the connection without another byte: what a lost answer looks like."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, resp: Response, effect: Effect = NO_FAULT) -> None:
        if resp.file is not None:
            self._send_file(resp, effect)
            return
        self.send_response(resp.status)
        self.send_header("Content-Type", resp.content_type)
        self.send_header("Content-Length", str(len(resp.body)))
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    def _send_file(self, resp: Response, effect: Effect) -> None:
        assert resp.file is not None
        span = send_file_head(self, resp.file.stat().st_size, resp.content_type, resp.headers)
        if span is None or self.command == "HEAD":
            return
        start, end = span
        length = end - start + 1
        with resp.file.open("rb") as f:
            f.seek(start)
            sent = self._copy(f, length // 2 if effect.cut else length, effect.bytes_per_second)
        if effect.cut or not sent:
            self._hang_up()

    def _copy(self, f: Any, left: int, bytes_per_second: int | None) -> bool:
        """Write ``left`` bytes of ``f``, paced if asked; False if the emulator is stopping."""
        chunk_size = max(1, bytes_per_second // 20) if bytes_per_second else 256 * 1024
        while left > 0:
            chunk = f.read(min(chunk_size, left))
            if not chunk:
                break
            self.wfile.write(chunk)
            left -= len(chunk)
            if bytes_per_second and not self.server.service.wait(len(chunk) / bytes_per_second):
                return False
        return True

    do_GET = do_POST = do_DELETE = do_HEAD = do_PUT = do_PATCH = _dispatch


def send_file_head(
    handler: BaseHTTPRequestHandler,
    size: int,
    content_type: str,
    headers: Mapping[str, str] | None = None,
) -> tuple[int, int] | None:
    """Send a file answer's status and headers, honouring one ``Range`` header.

    Returns the inclusive (start, end) of the bytes to send next, or None when the range
    could not be satisfied (the 416 has been sent)."""
    start, end, status = 0, size - 1, 200
    rng = handler.headers.get("Range")
    if rng:
        parsed = parse_range(rng, size)
        if parsed is None:
            handler.send_response(416)
            handler.send_header("Content-Range", f"bytes */{size}")
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return None
        (start, end), status = parsed, 206
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Accept-Ranges", "bytes")
    handler.send_header("Content-Length", str(end - start + 1))
    if status == 206:
        handler.send_header("Content-Range", f"bytes {start}-{end}/{size}")
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    return start, end


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """A single ``bytes=`` range → inclusive (start, end); None if unsatisfiable.

    Several ranges are answered with the first only (allowed by RFC 9110).
    """
    m = re.match(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*(,.*)?$", header)
    if not m or (not m.group(1) and not m.group(2)) or size == 0:
        return None
    if not m.group(1):  # suffix: last N bytes
        n = int(m.group(2))
        if n == 0:
            return None
        return max(0, size - n), size - 1
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # socketserver's default backlog is 5: a notebook that submits 40 jobs at once opens 40
    # connections together, and the overflow was reset before a byte of the create was read
    request_queue_size = 128

    def __init__(self, addr: tuple[str, int], service: Service) -> None:
        self.service = service
        self.router = Router(service)
        super().__init__(addr, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection error from %s", client_address, exc_info=True)


class ServerThread:
    """Owns the bound socket and the thread serving it."""

    def __init__(self, service: Service, host: str, port: int) -> None:
        self.httpd = _Server((host, port), service)
        bound_host, bound_port = self.httpd.server_address[:2]
        shown = f"[{bound_host}]" if ":" in str(bound_host) else str(bound_host)
        self.base_url = f"http://{shown}:{bound_port}"
        service.base_url = self.base_url
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="seedance-emulator-http",
            daemon=True,
        )

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)
