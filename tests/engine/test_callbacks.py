"""Provider callbacks: the local receiver, and callbacks as hints that cannot corrupt a job.

The emulator's Ark dialect POSTs the task body to a loopback ``callback_url`` on each status
change, so these run end to end over real sockets: emulator → receiver → client → emulator.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx

import seedance_nb as sd
from seedance_nb.emulator import Emulator

SLOW_POLL = sd.PollPolicy(30.0, 30.0)  # so only a callback can make a job finish quickly


def _client(emu: Emulator, workdir: Path, **kw: Any) -> sd.AsyncClient:
    return sd.AsyncClient(
        provider="emulator", base_url=emu.base_url + "/api/v3", workdir=workdir, **kw
    )


def test_a_callback_finishes_the_job_long_before_the_next_poll(
    emu: Emulator, tmp_path: Path
) -> None:
    async def main() -> tuple[sd.Job, float, sd.CallbackReceiver, int]:
        async with _client(emu, tmp_path / "w", poll=SLOW_POLL) as client:
            receiver = await client.receive_callbacks()
            assert (
                receiver.url.startswith("http://127.0.0.1:")
                and "/seedance-callback/" in receiver.url
            )
            start = time.monotonic()
            job = await client.submit(
                "called back", duration=4, resolution="480p", callback_url=receiver.url
            )
            await job.wait_async(20)
            return job, time.monotonic() - start, receiver, client.status_requests

    job, took, receiver, reads = asyncio.run(main())
    assert job.status == "succeeded" and job.video_path is not None and job.video_path.exists()
    assert took < 15, "the poll interval is 30 s: only the callback can explain a quick finish"
    assert receiver.applied >= 1 and receiver.refused == 0
    # the final status was confirmed by one status read of our own, not taken from the body
    assert 1 <= reads <= 3
    assert emu.stats()["callbacks"].get("delivered", 0) >= 2


def test_stale_duplicate_and_forged_callbacks_change_nothing(emu: Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        async with _client(emu, tmp_path / "w", poll=SLOW_POLL) as client:
            receiver = await client.receive_callbacks()
            job = await client.submit("a long one [[slow]]", duration=4, resolution="480p")
            assert job.task_id is not None
            await asyncio.sleep(0.6)  # upstream, the task is running now (for 2 s)
            running = {
                "id": job.task_id,
                "model": job.request.model_id,
                "status": "running",
                "created_at": int(time.time()),
                "updated_at": int(time.time()),
            }
            forged = {
                **running,
                "status": "succeeded",
                "content": {"video_url": "http://127.0.0.1:9/evil.mp4"},
            }
            queued = {**running, "status": "queued"}
            async with httpx.AsyncClient() as http:
                for body in (running, running, forged, queued):
                    r = await http.post(receiver.url, json=body)
                    assert r.status_code == 200 and r.json()["applied"] is True
            # the duplicate is harmless, the stale "queued" does not move the job back, and the
            # forged success was checked against the provider: the task is still running there
            await asyncio.sleep(0.5)
            assert job.phase == "tracking" and job.status == "running"
            assert job.video_path is None
            assert not (client.workdir / "videos" / f"{job.id}.mp4").exists()
            assert receiver.received == 4

    asyncio.run(main())


def test_receiver_refuses_what_is_not_a_callback(emu: Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        async with _client(emu, tmp_path / "w") as client:
            receiver = await client.receive_callbacks()
            base = receiver.url.rsplit("/", 1)[0]
            async with httpx.AsyncClient() as http:
                assert (await http.post(base + "/guessed-token", json={})).status_code == 404
                assert (await http.get(receiver.url)).status_code == 405
                big = b"{" + b" " * (1024 * 1024 + 10) + b"}"
                assert (await http.post(receiver.url, content=big)).status_code == 413
                assert (await http.post(receiver.url, content=b"<html>")).status_code == 400
                assert (await http.post(receiver.url, json={"no": "id"})).status_code == 400
                other = {"id": "cgt-20260101000000-abcdef01", "status": "running"}
                r = await http.post(receiver.url, json=other)
                assert r.status_code == 200 and r.json() == {"ok": True, "applied": False}
            assert receiver.refused == 5 and receiver.received == 1 and receiver.applied == 0

    asyncio.run(main())


def test_public_url_is_what_the_provider_is_told(emu: Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        async with _client(emu, tmp_path / "w") as client:
            receiver = await client.receive_callbacks(public_url="https://abc.trycloudflare.com/")
            assert receiver.url.startswith("https://abc.trycloudflare.com/seedance-callback/")
            assert receiver.local_url.startswith("http://127.0.0.1:")
            # the tunnel forwards the same path to the local port
            async with httpx.AsyncClient() as http:
                path = receiver.url.split(".com", 1)[1]
                r = await http.post(
                    f"http://127.0.0.1:{receiver.port}{path}",
                    content=json.dumps({"id": "cgt-x", "status": "queued"}),
                )
                assert r.status_code == 200

    asyncio.run(main())


def test_sync_client_serves_callbacks_on_its_loop_thread(emu: Emulator, tmp_path: Path) -> None:
    with sd.Client(
        provider="emulator",
        base_url=emu.base_url + "/api/v3",
        workdir=tmp_path / "w",
        poll=SLOW_POLL,
    ) as client:
        receiver = client.receive_callbacks()
        job = client.submit(
            "sync callback", duration=4, resolution="480p", callback_url=receiver.url
        )
        assert job.wait(20).status == "succeeded"
        assert receiver.applied >= 1


def test_a_new_receiver_url_is_the_same_job(emu: Emulator, tmp_path: Path) -> None:
    async def main() -> None:
        async with _client(emu, tmp_path / "w") as client:
            first = await client.submit(
                "same video",
                duration=4,
                resolution="480p",
                callback_url="http://127.0.0.1:1/seedance-callback/a",
            )
            again = await client.submit(
                "same video",
                duration=4,
                resolution="480p",
                callback_url="http://127.0.0.1:2/seedance-callback/b",
            )
            assert again.id == first.id
            await first.wait_async(20)

    asyncio.run(main())
    assert sum(emu.stats()["creates"].values()) == 1
