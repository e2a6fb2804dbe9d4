"""The offline Seedance emulator: a real HTTP server that speaks ModelArk and renders real MP4s.

It is the default backend without an API key, and what tests, tutorials and CI run against.
Point anything that speaks Ark at ``base_url + "/api/v3"`` (BytePlus ids such as
``dreamina-seedance-2-0-260128``) or ``base_url + "/volcengine/api/v3"`` (``doubao-…`` ids),
including the official SDK: ``Ark(base_url=emu.base_url + "/api/v3", api_key="anything")``.

    with Emulator(state_dir) as emu:
        ...  # emu.base_url == "http://127.0.0.1:PORT"

or from a shell: ``python -m seedance_nb.emulator --port 8642``.

It imports only :mod:`seedance_nb.catalog` from the package, so it stays an independent
witness of the wire contracts, and this module stays light (PyAV, Pillow and numpy load in
the render worker).

Behaviour
---------
* Lifecycle: ``queued`` for ``queued_seconds``, ``running`` for ``running_seconds``, then
  ``succeeded`` once the MP4 is completely written (renders start at create time on two worker
  threads). ``SEEDANCE_EMULATOR_SPEED`` (default 1.0) multiplies both times: 0.2 is 5× faster.
  ``running_jitter`` (default 0) varies the running time per prompt by up to ± that fraction,
  the same for the same prompt every run.
* State (SQLite + ``files/``) lives in ``state_dir``: a new process on the same directory knows
  the old tasks, resumes unfinished renders, and honours previously signed URLs.
* ``content.video_url`` / ``last_frame_url`` are signed URLs on this server
  (``/emulator/files/{task}/video.mp4?expires=…&signature=…``, HMAC with a per-state-dir key),
  valid ``url_ttl_seconds``; each GET of the task signs a fresh one. They support ``HEAD`` and
  ``Range``. Expired or tampered → 403.
* Auth: a non-empty ``Authorization: Bearer`` is required (any key, unless ``api_key`` is set,
  then exactly that one). ``rate_limit_rpm`` limits creates per minute (429
  ``RateLimitExceeded.EndpointRPMExceeded`` with ``Retry-After``). The key is never logged or
  stored.

Prompt triggers (for tests and tutorials; removed from the rendered caption)
----------------------------------------------------------------------------
* ``[[moderation]]`` – the task runs, then ends ``failed`` with
  ``OutputVideoSensitiveContentDetected``.
* ``[[input-moderation]]`` – the create is refused: 400 ``InputTextSensitiveContentDetected``.
* ``[[expire]]`` – the task leaves the queue as ``expired``.
* ``[[slow]]`` – the running phase lasts 5× longer.
* ``[[fail]]`` – the task runs, then ends ``failed`` with ``InternalServiceError``.

Fault plan (for client robustness tests; off unless asked)
----------------------------------------------------------
``Emulator(…, faults="create-drop@0.5*10,status-429@0.3;seed=7,retry-after=1")``, or
``emu.set_faults(spec_or_plan_or_None)`` at runtime (next request on), or
``SEEDANCE_EMULATOR_FAULTS=<spec>`` (read when ``faults=`` is not given), or
``python -m seedance_nb.emulator --faults <spec>``. A spec is comma-separated
``name[@rate][*count]`` (rate: probability per eligible request, default 1; count: most
firings, default unlimited), then optionally ``;`` and ``key=value`` options: ``seed`` (0;
the same spec and seed fire the same sequence), ``retry-after`` (1 s), ``stall`` (5 s),
``burst`` (3), ``trickle`` (262144 B/s). Bad names or numbers raise ``ValueError``.
Eligible: *create* = POST on a dialect mount not ending ``/cancel``; *status* = GET/HEAD on a
dialect mount; *download* = a GET of ``/emulator/files/…`` that would succeed; ``/emulator/``
endpoints never. ``emu.stats()["faults"]`` counts firings (a status-5xx burst counts once).

* ``create-5xx`` / ``create-429`` – 500 ``InternalServiceError`` / 429
  ``RateLimitExceeded.EndpointRPMExceeded`` + ``Retry-After``; no task is made.
* ``create-drop`` – the task is made, then the connection closes with no response.
* ``create-timeout`` – the task is made, the answer withheld ``stall`` s, then closed as above.
* ``create-stall`` – the create waits ``stall`` s before it is handled, then succeeds.
* ``status-429`` (+ ``Retry-After``), ``status-5xx`` (503 for ``burst`` reads in a row),
  ``status-garbage`` (200 HTML), ``status-partial`` (200 ``{}``), ``status-huge`` (200, ~16 MB
  of JSON), ``status-reset`` (closed with no response).
* ``download-cut`` – full headers, about half the bytes, then closed (``Range`` resumes work);
  ``download-trickle`` – ``trickle`` bytes/second; ``download-expired`` – 403 ``AccessDenied``
  "Request has expired." (re-read the task for a fresh URL); ``download-redirect-file`` – 302
  to ``file:///etc/passwd``.
* ``callback-drop`` / ``callback-duplicate`` – a callback is not sent / sent twice;
  ``callback-reorder`` – a terminal callback is followed by a stale ``running`` one.
* ``task-expired`` / ``task-moderated`` – the task ends like ``[[expire]]`` /
  ``[[moderation]]`` (a prompt trigger wins).

Emulator-only endpoints
-----------------------
``GET /emulator/health`` (mounts, triggers, ``faults`` and the active ``fault_plan``);
``GET /emulator/stats`` (creates per dialect, requests per route, responses per status,
renders, callbacks, fired faults); ``POST /emulator/assets`` (raw body, its ``Content-Type``,
optional ``?filename=``) → ``{"id": "asset-…", "url": "asset://asset-…"}``: use the url in
``content[]`` and the renderer reads the stored bytes. From Python,
``await seedance_nb.engine.assets.register_asset(emu.base_url, "frame.png")`` makes that POST and
returns an :class:`~seedance_nb.engine.assets.Asset` to pass as a reference.

Bad input
---------
Every dialect answers bad input with its own documented 4xx envelope, never a 5xx: a media,
callback or webhook URL no server could fetch (whitespace or control characters, an unclosed
IPv6 bracket, no host, a port outside 1-65535) is a 400 naming the parameter; JSON nested
too deeply is a 400; a lone ``\\ud800`` escape in a string is read as U+FFFD. A 500
``InternalServiceError`` that no fault plan or ``[[fail]]`` asked for is an emulator bug.

Adding a dialect
----------------
See :mod:`seedance_nb.emulator.dialects`: one module with a ``DialectRoutes`` subclass
(``DIALECT = …``) plus one line in ``REGISTRY``; the mount prefix comes from
``catalog.PROVIDERS[name].emulator_prefix``. Task storage, lifecycle, rendering, media and
signed URLs are shared helpers on :class:`~seedance_nb.emulator.service.Service`.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading
from pathlib import Path
from types import EllipsisType
from typing import TYPE_CHECKING, Any

from .faults import FaultPlan, to_plan

if TYPE_CHECKING:
    from .server import ServerThread
    from .service import Service

__all__ = ["Emulator", "FaultPlan", "ensure_running", "main"]

SPEED_ENV = "SEEDANCE_EMULATOR_SPEED"
URL_ENV = "SEEDANCE_EMULATOR_URL"
FAULTS_ENV = "SEEDANCE_EMULATOR_FAULTS"


def speed_factor() -> float:
    """``SEEDANCE_EMULATOR_SPEED`` as a positive float (1.0 if unset or unreadable)."""
    try:
        value = float(os.environ.get(SPEED_ENV, "1") or 1)
    except ValueError:
        return 1.0
    return value if value > 0 else 1.0


class Emulator:
    """One emulator server: bind on start, serve in a daemon thread, stop cleanly."""

    def __init__(
        self,
        state_dir: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        api_key: str | None = None,
        queued_seconds: float = 1.0,
        running_seconds: float = 2.0,
        running_jitter: float = 0.0,
        url_ttl_seconds: float = 86400,
        rate_limit_rpm: int | None = None,
        faults: FaultPlan | str | EllipsisType | None = ...,
    ) -> None:
        """``faults``: a :class:`FaultPlan`, its spec string, or None (off); left out, it is
        read from ``SEEDANCE_EMULATOR_FAULTS``."""
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the emulator binds loopback only (127.0.0.1, localhost or ::1)")
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="seedance-emulator-")
            state_dir = self._tmp.name
        self.state_dir = Path(state_dir).expanduser()
        self.host, self.port = host, port
        speed = speed_factor()
        self._config: dict[str, Any] = {
            "queued_seconds": queued_seconds * speed,
            "running_seconds": running_seconds * speed,
            "running_jitter": running_jitter,
            "url_ttl_seconds": url_ttl_seconds,
            "api_key": api_key,
            "rate_limit_rpm": rate_limit_rpm,
        }
        self._faults = to_plan(os.environ.get(FAULTS_ENV) if faults is ... else faults)
        self.base_url = ""
        self._service: Service | None = None
        self._server: ServerThread | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        state = self.base_url or "stopped"
        return f"<Emulator {state} state_dir={str(self.state_dir)!r}>"

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def faults(self) -> FaultPlan | None:
        return self._faults

    def set_faults(self, faults: FaultPlan | str | None) -> None:
        """Switch the fault plan (None = off); the next request sees the new one."""
        self._faults = to_plan(faults)
        if self._service is not None:
            self._service.faults = self._faults

    @property
    def service(self) -> Service:
        if self._service is None:
            raise RuntimeError("the emulator is not running")
        return self._service

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread; returns self (idempotent)."""
        with self._lock:
            if self._server is not None:
                return self
            from .server import ServerThread
            from .service import Service, ServiceConfig

            service = Service(self.state_dir, ServiceConfig(**self._config))
            service.faults = self._faults
            try:
                server = ServerThread(service, self.host, self.port)
            except BaseException:
                service.close()
                raise
            server.start()
            self._service, self._server = service, server
            self.base_url = server.base_url
            self.port = int(server.base_url.rsplit(":", 1)[1])
            return self

    def stop(self) -> None:
        with self._lock:
            server, service = self._server, self._service
            self._server = self._service = None
            if server is not None:
                server.stop()
            if service is not None:
                service.close()
            if self._tmp is not None:
                self._tmp.cleanup()
                self._tmp = None

    def stats(self) -> dict[str, Any]:
        """Counters: tasks created per dialect, requests per route, responses, renders, faults."""
        return self.service.stats()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


