"""What a create's outcome is, told at once and truthfully (issue 11).

* A create that provably never left the machine (name not resolved, connection refused, TLS
  or proxy failure before the request went out) fails at once with a plain message, and the
  same request may be sent again without ``force``.
* A create whose fate really is unknown says ``unknown`` everywhere its job is shown, and every
  message about it names the ways out.
* A create whose answer was lost after the task was made is adopted as soon as the listing
  shows the task, not after the sender's whole timeout.
"""

from __future__ import annotations

import asyncio
import json
import socket
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

import seedance_nb as sd
from seedance_nb import errors
from seedance_nb.emulator import Emulator

KEY = "sk-outcome-" + "7" * 24
WAYS_OUT = ("client.resubmit(job)", "seedance-nb generate … --force", "%seedance resubmit ")


def _creates(emu: Emulator) -> int:
    return sum(emu.stats()["creates"].values())


def _free_port() -> int:
    """A loopback port nobody listens on (bound, then closed again)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ledger_row(workdir: Path, job_id: str) -> dict[str, object]:
    with sqlite3.connect(workdir / "ledger.sqlite") as db:
        db.row_factory = sqlite3.Row
        return dict(db.execute("SELECT * FROM jobs WHERE id=?", (job_id,)).fetchone())


def _names_every_way_out(text: str, job_id: str) -> bool:
    return all(way in text for way in WAYS_OUT) and f"%seedance resubmit {job_id}" in text


# ----------------------------------------------------------------------------- never sent


def test_a_create_to_a_closed_port_fails_at_once_and_the_same_request_is_sent_again(
    tmp_path: Path,
) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}/api/v3"
    work = tmp_path / "w"

    async def main() -> None:
        client = sd.AsyncClient(provider="ark", api_key=KEY, base_url=base, workdir=work)
        async with client:
            started = time.monotonic()
            with pytest.raises(errors.NotSentError) as info:
                await client.submit("nobody listens", duration=4, resolution="480p")
            took = time.monotonic() - started
            text = str(info.value)
            assert took < 5.0, f"took {took:.1f} s to tell a refused connection"
            assert f"could not reach ark at 127.0.0.1:{port}: connection refused" in text
            assert "nothing was sent, nothing was charged" in text
            assert KEY not in text and KEY not in repr(info.value)
            first = (await client.jobs())[0]
            assert first.done and not first.outcome_unknown and first.status == "failed"
            assert first.error is not None and first.error.code == "NotSent"
            # the provider comes up on that very port: the same request goes out, no force
            emu = Emulator(
                tmp_path / "emu",
                port=port,
                api_key=KEY,
                queued_seconds=0.2,
                running_seconds=0.4,
                faults=None,
            ).start()
            try:
                job = await client.submit("nobody listens", duration=4, resolution="480p")
                assert not job.reused and job.id != first.id and job.task_id
                await job.wait_async(30)
                assert job.status == "succeeded" and _creates(emu) == 1
            finally:
                emu.stop()

    asyncio.run(main())


def test_a_host_that_does_not_resolve_is_named_plainly(tmp_path: Path) -> None:
    # .invalid never resolves (RFC 6761): no connection is ever made
    async def main() -> None:
        client = sd.AsyncClient(
            provider="ark",
            api_key=KEY,
            base_url="https://nonexistent.invalid/api/v3",
            workdir=tmp_path / "w",
        )
        async with client:
            await client.submit("no such host", duration=4, resolution="480p")

    started = time.monotonic()
    with pytest.raises(errors.NotSentError) as info:
        asyncio.run(main())
    assert time.monotonic() - started < 10.0
    assert str(info.value).startswith(
        "could not reach ark at nonexistent.invalid: name not resolved; "
        "nothing was sent, nothing was charged"
    )
    assert KEY not in str(info.value)


def test_a_create_that_could_not_be_built_was_not_sent_either(tmp_path: Path) -> None:
    # CometAPI uploads reference images: one that cannot be fetched stops the create before
    # anything goes out. The job must not stay "queued" (nor turn "unknown" on the next run)
    emu = Emulator(
        tmp_path / "emu", api_key=KEY, queued_seconds=0.2, running_seconds=0.4, faults=None
    ).start()
    prefix = sd.catalog.PROVIDERS["cometapi"].emulator_prefix.rstrip("/")
    frame = f"http://127.0.0.1:{_free_port()}/frame.png"
    try:

        async def main() -> list[sd.Job]:
            client = sd.AsyncClient(
                provider="cometapi",
                api_key=KEY,
                base_url=emu.base_url + prefix,
                workdir=tmp_path / "w",
            )
            async with client:
                for _ in range(2):
                    with pytest.raises(errors.InvalidRequest, match="could not be downloaded"):
                        await client.submit("from a dead host", first_frame=frame, duration=5)
                return await client.jobs()

        jobs = asyncio.run(main())
        assert _creates(emu) == 0
    finally:
        emu.stop()
    # tried twice, two attempts on record, both settled as not sent
    assert [(j.status, j.done, j.error and j.error.code) for j in jobs] == [
        ("failed", True, "NotSent")
    ] * 2


# ----------------------------------------------------------------------------- unknown outcome


class LoseCreateAndListing(httpx.AsyncBaseTransport):
    """Forwards to the emulator; loses the create's answer (the task exists) and cuts every
    listing read, so the outcome cannot be told."""

    def __init__(self) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.creates = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and "filter.model" in str(request.url):
            raise httpx.ReadError("listing cut", request=request)
        response = await self.inner.handle_async_request(request)
        if request.method == "POST":
            self.creates += 1
            await response.aclose()
            raise httpx.ReadTimeout("answer lost after the task was made", request=request)
        return response


def test_an_unknown_outcome_reads_unknown_everywhere_and_names_the_ways_out(
    emu: Emulator, tmp_path: Path
) -> None:
    work = tmp_path / "w"

    async def main() -> None:
        transport = LoseCreateAndListing()
        client = sd.AsyncClient(
            provider="emulator",
            base_url=emu.base_url + "/api/v3",
            workdir=work,
            request_timeout=1.0,
            http_client=httpx.AsyncClient(transport=transport),
        )
        async with client:
            with pytest.raises(errors.UnknownOutcomeError) as info:
                await client.submit("fate unknown", duration=4, resolution="480p")
            job = info.value.job
            assert job is not None and job.status == "unknown"
            assert _names_every_way_out(str(info.value), job.id), str(info.value)
            assert _ledger_row(work, job.id)["status"] == "unknown"
            assert [j.status for j in await client.jobs()] == ["unknown"]
            # the same cell again: the same job, nothing sent, and waiting on it says so
            again = await client.submit("fate unknown", duration=4, resolution="480p")
            assert again.id == job.id and again.reused and transport.creates == 1
            with pytest.raises(errors.JobFailed) as failed:
                await again.wait_async(5)
            text = str(failed.value)
            assert "queued" not in text and "unknown" in text, text
            assert _names_every_way_out(text, job.id), text

    asyncio.run(main())
    assert _creates(emu) == 1


def test_a_gateway_without_a_listing_says_unknown_with_the_ways_out(tmp_path: Path) -> None:
    emu = Emulator(
        tmp_path / "emu",
        api_key=KEY,
        queued_seconds=0.2,
        running_seconds=0.4,
        faults="create-drop*1",
    ).start()
    prefix = sd.catalog.PROVIDERS["orcarouter"].emulator_prefix.rstrip("/")
    try:

        async def main() -> None:
            client = sd.AsyncClient(
                provider="orcarouter",
                api_key=KEY,
                base_url=emu.base_url + prefix,
                workdir=tmp_path / "w",
                request_timeout=3.0,
            )
            async with client:
                with pytest.raises(errors.UnknownOutcomeError) as info:
                    await client.submit("a gateway lost it", duration=4, resolution="480p")
                job = info.value.job
                assert job is not None and job.status == "unknown"
                assert _names_every_way_out(str(info.value), job.id), str(info.value)
                assert _ledger_row(tmp_path / "w", job.id)["status"] == "unknown"

        asyncio.run(main())
    finally:
        emu.stop()


# ----------------------------------------------------------------------------- fast recovery


def test_a_dropped_answer_is_adopted_in_seconds_not_after_the_timeout(tmp_path: Path) -> None:
    emu = Emulator(
        tmp_path / "emu",
        api_key=KEY,
        queued_seconds=0.2,
        running_seconds=0.4,
        faults="create-drop*1",
    ).start()
    try:

        async def main() -> tuple[sd.Job, float]:
            client = sd.AsyncClient(
                provider="ark",
                api_key=KEY,
                base_url=emu.base_url + "/api/v3",
                workdir=tmp_path / "w",
                request_timeout=30.0,
            )
            async with client:
                started = time.monotonic()
                job = await client.submit("answer dropped", duration=4, resolution="480p")
                took = time.monotonic() - started
                await job.wait_async(30)
                return job, took

        job, took = asyncio.run(main())
        assert emu.stats()["faults"]["create-drop"] == 1
        assert took < 5.0, f"adopted after {took:.1f} s"
        assert job.status == "succeeded" and job.task_id and _creates(emu) == 1
    finally:
        emu.stop()


class HoldOneDropOther(httpx.AsyncBaseTransport):
    """Forwards every request; holds the answer to the create whose prompt has ``held`` for
    ``hold`` seconds, and loses the answer to the one whose prompt has ``dropped``."""

    def __init__(self, held: str, dropped: str, hold: float) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.held, self.dropped, self.hold = held, dropped, hold
        self.sent: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST":
            return await self.inner.handle_async_request(request)
        prompt = json.dumps(json.loads(request.content))
        response = await self.inner.handle_async_request(request)
        await response.aread()
        self.sent.append(prompt)
        if self.held in prompt:
            await asyncio.sleep(self.hold)
        elif self.dropped in prompt:
            await response.aclose()
            raise httpx.RemoteProtocolError("connection closed unanswered", request=request)
        return response


def test_a_sibling_in_flight_is_not_adopted_while_its_own_answer_may_still_come(
    tmp_path: Path,
) -> None:
    # two requests with the same explicit seed and parameters (they differ in prompt only):
    # the listing cannot tell their tasks apart. B's answer is slow, A's is lost; A must not
    # take B's task (or call the pair ambiguous) while B's answer may still come
    emu = Emulator(
        tmp_path / "emu", api_key=KEY, queued_seconds=0.2, running_seconds=0.4, faults=None
    ).start()
    transport = HoldOneDropOther(held="sibling B", dropped="sibling A", hold=1.5)
    try:

        async def main() -> tuple[sd.Job, sd.Job]:
            client = sd.AsyncClient(
                provider="ark",
                api_key=KEY,
                base_url=emu.base_url + "/api/v3",
                workdir=tmp_path / "w",
                request_timeout=4.0,
                http_client=httpx.AsyncClient(transport=transport),
            )
            async with client:
                b = asyncio.ensure_future(
                    client.submit("sibling B", duration=4, resolution="480p", seed=7)
                )
                while not transport.sent:
                    await asyncio.sleep(0.01)
                a = await client.submit("sibling A", duration=4, resolution="480p", seed=7)
                jobs = (a, await b)
                for job in jobs:
                    await job.wait_async(30)
                return jobs

        a, b = asyncio.run(main())
        tasks = {t.id: t for t in emu.service.tasks()}
    finally:
        emu.stop()
    assert len(tasks) == 2 and {a.task_id, b.task_id} == set(tasks)
    spec = tasks[str(a.task_id)].render_spec or {}
    assert "sibling A" in str(spec.get("prompt"))


# ----------------------------------------------------------------------------- messages


def test_an_api_error_names_its_request_id_once(emu: Emulator, tmp_path: Path) -> None:
    with sd.Client(
        provider="emulator", base_url=emu.base_url + "/api/v3", workdir=tmp_path / "w"
    ) as client:
        with pytest.raises(errors.APIError) as info:
            client.submit("blocked [[input-moderation]]", duration=4, resolution="480p")
    e = info.value
    assert e.request_id and str(e).count(e.request_id) == 1, str(e)
    plain = errors.APIError(
        "bad seed", status_code=400, code="InvalidParameter", request_id="req-1", provider="ark"
    )
    assert str(plain) == "ark answered HTTP 400 InvalidParameter: bad seed (request id req-1)"
