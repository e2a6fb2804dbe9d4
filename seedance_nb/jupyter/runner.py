"""Where notebook jobs run: the kernel's own event loop when there is one.

In a Jupyter kernel a cell runs on the kernel's loop, so a submit is scheduled there with
``create_task`` and the cell returns at once while polls keep going between cells. In a plain
(non-async) IPython shell there is no running loop; then a private daemon loop thread plays
that part. One :class:`~seedance_nb.AsyncClient` per (provider, workdir, loop) is cached.

An ``AsyncClient`` belongs to one event loop. Widget callbacks do not always run there: in
ipykernel 7 a comm message may be handled on a kernel subshell, another thread with its own
running loop. :func:`on_client_loop` is the one way the Jupyter layer starts work for a
client: the coroutine lands on the client's own loop whichever thread asks.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import weakref
from collections.abc import Callable, Coroutine, Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engine.bridge import background_loop, run_sync, running_loop

if TYPE_CHECKING:
    from ..engine.client import AsyncClient
    from ..engine.job import Job
    from ..engine.ledger_url import LedgerURL

_clients: dict[tuple[str | None, str, int, Any, str | None], AsyncClient] = {}
# the notebook's ledger (``%config Seedance.ledger``); None: SEEDANCE_LEDGER_URL, else the
# workdir's own file. Every notebook client (magic, form, compare, history) uses it.
_ledger: LedgerURL | Path | None = None
# the notebook's object store (``%config Seedance.storage``); None: SEEDANCE_STORAGE, if set
_storage: str | None = None
_budget: list[float | None] = []  # the notebook's budget (%config Seedance.budget_usd), if set
# the loop each cached client was made for, until its first use binds it (client.loop)
_homes: weakref.WeakKeyDictionary[AsyncClient, asyncio.AbstractEventLoop] = (
    weakref.WeakKeyDictionary()
)


def home_loop() -> asyncio.AbstractEventLoop:
    """The loop notebook jobs live on: the running (kernel) loop, else a private thread."""
    return running_loop() or background_loop()


def use_ledger(ledger: LedgerURL | Path | None) -> None:
    """Set the ledger every notebook client opens from now on (None: the default)."""
    global _ledger
    _ledger = ledger


def use_storage(storage: str | None) -> None:
    """Set the object store every notebook client writes to from now on (None: the default)."""
    global _storage
    _storage = storage or None


def set_budget(usd: float | None) -> None:
    """Hold every notebook client to ``usd`` (``%config Seedance.budget_usd``); None: back to
    ``SEEDANCE_BUDGET_USD`` (or no budget)."""
    from ..engine.settings import budget_value, default_budget

    _budget[:] = [] if usd is None else [budget_value(usd, "Seedance.budget_usd")]
    for client in _clients.values():
        client.budget_usd = _budget[0] if _budget else default_budget()


def get_client(
    provider: str | None = None, workdir: str | Path | None = None, storage: str | None = None
) -> AsyncClient:
    """The cached client for (provider, workdir, the notebook's ledger and store) on the home
    loop, held to the notebook's budget; no ``storage``: the notebook's (``%config
    Seedance.storage``), else ``SEEDANCE_STORAGE`` if set."""
    from ..engine.client import AsyncClient

    wd = str(Path(workdir or "seedance-output").expanduser().resolve())
    loop = home_loop()
    storage = storage or _storage
    key = (provider or None, wd, id(loop), _ledger, storage)
    client = _clients.get(key)
    if client is None or client.closed or (client.loop is not None and client.loop.is_closed()):
        client = AsyncClient(
            provider=provider or None,
            workdir=wd,
            ledger=_ledger,
            storage=storage,
            budget_usd=_budget[0] if _budget else None,
        )
        _clients[key] = client
        _homes[client] = loop
    return client


def client_loop(client: AsyncClient) -> asyncio.AbstractEventLoop:
    """The loop ``client`` lives on: the one it is bound to, else the one it was made for."""
    for loop in (client.loop, _homes.get(client)):
        if loop is not None and not loop.is_closed():
            return loop
    loop = home_loop()
    _homes[client] = loop
    return loop


def on_client_loop(
    client: AsyncClient, coro: Coroutine[Any, Any, Any]
) -> asyncio.Future[Any] | concurrent.futures.Future[Any]:
    """Run ``coro`` on ``client``'s own loop, from any thread, without waiting for it.

    On that loop's thread it becomes a task at once; from any other thread (a subshell's
    widget callback, a worker) it is handed over thread-safely and starts when that loop
    next runs. Returns the task, or a ``concurrent.futures.Future`` for a handed-over one.
    """
    loop = client_loop(client)
    if running_loop() is loop:
        return loop.create_task(coro)
    return asyncio.run_coroutine_threadsafe(coro, loop)


class PendingJob:
    """A job still being submitted; awaitable, and a proxy for the :class:`Job` once it exists.

    ``await pending`` returns the finished Job (raising ``JobFailed`` like ``await job``);
    ``pending.wait()`` blocks; attribute access is forwarded to the Job once created.
    """

    def __init__(self, future: asyncio.Future[Any] | concurrent.futures.Future[Any], label: str):
        self._future = future
        self.label = label
        self._callbacks: list[Callable[[], None]] = []

    @property
    def job(self) -> Job | None:
        f = self._future
        if not f.done() or f.cancelled() or f.exception() is not None:
            return None
        return f.result()  # type: ignore[no-any-return]

    @property
    def submitted(self) -> bool:
        return self.job is not None

    async def _created(self) -> Job:
        f = self._future
        if isinstance(f, concurrent.futures.Future):
            return await asyncio.wrap_future(f)  # type: ignore[no-any-return]
        return await f  # type: ignore[no-any-return]

    def on_settled(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` in the waiter's context once a wait ends (repaints the view there).

        A notebook's view is repainted from the kernel's loop as the job changes, and those
        updates belong to the cell that started the job. Tools that execute notebooks
        (nbclient, nbval) drop messages of a finished cell, so the waiting cell repaints once
        more: the saved notebook then shows the final state.
        """
        self._callbacks.append(callback)

    def _settled(self) -> None:
        for callback in self._callbacks:
            callback()

    async def wait_async(self, timeout: float | None = None) -> Job:
        try:
            job = await self._created()
            return await job.wait_async(timeout)
        finally:
            self._settled()

    def __await__(self) -> Generator[Any, None, Job]:
        return self.wait_async().__await__()

    def wait(self, timeout: float | None = None) -> Job:
        try:
            job = run_sync(self._future)
            return job.wait(timeout)  # type: ignore[no-any-return]
        finally:
            self._settled()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        job = self.job
        if job is None:
            f = self._future
            if f.done() and not f.cancelled() and f.exception() is not None:
                raise AttributeError(f"{name}: the submit failed ({f.exception()})")
            raise AttributeError(f"{name}: the {self.label} job is still being submitted; await it")
        return getattr(job, name)

    def __repr__(self) -> str:
        job = self.job
        return repr(job) if job is not None else f"<PendingJob {self.label} submitting>"

    def _repr_html_(self) -> str | None:
        job = self.job
        return job._repr_html_() if job is not None else None