_singleton: Emulator | None = None
_singleton_lock = threading.Lock()


def ensure_running(state_dir: str | Path) -> str:
    """The process-wide emulator's base URL, starting it on first use.

    ``SEEDANCE_EMULATOR_URL`` wins (an emulator someone started elsewhere). Later calls reuse
    the running instance whatever ``state_dir`` they pass.
    """
    url = os.environ.get(URL_ENV, "").strip()
    if url:
        return url.rstrip("/")
    global _singleton
    with _singleton_lock:
        if _singleton is None or not _singleton.running:
            _singleton = Emulator(state_dir).start()
        return _singleton.base_url


def _parser() -> argparse.ArgumentParser:
    """The command line of ``python -m seedance_nb.emulator``."""
    ap = argparse.ArgumentParser(
        prog="python -m seedance_nb.emulator", description="Offline Seedance (ModelArk) emulator."
    )
    ap.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    ap.add_argument("--port", type=int, default=8642, help="port (0 = pick a free one)")
    ap.add_argument(
        "--state-dir",
        default=os.path.expanduser("~/.cache/seedance-nb/emulator"),
        help="where tasks and files persist",
    )
    ap.add_argument(
        "--api-key",
        default=os.environ.get("SEEDANCE_EMULATOR_API_KEY"),
        help="require exactly this Bearer key (default: any non-empty key)",
    )
    ap.add_argument("--queued-seconds", type=float, default=1.0)
    ap.add_argument("--running-seconds", type=float, default=2.0)
    ap.add_argument(
        "--running-jitter",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="vary each prompt's running time by up to ± this fraction",
    )
    ap.add_argument("--url-ttl-seconds", type=float, default=86400)
    ap.add_argument("--rate-limit-rpm", type=int, default=None)
    ap.add_argument(
        "--faults",
        default=None,
        metavar="SPEC",
        help=f"fault plan, e.g. 'create-drop@0.5,status-429;seed=7' (default: ${FAULTS_ENV})",
    )
    return ap


