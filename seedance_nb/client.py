"""The synchronous client: the async core driven on a private event-loop thread.

A thread rather than ``asyncio.run`` because jobs must keep polling and downloading between
calls (a script that submits, does other work, then waits), and because it works the same
inside a running loop such as a notebook cell, without patching that loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .engine.assets import Asset
from .engine.bridge import LoopThread
from .engine.budget import Spend
from .engine.callbacks import CallbackReceiver
from .engine.client import AsyncClient, PollPolicy
from .engine.job import Job
from .engine.ledger_url import LedgerURL
from .request import VideoRequest
from .workflows import Storyboard
from .workflows.sweep import Sweep
from .workflows.sweep_plan import SweepPlan, plan_sweep


class Client:
    """Seedance client for plain Python: ``submit`` returns a :class:`Job` once the task exists."""

    def __init__(
        self,
        provider: str | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        workdir: str | Path | None = None,
        *,
        ledger: str | Path | LedgerURL | None = None,
        poll: PollPolicy | None = None,
        max_download_bytes: int = 4 * 1024**3,
        request_timeout: float = 30.0,
        budget_usd: float | None = None,
        storage: str | None = None,
        storage_options: dict[str, Any] | None = None,
    ) -> None:
        self._async = AsyncClient(
            provider,
            api_key,
            base_url,
            workdir,
            ledger=ledger,
            poll=poll,
            max_download_bytes=max_download_bytes,
            request_timeout=request_timeout,
            budget_usd=budget_usd,
            storage=storage,
            storage_options=storage_options,
        )
        self._thread = LoopThread()

    # properties mirror the async client
    provider = property(lambda self: self._async.provider)
    provider_name = property(lambda self: self._async.provider_name)
    emulated = property(lambda self: self._async.emulated)
    base_url = property(lambda self: self._async.base_url)
    workdir = property(lambda self: self._async.workdir)
    ledger = property(lambda self: self._async.ledger)
    storage = property(lambda self: self._async.storage)

    @property
    def budget_usd(self) -> float | None:
        return self._async.budget_usd

    @budget_usd.setter
    def budget_usd(self, value: float | None) -> None:
        self._async.budget_usd = value

    def check_budget(self, requests: Sequence[VideoRequest], *, force: bool = False) -> None:
        """See :meth:`AsyncClient.check_budget` (reads the ledger only; no network)."""
        self._async.check_budget(requests, force=force)

    def spend(self) -> Spend:
        """See :meth:`AsyncClient.spend`."""
        return self._async.spend()

    @property
    def async_client(self) -> AsyncClient:
        return self._async

    def __repr__(self) -> str:
        return repr(self._async).replace("AsyncClient", "Client", 1)

    def validate(self, prompt: Any, **params: Any) -> VideoRequest:
        return self._async.validate(prompt, **params)

    def preview(self, prompt: Any, **params: Any) -> dict[str, Any]:
        return self._async.preview(prompt, **params)

    def submit(self, prompt: Any, *, force: bool = False, **params: Any) -> Job:
        # validate here, in the caller's thread, so warnings and errors point at user code
        self._async.validate(prompt, **params)
        return self._thread.run(self._async.submit(prompt, force=force, **params))

    def generate(
        self, prompt: Any, *, timeout: float | None = None, force: bool = False, **params: Any
    ) -> Job:
        return self.submit(prompt, force=force, **params).wait(timeout)

    def storyboard(self, shots: Any, *, force: bool = False, **params: Any) -> Storyboard:
        """Shots chained by their last frame (see :class:`~seedance_nb.Storyboard`): validated
        here, then submitted in order on this client's loop; ``board.wait()``,
        ``board.concat(path)``."""
        board = Storyboard(self._async, shots, force=force, **params)
        return board.start(self._thread.loop)

    def existing(self, request: VideoRequest) -> str | None:
        """See :meth:`AsyncClient.existing`: the job id a submit would reuse, else None."""
        return self._async.existing(request)

    def plan_sweep(self, prompt: str, *, force: bool = False, **params: Any) -> SweepPlan:
        """Expand, validate and price a sweep (see :meth:`sweep`); nothing is sent."""
        return plan_sweep(self._async, prompt, force=force, **params)

    def sweep(self, prompt: str, *, force: bool = False, **params: Any) -> Sweep:
        """Every combination of the parameters given as lists (``seed=[1, 2, 3]``), with
        ``{name}`` placeholders of the prompt filled from them; all validated before any is
        sent (``sd.InvalidRequest`` names the refused axis values). Returns at once; then
        ``sweep.wait()``, ``sweep.rows()``, ``sweep.to_pandas()``, ``sweep.save_html(path)``."""
        plan = self.plan_sweep(prompt, force=force, **params)
        return self._thread.run(Sweep(self._async, plan).start())

    def register_asset(self, media: Any, **kw: Any) -> Asset:
        """See :meth:`AsyncClient.register_asset` (the emulator only)."""
        return self._thread.run(self._async.register_asset(media, **kw))

    def resubmit(self, job: Job) -> Job:
        return self._thread.run(self._async.resubmit(job))

    def jobs(self, limit: int = 50, offset: int = 0) -> list[Job]:
        return self._thread.run(self._async.jobs(limit, offset))

    def get_job(self, job_id: str) -> Job:
        return self._thread.run(self._async.get_job(job_id))

    def resume(self) -> list[Job]:
        """Start driving unfinished jobs left in the workdir by an earlier process."""
        return self._thread.run(self._async.resume())

    def receive_callbacks(
        self, *, port: int = 0, public_url: str | None = None, host: str = "127.0.0.1"
    ) -> CallbackReceiver:
        """See :meth:`AsyncClient.receive_callbacks`; it serves on this client's loop thread."""
        coro = self._async.receive_callbacks(port=port, public_url=public_url, host=host)
        return self._thread.run(coro)

    def close(self) -> None:
        if self._thread.loop.is_closed():
            return
        self._thread.run(self._async.aclose())
        self._thread.stop()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
