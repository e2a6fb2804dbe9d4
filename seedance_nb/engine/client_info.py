"""What a client tells about itself: where it sends, where it keeps things, what it has seen.

Read-only properties over the settings and the engine's shared state, kept apart from
:class:`~seedance_nb.engine.client.AsyncClient` so that class holds only what it does.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .settings import Settings
    from .state import EngineState
    from .storage import Storing


class ClientInfo:
    """The read-only face of a client (``AsyncClient`` mixes it in)."""

    _settings: Settings
    _state: EngineState
    _storing: Storing

    @property
    def provider(self) -> Any:
        return self._settings.provider

    @property
    def provider_name(self) -> str:
        return self._settings.provider.name

    @property
    def emulated(self) -> bool:
        return self._settings.emulated

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def route(self) -> str:
        return self._settings.route

    @property
    def workdir(self) -> Path:
        return self._settings.workdir

    @property
    def storage(self) -> str | None:
        """The object store every finished video is also written to (its URL), if any."""
        return self._storing.url

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop this client is bound to (the first one that used it)."""
        return self._state.loop

    @property
    def closed(self) -> bool:
        return self._state.closed

    @property
    def request_timeout(self) -> float:
        """Seconds a create waits for its answer (and stays in doubt without one)."""
        return self._state.request_timeout

    @property
    def max_download_bytes(self) -> int:
        return self._state.max_download_bytes

    @property
    def status_requests(self) -> int:
        return self._state.status_requests

    @property
    def callbacks_received(self) -> int:
        return self._state.callbacks_received

    @property
    def recoveries(self) -> list[tuple[str, str, float]]:
        """(job id, step, seconds) from each fault this client saw to the step succeeding."""
        return self._state.recoveries

    def __repr__(self) -> str:
        where = "emulator" if self.emulated else self.base_url
        team = f" ledger={self._state.ledger.where}" if self._settings.ledger is not None else ""
        stored = f" storage={self.storage}" if self.storage else ""
        return (
            f"<{type(self).__name__} provider={self.provider_name} at {where} "
            f"workdir={self.workdir}{team}{stored}>"
        )
