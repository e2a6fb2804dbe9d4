"""The one sync↔async bridge: run a coroutine on a given loop from any thread.

Used by :class:`~seedance_nb.Client` (its private loop thread), ``Job.wait``/``Job.cancel``
and the Jupyter layer. A cell that blocks on the kernel's own running loop nests it with
``nest_asyncio2`` (applied here and nowhere else); every other caller hands the coroutine to
the loop's thread and waits for the result.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable, Coroutine
from typing import Any


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def nest(loop: asyncio.AbstractEventLoop) -> None:
    """Let ``loop`` (running in this thread) run a nested ``run_until_complete``."""
    import nest_asyncio2

    nest_asyncio2.apply(loop)


def run_now(coro: Coroutine[Any, Any, Any], refusal: str) -> Any:
    """Drive a coroutine that never actually suspends (a pure builder) to completion; if it
    does suspend (it needs the network), close it and raise ``RuntimeError(refusal)``."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError(refusal)


def run_on(
    loop: asyncio.AbstractEventLoop,
    coro: Coroutine[Any, Any, Any],
    timeout: float | None = None,
    on_timeout: Callable[[], Exception] | None = None,
) -> Any:
    """Block until ``coro`` has run on ``loop``, from any thread, whether it runs or not.

    On ``loop``'s own thread (a cell on the kernel's loop) the loop is nested; from another
    thread the coroutine is handed over and waited for up to ``timeout`` seconds (then it
    is cancelled and ``on_timeout()`` raised, if given); a loop that is not running is run.
    """
    if running_loop() is loop:
        nest(loop)
        return loop.run_until_complete(coro)
    if loop.is_running():
        future = asyncio.run_coroutine_threadsafe(coro, loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            if on_timeout is None:
                raise
            raise on_timeout() from None
    return loop.run_until_complete(coro)


async def _await(awaitable: Any) -> Any:
    return await awaitable


def run_sync(awaitable: Any, timeout: float | None = None) -> Any:
    """Block until ``awaitable`` (a coroutine, or a future of any loop or thread) is done,
    nesting the running loop when called from one; a bare coroutine runs on the shared
    private loop thread when no loop runs here.

    A future of another thread's loop is waited for without blocking this thread's loop
    (it may be the very loop that future's work needs, e.g. a cell waiting for a job that
    a widget callback handed to the kernel's loop).
    """
    loop = running_loop()
    if loop is not None:
        nest(loop)
        if isinstance(awaitable, concurrent.futures.Future):
            awaitable = asyncio.wrap_future(awaitable, loop=loop)
        elif asyncio.isfuture(awaitable) and awaitable.get_loop() is not loop:
            other = awaitable.get_loop()
            awaitable = asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(_await(awaitable), other), loop=loop
            )
        return loop.run_until_complete(asyncio.wait_for(awaitable, timeout))
    if isinstance(awaitable, concurrent.futures.Future):
        return awaitable.result(timeout)
    if asyncio.isfuture(awaitable):
        other = awaitable.get_loop()
        return asyncio.run_coroutine_threadsafe(_await(awaitable), other).result(timeout)
    return asyncio.run_coroutine_threadsafe(awaitable, background_loop()).result(timeout)


class LoopThread:
    """A private event loop running forever in a daemon thread."""

    def __init__(self, name: str = "seedance-nb-runtime") -> None:
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.loop.call_soon(ready.set)
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, name=name, daemon=True)
        self.thread.start()
        ready.wait()

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coro`` on this thread's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)
        if not self.loop.is_running():
            self.loop.close()


_shared: LoopThread | None = None
_lock = threading.Lock()


def background_loop() -> asyncio.AbstractEventLoop:
    """The shared private loop thread (started on first use, again if it was closed)."""
    global _shared
    with _lock:
        if _shared is None or _shared.loop.is_closed():
            _shared = LoopThread("seedance-nb-loop")
        return _shared.loop
