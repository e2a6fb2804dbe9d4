"""The public client end to end, over a real socket, against the offline emulator."""

from __future__ import annotations

import json
import logging
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from conftest import FAST, client_kwargs, png_data_url, write_png, write_video

import seedance_nb as sd
from seedance_nb import catalog
from seedance_nb.emulator import Emulator
from seedance_nb.providers.task import TaskError, Usage

KEY = "sk-DISTINCTIVE-c0ffee-4b1d-key-value-9931"
WRONG_KEY = "sk-WRONG-ALSO-DISTINCTIVE-77ab-0042"
M10 = "seedance-1.0-pro"  # 2 s silent clips: the cheapest real renders


def creates(emu: Emulator) -> int:
    return int(emu.stats()["tasks_created"])


def decode(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        info = {
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "fps": float(v.average_rate),
            "audio": len(c.streams.audio),
        }
        info["frames"] = sum(1 for _ in c.decode(video=0))
    return info


def assert_video(job: sd.Job, ratio: str, resolution: str, duration: int, audio: bool) -> None:
    assert job.status == "succeeded" and job.error is None
    path = job.video_path
    assert path is not None and path == job.video_path
    assert path.parent.name == "videos" and path.name == f"{job.id}.mp4" and path.is_file()
    info = decode(path)
    w, h = catalog.PIXELS[(ratio, resolution)]
    assert (info["width"], info["height"]) == (w, h), info
    assert info["fps"] == pytest.approx(24.0)
    assert info["frames"] == 24 * duration, info
    assert info["audio"] == (1 if audio else 0), info
    sidecar = path.with_suffix(".json")
    payload = json.loads(sidecar.read_text())
    assert payload["task_id"] == job.task_id and payload["response"]["status"] == "succeeded"
    assert job.raw["status"] == "succeeded" and job.raw["id"] == job.task_id


# ----------------------------------------------------------------------------- client basics


def test_client_properties_and_repr(client: sd.Client, emulator: Emulator, tmp_path: Path) -> None:
    assert client.provider_name == "emulator" and client.emulated is True
    assert client.workdir == (tmp_path / "w").resolve() and client.workdir.is_dir()
    assert client.base_url == emulator.base_url + "/api/v3"
    assert "emulator" in repr(client)


def test_validate_and_preview_touch_no_network(client: sd.Client, emulator: Emulator) -> None:
    before = sum(emulator.stats()["requests"].values())
    request = client.validate("a red kite", model=M10, duration=3, resolution="480p", seed=7)
    assert isinstance(request, sd.VideoRequest)
    assert (request.model_id, request.duration, request.seed) == ("seedance-1-0-pro-250528", 3, 7)
    p = client.preview("[Image 1] waves", images=[png_data_url()], duration=4, resolution="480p")
    for key in (
        "provider",
        "method",
        "url",
        "body",
        "estimated_tokens",
        "estimated_cost_usd",
        "warnings",
    ):
        assert key in p, key
    assert p["provider"] == "emulator" and p["method"] == "POST"
    assert p["url"] == emulator.base_url + "/api/v3/contents/generations/tasks"
    body = p["body"]
    assert body["model"] == "dreamina-seedance-2-0-260128" and body["duration"] == 4
    assert body["content"][0] == {"type": "text", "text": "[Image 1] waves"}
    assert body["content"][1]["role"] == "reference_image"
    assert p["estimated_tokens"] == catalog.estimate_tokens(864, 496, 4)
    assert p["estimated_cost_usd"] == pytest.approx(p["estimated_tokens"] * 7.0 / 1e6)
    assert "Bearer" not in json.dumps(p["body"]) and "Authorization" not in str(p)
    with pytest.raises(sd.InvalidRequest) as info:
        client.validate("x", duration=99)
    assert info.value.field == "duration"
    assert sum(emulator.stats()["requests"].values()) == before


def test_invalid_request_is_raised_before_any_call(client: sd.Client, emulator: Emulator) -> None:
    before = creates(emulator)
    with pytest.raises(sd.InvalidRequest, match="camera_fixed") as info:
        client.submit("a kite", camera_fixed=True)
    assert isinstance(info.value, ValueError) and isinstance(info.value, sd.SeedanceError)
    assert creates(emulator) == before and client.jobs() == []


# ----------------------------------------------------------------------------- modes


def test_text_to_video_with_audio(client: sd.Client) -> None:
    job = client.generate(
        "A paper boat drifts down a rain-soaked street",
        duration=4,
        resolution="480p",
        ratio="16:9",
        seed=11,
        timeout=60,
    )
    assert isinstance(job, sd.Job) and job.id and job.task_id and job.task_id.startswith("cgt-")
    assert_video(job, "16:9", "480p", 4, audio=True)
    assert job.provider == "emulator" and job.model == "seedance-2.0" and job.seed == 11
    assert isinstance(job.usage, Usage) and job.usage.total_tokens == catalog.estimate_tokens(
        864, 496, 4
    )
    assert job.progress == 1.0 and job.last_frame_path is None and not job.outcome_unknown
    assert job.finished_at is not None and job.finished_at >= job.created_at
    assert 0 < job.elapsed < 60 and job.request.prompt.startswith("A paper boat")


def test_text_to_video_silent_1_0(client: sd.Client) -> None:
    job = client.submit(
        "a lighthouse at night", model=M10, duration=2, resolution="480p", ratio="9:16"
    )
    assert job.status in ("queued", "running")
    assert job.wait(timeout=60) is job
    assert_video(job, "9:16", "480p", 2, audio=False)
    assert job.model == M10


def test_first_frame_from_a_local_png(client: sd.Client, tmp_path: Path) -> None:
    png = write_png(tmp_path / "start.png", (600, 600), (250, 20, 20))
    job = client.generate(
        "the red square starts to spin",
        first_frame=png,
        duration=4,
        resolution="480p",
        ratio="1:1",
        generate_audio=False,
        timeout=60,
    )
    assert_video(job, "1:1", "480p", 4, audio=False)
    assert job.request.mode == "first_frame" and job.request.first_frame.path == str(png.resolve())
    with av.open(str(job.video_path)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24")
    r, g, b = (float(first[..., i].mean()) for i in range(3))
    assert r > 150 and g < 100 and b < 100, (r, g, b)  # the first frame is our red image


def test_first_and_last_frame_with_last_frame_out(client: sd.Client, tmp_path: Path) -> None:
    from PIL import Image

    a = write_png(tmp_path / "a.png", (800, 450), (10, 200, 10))
    b = write_png(tmp_path / "b.png", (800, 450), (10, 10, 200))
    job = client.generate(
        "green fades into blue",
        first_frame=a,
        last_frame=b,
        duration=4,
        resolution="480p",
        ratio="16:9",
        return_last_frame=True,
        generate_audio=False,
        timeout=60,
    )
    assert job.request.mode == "first_last"
    assert_video(job, "16:9", "480p", 4, audio=False)
    frame = job.last_frame_path
    assert frame is not None and frame.is_file() and frame.parent == job.video_path.parent
    with Image.open(frame) as im:
        assert im.format == "PNG" and im.size == (864, 496)


def test_multimodal_references_with_data_url_and_uploaded_asset(
    client: sd.Client, emulator: Emulator, tmp_path: Path
) -> None:
    clip = write_video(tmp_path / "ref.mp4", 2.5, 24, (640, 640))
    r = httpx.post(
        emulator.base_url + "/emulator/assets",
        content=clip.read_bytes(),
        headers={"Content-Type": "video/mp4"},
        params={"filename": "ref.mp4"},
    )
    assert r.status_code == 200, r.text
    asset = r.json()["url"]
    assert asset.startswith("asset://")
    job = client.generate(
        "[Image 1] dances to the rhythm of [Video 1]",
        images=[png_data_url((500, 500))],
        videos=[asset],
        duration=5,
        resolution="480p",
        ratio="4:3",
        timeout=60,
    )
    assert job.request.mode == "reference"
    assert_video(job, "4:3", "480p", 5, audio=True)
    sent = json.loads(job.video_path.with_suffix(".json").read_text())["request"]
    assert sent["videos"][0]["url"] == asset


# ----------------------------------------------------------------------------- never pay twice


def test_same_request_twice_is_one_job_and_one_create(
    client: sd.Client, emulator: Emulator, tmp_path: Path
) -> None:
    before = creates(emulator)
    params = {"model": M10, "duration": 2, "resolution": "480p", "seed": 42}
    one = client.submit("a lantern floats up", **params)
    two = client.submit("a lantern floats up", **params)
    assert two.id == one.id and two.task_id == one.task_id
    one.wait(timeout=60)
    three = client.submit("  a lantern floats up \n", **params)  # same after normalisation
    assert three.id == one.id and three.status == "succeeded"
    assert creates(emulator) == before + 1
    # a fresh client on the same workdir knows the job too
    with sd.Client(**client_kwargs(emulator, tmp_path / "w")) as again:
        four = again.submit("a lantern floats up", **params)
        assert four.id == one.id and four.video_path == one.video_path
        assert four.status == "succeeded"
    assert creates(emulator) == before + 1
    # force=True pays again, on purpose
    forced = client.submit("a lantern floats up", force=True, **params)
    assert forced.id != one.id and forced.task_id != one.task_id
    forced.wait(timeout=60)
    assert forced.video_path != one.video_path and forced.video_path.is_file()
    assert creates(emulator) == before + 2


def test_a_different_parameter_is_a_different_job(client: sd.Client, emulator: Emulator) -> None:
    before = creates(emulator)
    a = client.submit("a lantern floats up", model=M10, duration=2, resolution="480p", seed=1)
    b = client.submit("a lantern floats up", model=M10, duration=2, resolution="480p", seed=2)
    assert a.id != b.id
    a.wait(timeout=60)
    b.wait(timeout=60)
    assert creates(emulator) == before + 2


def test_jobs_history_newest_first(client: sd.Client) -> None:
    submitted = [
        client.submit(f"history item {i}", model=M10, duration=2, resolution="480p")
        for i in range(3)
    ]
    history = client.jobs()
    assert [j.id for j in history] == [j.id for j in reversed(submitted)]
    assert [j.request.prompt for j in history] == [
        "history item 2",
        "history item 1",
        "history item 0",
    ]
    assert [j.id for j in client.jobs(limit=2)] == [submitted[2].id, submitted[1].id]
    for job in submitted:
        job.wait(timeout=60)
    assert all(j.status == "succeeded" for j in client.jobs())


# ----------------------------------------------------------------------------- unhappy endings


def test_output_moderation_fails_the_job(client: sd.Client) -> None:
    job = client.submit("a harmless scene [[moderation]]", model=M10, duration=2, resolution="480p")
    with pytest.raises(sd.JobFailed) as info:
        job.wait(timeout=60)
    failed = info.value.job
    assert failed is job and job.status == "failed" and job.video_path is None
    assert isinstance(job.error, TaskError)
    assert job.error.code.startswith("OutputVideoSensitiveContentDetected")
    assert job.error.code in str(info.value) and job.id in str(info.value)
    assert job.finished_at is not None
    # the ledger keeps it; asking again does not pay again
    assert (
        client.submit(
            "a harmless scene [[moderation]]", model=M10, duration=2, resolution="480p"
        ).id
        == job.id
    )


def test_expired_task(client: sd.Client) -> None:
    job = client.submit(
        "too long in the queue [[expire]]", model=M10, duration=2, resolution="480p"
    )
    with pytest.raises(sd.JobFailed, match="expired"):
        job.wait(timeout=60)
    assert job.status == "expired" and job.video_path is None


def test_generate_raises_job_failed(client: sd.Client) -> None:
    with pytest.raises(sd.JobFailed) as info:
        client.generate("boom [[fail]]", model=M10, duration=2, resolution="480p", timeout=60)
    assert info.value.job.status == "failed" and info.value.job.error.code == "InternalServiceError"


def test_wait_timeout_then_wait_again(client: sd.Client) -> None:
    job = client.submit("a slow sunrise [[slow]]", model=M10, duration=2, resolution="480p")
    with pytest.raises(sd.WaitTimeout):
        job.wait(timeout=0.2)
    assert job.status in ("queued", "running")
    assert isinstance(sd.WaitTimeout("x"), TimeoutError)
    assert job.wait(timeout=60).status == "succeeded"


@pytest.fixture
def slow_queue(tmp_path: Path) -> Iterator[Emulator]:
    emu = Emulator(state_dir=tmp_path / "slow-emu", queued_seconds=30, running_seconds=0.4).start()
    try:
        yield emu
    finally:
        emu.stop()


def test_cancel_a_queued_task(slow_queue: Emulator, tmp_path: Path) -> None:
    with sd.Client(**client_kwargs(slow_queue, tmp_path / "w")) as c:
        job = c.submit("never rendered", model=M10, duration=2, resolution="480p")
        assert job.status == "queued"
        assert job.cancel() is job
        assert job.status == "cancelled"
        with pytest.raises(sd.JobFailed, match="cancelled"):
            job.wait(timeout=10)
        r = httpx.get(
            f"{slow_queue.base_url}/api/v3/contents/generations/tasks/{job.task_id}",
            headers={"Authorization": "Bearer any"},
        )
        assert r.json()["status"] == "cancelled"
        deletes = {
            r: n for r, n in slow_queue.stats()["requests"].items() if r.startswith("DELETE")
        }
        assert sum(deletes.values()) == 1, deletes


# ----------------------------------------------------------------------------- API errors


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    emu = Emulator(state_dir=tmp_path_factory.mktemp("keyed"), api_key=KEY, **FAST).start()
    try:
        yield emu
    finally:
        emu.stop()


def test_wrong_key_is_an_authentication_error(keyed: Emulator, tmp_path: Path) -> None:
    with sd.Client(**client_kwargs(keyed, tmp_path / "w", api_key=WRONG_KEY)) as c:
        with pytest.raises(sd.AuthenticationError) as info:
            c.submit("a kite", model=M10, duration=2, resolution="480p")
        e = info.value
        assert isinstance(e, sd.APIError) and e.status_code == 401
        assert WRONG_KEY not in str(e) and WRONG_KEY not in repr(e) and KEY not in str(e)
        assert WRONG_KEY not in repr(c)
    assert creates(keyed) == 0


def test_provider_400_surfaces_with_its_code(client: sd.Client, emulator: Emulator) -> None:
    before = creates(emulator)
    with pytest.raises(sd.APIError) as info:
        client.submit("something [[input-moderation]]", model=M10, duration=2, resolution="480p")
    e = info.value
    assert e.status_code == 400 and e.code == "InputTextSensitiveContentDetected"
    assert "InputTextSensitiveContentDetected" in str(e) and e.provider == "emulator"
    assert not isinstance(e, sd.AuthenticationError)
    assert creates(emulator) == before


def test_key_hygiene(
    keyed: Emulator,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    workdir = tmp_path / "w"
    with sd.Client(**client_kwargs(keyed, workdir, api_key=KEY)) as c:
        job = c.generate(
            "a quiet harbour",
            model=M10,
            duration=2,
            resolution="480p",
            return_last_frame=True,
            timeout=60,
        )
        failed = c.submit("oops [[moderation]]", model=M10, duration=2, resolution="480p")
        with pytest.raises(sd.JobFailed) as info:
            failed.wait(timeout=60)
        texts = [
            repr(c),
            str(c),
            repr(job),
            str(job),
            repr(job.request),
            str(info.value),
            repr(info.value),
            json.dumps(job.raw),
            repr(c.preview("x", model=M10, duration=2)),
            repr(c.jobs()),
        ]
    for text in texts:
        assert KEY not in text, text
    ledger = workdir / "ledger.sqlite"
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    files = [p for p in workdir.rglob("*") if p.is_file()]
    assert job.video_path.with_suffix(".json") in files and ledger in files
    for path in files:
        assert KEY.encode() not in path.read_bytes(), path
    out = capsys.readouterr()
    assert KEY not in out.out and KEY not in out.err
    assert caplog.records, "expected some debug logging from the runtime or httpx"
    for record in caplog.records:
        assert KEY not in record.getMessage()


# ----------------------------------------------------------------------------- async


def test_async_client_await_job(aclient: sd.AsyncClient, run: Any) -> None:
    async def scenario() -> tuple[sd.Job, sd.Job]:
        async with aclient:
            job = await aclient.submit(
                "an origami crane unfolds",
                model=M10,
                duration=2,
                resolution="480p",
                return_last_frame=True,
            )
            assert job.status in ("queued", "running")
            done = await job
            history = await aclient.jobs()
            with pytest.raises(sd.JobFailed):
                bad = await aclient.submit("x [[fail]]", model=M10, duration=2, resolution="480p")
                await bad
            return done, history[0]

    done, newest = run(scenario())
    assert done.status == "succeeded" and newest.id == done.id
    assert_video(done, "16:9", "480p", 2, audio=False)
    assert done.last_frame_path is not None and done.last_frame_path.is_file()


def test_async_generate(aclient: sd.AsyncClient, run: Any) -> None:
    async def scenario() -> sd.Job:
        async with aclient:
            return await aclient.generate(
                "a candle flickers", model=M10, duration=2, resolution="480p", timeout=60
            )

    job = run(scenario())
    assert_video(job, "16:9", "480p", 2, audio=False)


# ----------------------------------------------------------------------------- resume


def test_job_survives_its_client(emulator: Emulator, tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    before = creates(emulator)
    first = sd.Client(**client_kwargs(emulator, workdir))
    job = first.submit(
        "a long pan across the city [[slow]]", model=M10, duration=2, resolution="480p"
    )
    job_id, task_id = job.id, job.task_id
    assert job.status in ("queued", "running")
    first.close()
    time.sleep(0.1)
    with sd.Client(**client_kwargs(emulator, workdir)) as second:
        (again,) = [j for j in second.jobs() if j.id == job_id]
        assert again.task_id == task_id
        again.wait(timeout=60)
        assert again.status == "succeeded"
        assert again.video_path == workdir.resolve() / "videos" / f"{job_id}.mp4"
        assert decode(again.video_path)["frames"] == 48
    assert creates(emulator) == before + 1


def test_resume_drives_unfinished_jobs_without_being_asked_for_them(
    emulator: Emulator, tmp_path: Path
) -> None:
    workdir = tmp_path / "w"
    first = sd.Client(**client_kwargs(emulator, workdir))
    job = first.submit("a slow dolly shot [[slow]]", model=M10, duration=2, resolution="480p")
    first.close()
    with sd.Client(**client_kwargs(emulator, workdir)) as second:
        (pending,) = second.resume()
        assert pending.id == job.id and pending.status in ("queued", "running")
        deadline = time.monotonic() + 60
        while not (workdir / "videos" / f"{job.id}.mp4").exists() and time.monotonic() < deadline:
            time.sleep(0.1)  # nobody waits: the client downloads on its own
        assert pending.wait(timeout=30).status == "succeeded"
        assert pending.video_path.is_file() and pending.video_path.with_suffix(".json").is_file()


def test_listing_jobs_resumes_nothing_until_asked(emulator: Emulator, tmp_path: Path) -> None:
    workdir = tmp_path / "w"
    first = sd.Client(**client_kwargs(emulator, workdir))
    job = first.submit("a slow crane shot [[slow]]", model=M10, duration=2, resolution="480p")
    first.close()
    with sd.Client(**client_kwargs(emulator, workdir)) as second:
        (listed,) = second.jobs()
        time.sleep(0.8)  # several poll intervals of the emulator's policy
        assert second.async_client.status_requests == 0  # a listing is only a listing
        assert listed.id == job.id and not listed.done
        assert listed.wait(timeout=60).status == "succeeded"  # a wait drives it
        assert second.async_client.status_requests > 0


def test_no_key_means_the_builtin_emulator(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sd.Client(workdir=tmp_path / "a") as a, sd.Client(workdir=tmp_path / "b") as b:
        for c in (a, b):
            assert c.emulated and c.provider_name == "emulator"
            assert c.base_url.startswith("http://127.0.0.1:") and c.base_url.endswith("/api/v3")
        err = capsys.readouterr().err
    assert err.count("using the offline emulator") <= 1  # said once per process, at most


def test_unknown_provider_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(sd.ConfigurationError, match="unknown provider 'nope'"):
        sd.Client(provider="nope", workdir=tmp_path)
    with pytest.raises(sd.ConfigurationError, match="needs an API key"):
        sd.Client(provider="ark", base_url="https://ark.example.com/api/v3", workdir=tmp_path)
    with pytest.raises(sd.ConfigurationError, match="plain http"):
        sd.Client(
            provider="ark", api_key=KEY, base_url="http://ark.example.com/api/v3", workdir=tmp_path
        )


def test_rounds_that_learn_nothing_write_nothing(tmp_path: Path) -> None:
    # a status read that changes nothing leaves the ledger row alone (no per-round write of
    # every tracked job, and no lease renewal while the lease has most of its term left)
    with (
        Emulator(tmp_path / "emu", queued_seconds=2.0, running_seconds=0.3) as emu,
        sd.Client(**client_kwargs(emu, tmp_path / "w", poll=sd.PollPolicy(0.1, 0.1))) as client,
    ):
        job = client.submit("a quiet queue", duration=4, resolution="480p")

        def reads() -> int:
            return sum(
                n
                for route, n in emu.stats()["requests"].items()
                if route.startswith("GET /api/v3/contents/generations/tasks")
            )

        deadline = time.monotonic() + 10
        while '"status"' not in ((client.ledger.get(job.id) or {}).get("raw_json") or ""):
            assert time.monotonic() < deadline, "the first status read never landed"
            time.sleep(0.02)
        first, reads_before = client.ledger.get(job.id), reads()
        time.sleep(0.8)
        assert reads() - reads_before >= 4  # the job was read again and again...
        assert client.ledger.get(job.id) == first  # ...and nothing was written
        assert job.wait(30).status == "succeeded"
        assert (client.ledger.get(job.id) or {})["updated_at"] > first["updated_at"]


# the narrow interface between Job and the engine -----------------------------------------------
ENGINE = Path(sd.__file__).parent / "engine"


def test_phase_is_an_enum_whose_values_are_the_ledger_strings() -> None:
    from seedance_nb.engine.job import Phase
    from seedance_nb.engine.ledger import ACTIVE_PHASES

    assert [p.value for p in Phase] == [
        "creating",
        "tracking",
        "downloading",
        "done",
        "unknown",
        "rejected",
    ]
    assert set(ACTIVE_PHASES) <= {p.value for p in Phase}
    assert Phase("done") is Phase.DONE and Phase.DONE == "done"
    assert f"{Phase.TRACKING}" == str(Phase.TRACKING) == "tracking"  # shown as the ledger shows it


def test_a_settled_job_reports_its_phase_as_the_enum(client: sd.Client) -> None:
    from seedance_nb.engine.job import Phase

    job = client.generate("a phase", duration=4, resolution="480p", timeout=60)
    assert job.phase is Phase.DONE and job.done
    assert json.dumps({"phase": job.phase}) == '{"phase": "done"}'


def _private_uses(path: Path, owner: str) -> list[str]:
    """``owner.<_private>`` attribute uses in ``path`` (``owner`` an attribute of self)."""
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Attribute)
            and node.value.attr == owner
        ):
            found.append(f"{path.name}:{node.lineno} {owner}.{node.attr}")
    return found


def test_job_calls_only_public_methods_of_its_client() -> None:
    assert _private_uses(ENGINE / "job.py", "_runtime") == []


def test_the_engine_never_assigns_a_jobs_row() -> None:
    import ast

    writes = []
    for path in ENGINE.glob("*.py"):
        if path.name == "job.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets = node.targets if isinstance(node, ast.Assign) else []
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "_row":
                    writes.append(f"{path.name}:{node.lineno}")
    assert writes == []


def test_client_resume_uses_the_async_clients_public_resume() -> None:
    path = Path(sd.__file__).parent / "client.py"
    assert _private_uses(path, "_async") == []


def test_the_sync_client_takes_every_setting_of_the_async_one(
    emulator: Emulator, tmp_path: Path
) -> None:
    """``Client`` had drifted from ``AsyncClient``: it lacked ``max_download_bytes``."""
    import inspect

    sync = set(inspect.signature(sd.Client.__init__).parameters) - {"self"}
    asynchronous = set(inspect.signature(sd.AsyncClient.__init__).parameters) - {"self"}
    assert asynchronous - sync == {"http_client"}  # an httpx.AsyncClient belongs to one loop
    with sd.Client(**client_kwargs(emulator, tmp_path / "w"), max_download_bytes=1234) as client:
        assert client.async_client.max_download_bytes == 1234