def main(argv: list[str] | None = None) -> int:
    """``python -m seedance_nb.emulator``: serve until Ctrl-C."""
    ap = _parser()
    args = ap.parse_args(argv)
    try:
        emu = Emulator(
            args.state_dir,
            args.host,
            args.port,
            api_key=args.api_key,
            queued_seconds=args.queued_seconds,
            running_seconds=args.running_seconds,
            running_jitter=args.running_jitter,
            url_ttl_seconds=args.url_ttl_seconds,
            rate_limit_rpm=args.rate_limit_rpm,
            faults=... if args.faults is None else args.faults,
        )
    except ValueError as exc:
        ap.error(str(exc))
    try:
        emu.start()
    except OSError as exc:
        print(f"cannot start the emulator: {exc}")
        return 1
    print(f"Seedance emulator on {emu.base_url}  (Ark base: {emu.base_url}/api/v3)", flush=True)
    print(f"state: {emu.state_dir}   Ctrl-C to stop", flush=True)
    if emu.faults is not None:
        print(f"faults: {emu.faults}", flush=True)
    _serve_until_stopped(emu)
    return 0


def _serve_until_stopped(emu: Emulator) -> None:
    """Block until Ctrl-C or SIGTERM, then stop the emulator."""
    done = threading.Event()
    try:
        signal.signal(signal.SIGTERM, lambda *_: done.set())
    except ValueError:  # not the main thread
        pass
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emu.stop()
