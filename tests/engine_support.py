"""One engine part on its own: an :class:`EngineState` over a real ledger, with HTTP going to
a scripted provider (``httpx.MockTransport``, one dialect), and no client around it. The
create-and-reconcile and scheduler unit tests drive their part through it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

from seedance_nb.engine.http import ProviderHTTP, RetryPolicy
from seedance_nb.engine.job import Job
from seedance_nb.engine.leases import Leases
from seedance_nb.engine.ledger import Ledger
from seedance_nb.engine.ledger_core import LedgerCore
from seedance_nb.engine.pacing import PollPolicy
from seedance_nb.engine.settings import resolve
from seedance_nb.engine.state import EngineState
from seedance_nb.providers import dialect_for
from seedance_nb.request import VideoRequest, build_request

BASE = "http://127.0.0.1:9/api/v3"
OWNER = "unit:1-test"
Handler = Callable[[httpx.Request], httpx.Response]


class Rig:
    """A provider's engine state, its ledger and leases; ``handler`` answers every call."""

    def __init__(
        self,
        tmp_path: Path,
        handler: Handler,
        provider: str = "ark",
        *,
        poll: PollPolicy | None = None,
        request_timeout: float = 30.0,
    ) -> None:
        settings = resolve(provider, "sk-unit-test-key", BASE, tmp_path)
        self.dialect = dialect_for(settings.provider)
        self.ledger = Ledger(tmp_path / "ledger.sqlite")
        runtime = SimpleNamespace(emulated=False, loop=None)
        self.state = EngineState(
            runtime,
            settings,
            self.dialect,
            self.ledger,
            poll or PollPolicy(0.25, 2.0),
            OWNER,
            request_timeout=request_timeout,
            max_download_bytes=1 << 20,
        )
        self.state.http = ProviderHTTP(
            self.dialect,
            settings.base_url,
            settings.api_key,
            client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
            retry=RetryPolicy(attempts=2, base_delay=0.01, max_delay=0.02),
        )
        self.leases = Leases(self.ledger, OWNER)

    def request(self, prompt: str = "A red fox in the snow", **params: object) -> VideoRequest:
        defaults: dict[str, object] = {"model": "seedance-2.0-fast", "duration": 4}
        request, _ = build_request(
            self.state.provider, prompt, **{**defaults, **params}, warn=False
        )
        return request

    def claim(self, request: VideoRequest) -> Job:
        """A fresh job for ``request``, as ``submit`` claims it (phase creating)."""
        row, fresh = self.ledger.claim(
            route=self.state.route,
            request_hash=request.digest(self.state.route),
            provider=self.state.provider.name,
            tier=request.tier,
            model_id=request.model_id,
            prompt=request.prompt,
            request=request.model_dump(mode="json"),
            owner=OWNER,
            force=False,
        )
        assert fresh
        return self.state.job_from_row(row)

    def tracking(self, task_id: str, prompt: str, **params: object) -> Job:
        """A job whose create was answered with ``task_id``: what the scheduler drives."""
        job = self.claim(self.request(prompt, **params))
        self.state.update(job, task_id=task_id, phase="tracking", status="queued")
        return job

    async def aclose(self) -> None:
        assert self.state.http is not None
        await self.state.http.aclose()


def versions_follow_every_write(
    ledger: LedgerCore, other: LedgerCore, claim: dict[str, Any]
) -> None:
    """A poll round reads whole rows only where ``(updated_at, owner, lease_until)`` moved:
    every kind of write, from this connection or another one, must move one of them."""
    fields = {k: v for k, v in claim.items() if k != "owner"}
    a = ledger.claim(request_hash="va", force=False, owner="o", **fields)[0]["id"]
    b = ledger.claim(request_hash="vb", force=False, owner="o", **fields)[0]["id"]
    seen = ledger.versions([a, b, "nope"])
    assert set(seen) == {a, b}
    row = ledger.get(a)
    assert row is not None
    assert seen[a] == (row["updated_at"], row["owner"], row["lease_until"])
    other.update(a, progress=0.5)  # content: updated_at moves
    assert ledger.versions([a])[a][0] != seen[a][0]
    assert other.take_lease(b, "someone else") is False  # still held by its claimer
    ledger.release_leases("o")  # a lease handed over: seen without a full read
    assert ledger.versions([b])[b][2] != seen[b][2]
    assert other.take_lease(b, "someone else") is True
    assert ledger.versions([b])[b][1] == "someone else"
    ledger.close()
    other.close()
