"""The offline emulator over a real socket: Ark lifecycle, errors, signed files, real MP4s."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from seedance_nb import catalog
from seedance_nb.emulator import Emulator, ensure_running

TASKS = "/contents/generations/tasks"
M20 = "dreamina-seedance-2-0-260128"
M20_FAST = "dreamina-seedance-2-0-fast-260128"
M10 = "seedance-1-0-pro-250528"  # 2 s clips: the cheapest real renders
KEY = "sk-test-secret-value-123"


def png_data_url(color: tuple[int, int, int], size: tuple[int, int] = (400, 400)) -> str:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


def text(prompt: str) -> dict[str, Any]:
    return {"type": "text", "text": prompt}


def image(url: str, role: str | None = "reference_image") -> dict[str, Any]:
    return {"type": "image_url", "image_url": {"url": url}, "role": role}


def body(prompt: str = "a lighthouse at dusk", model: str = M10, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": model,
        "content": [text(prompt)],
        "resolution": "480p",
        "duration": 2 if model == M10 else 4,
    }
    out.update(kw)
    return out


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(tmp_path_factory.mktemp("emu"), queued_seconds=0.4, running_seconds=0.6) as e:
        yield e


@pytest.fixture
def ark(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emu.base_url + "/api/v3", timeout=30, headers={"Authorization": f"Bearer {KEY}"}
    ) as c:
        yield c


def create(c: httpx.Client, payload: dict[str, Any]) -> str:
    r = c.post(TASKS, json=payload)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def wait(c: httpx.Client, task_id: str, timeout: float = 40.0) -> tuple[dict[str, Any], list[str]]:
    seen: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = c.get(f"{TASKS}/{task_id}")
        assert r.status_code == 200, r.text
        task = r.json()
        if not seen or seen[-1] != task["status"]:
            seen.append(task["status"])
        if task["status"] not in ("queued", "running"):
            return task, seen
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} still {seen[-1]} after {timeout}s")


def download(url: str, path: Path) -> Path:
    r = httpx.get(url, timeout=30)
    assert r.status_code == 200, r.text
    path.write_bytes(r.content)
    return path


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        info = {
            "codec": v.codec_context.name,
            "width": v.codec_context.width,
            "height": v.codec_context.height,
            "fps": float(v.average_rate),
            "audio": len(c.streams.audio),
        }
        frames = list(c.decode(video=0))
        info["frames"] = len(frames)
        info["first"] = frames[0].to_ndarray(format="rgb24")
        info["last"] = frames[-1].to_ndarray(format="rgb24")
    return info


# ----------------------------------------------------------------------------- lifecycle


def test_lifecycle_queued_running_succeeded(ark: httpx.Client, tmp_path: Path) -> None:
    tid = create(
        ark,
        body(
            "a red kite over the sea",
            seed=1234,
            return_last_frame=True,
            ratio="16:9",
            camera_fixed=True,
        ),
    )
    assert tid.startswith("cgt-")
    task, seen = wait(ark, tid)
    assert seen[0] == "queued" and "running" in seen and seen[-1] == "succeeded", seen
    assert task["seed"] == 1234 and task["model"] == M10
    assert task["ratio"] == "16:9" and task["resolution"] == "480p" and task["duration"] == 2
    assert task["framespersecond"] == 24 and task["service_tier"] == "default"
    assert task["execution_expires_after"] == 172800 and task["error"] is None
    assert task["generate_audio"] is False
    expected = catalog.estimate_tokens(864, 496, 2)
    assert task["usage"] == {"completion_tokens": expected, "total_tokens": expected}
    assert isinstance(task["created_at"], int) and task["updated_at"] >= task["created_at"]
    mp4 = download(task["content"]["video_url"], tmp_path / "v.mp4")
    info = probe(mp4)
    assert (info["codec"], info["width"], info["height"]) == ("h264", 864, 496)
    assert info["fps"] == 24 and info["frames"] == 48 and info["audio"] == 0
    png = download(task["content"]["last_frame_url"], tmp_path / "last.png")
    with Image.open(png) as im:
        assert im.size == (864, 496)
        last = np.asarray(im.convert("RGB")).astype(int)
    # the PNG is the last video frame (up to H.264 loss)
    assert np.abs(last - info["last"].astype(int)).mean() < 6
    # MP4 starts with moov before mdat (+faststart: playable while downloading)
    head = mp4.read_bytes()
    assert head.find(b"moov") < head.find(b"mdat")


def test_random_seed_when_unset_and_sdk_nulls_accepted(ark: httpx.Client) -> None:
    payload = body(
        seed=None,
        watermark=None,
        camera_fixed=None,
        generate_audio=None,
        return_last_frame=None,
        service_tier=None,
        callback_url=None,
        execution_expires_after=None,
        output_format=None,
        omni_reference_task_type=None,
        safety_identifier=None,
        priority=None,
        some_future_field={"x": 1},
    )
    task, _ = wait(ark, create(ark, payload))
    assert task["status"] == "succeeded" and isinstance(task["seed"], int)
    assert "last_frame_url" not in task["content"]


@pytest.mark.parametrize(
    ("ratio", "resolution", "model"),
    [
        ("9:16", "480p", M10),
        ("1:1", "480p", M10),
        ("21:9", "480p", M10),
        ("4:3", "720p", M10),
        ("3:4", "480p", M10),
    ],
)
def test_pixel_sizes_follow_the_table(
    ark: httpx.Client, tmp_path: Path, ratio: str, resolution: str, model: str
) -> None:
    task, _ = wait(
        ark, create(ark, body(f"size check {ratio}", model, ratio=ratio, resolution=resolution))
    )
    info = probe(download(task["content"]["video_url"], tmp_path / "v.mp4"))
    assert (info["width"], info["height"]) == catalog.PIXELS[(ratio, resolution)]
    assert info["frames"] == 48 and info["codec"] == "h264" and info["fps"] == 24


def test_audio_track_only_when_asked(ark: httpx.Client, tmp_path: Path) -> None:
    loud, _ = wait(ark, create(ark, body("with sound", M20_FAST, generate_audio=True)))
    quiet, _ = wait(ark, create(ark, body("in silence", M20_FAST, generate_audio=False)))
    assert loud["generate_audio"] is True and quiet["generate_audio"] is False
    a = download(loud["content"]["video_url"], tmp_path / "a.mp4")
    b = download(quiet["content"]["video_url"], tmp_path / "b.mp4")
    with av.open(str(a)) as c:
        s = c.streams.audio[0]
        assert s.codec_context.name == "aac"
        assert s.duration * s.time_base == pytest.approx(4.0, abs=0.03)
        assert c.streams.video[0].frames == 96
    assert probe(b)["audio"] == 0


def test_first_frame_is_visible_and_adaptive_ratio(ark: httpx.Client, tmp_path: Path) -> None:
    red = png_data_url((220, 30, 30), (360, 640))  # portrait → adaptive picks 9:16
    payload = body(
        "the red card spins", content=[text("the red card spins"), image(red, "first_frame")]
    )
    payload.pop("resolution")
    payload["resolution"] = "480p"
    task, _ = wait(ark, create(ark, payload))
    assert task["ratio"] == "9:16"
    info = probe(download(task["content"]["video_url"], tmp_path / "v.mp4"))
    assert (info["width"], info["height"]) == (496, 864)
    centre = info["first"][300:560, 100:400].reshape(-1, 3).mean(axis=0)
    assert centre[0] > 180 and centre[1] < 70 and centre[2] < 70, centre


def test_first_last_frame_cross_fade(ark: httpx.Client, tmp_path: Path) -> None:
    first, last = png_data_url((230, 20, 20), (640, 360)), png_data_url((20, 20, 230), (640, 360))
    payload = body(
        "fade",
        ratio="16:9",
        content=[text("fade"), image(first, "first_frame"), image(last, "last_frame")],
    )
    task, _ = wait(ark, create(ark, payload))
    info = probe(download(task["content"]["video_url"], tmp_path / "v.mp4"))
    a = info["first"][150:300, 200:600].reshape(-1, 3).mean(axis=0)
    b = info["last"][150:300, 200:600].reshape(-1, 3).mean(axis=0)
    assert a[0] > 180 > a[2] and b[2] > 180 > b[0], (a, b)


def test_reference_image_via_asset_is_drawn(
    emu: Emulator, ark: httpx.Client, tmp_path: Path
) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (500, 500), (20, 210, 40)).save(buf, "PNG")
    up = httpx.post(
        emu.base_url + "/emulator/assets?filename=green.png",
        content=buf.getvalue(),
        headers={"Content-Type": "image/png"},
    )
    assert up.status_code == 200
    asset = up.json()
    assert asset["url"] == f"asset://{asset['id']}" and asset["id"].startswith("asset-")
    payload = body(
        "[Image 1] and a placeholder [Image 2]",
        ratio="16:9",
        content=[
            text("[Image 1] and a placeholder [Image 2]"),
            image(asset["url"]),
            image("https://example.com/not-fetched.png"),
        ],
    )
    task, _ = wait(ark, create(ark, payload))
    frame = probe(download(task["content"]["video_url"], tmp_path / "v.mp4"))["first"]
    green = (frame[..., 1] > 170) & (frame[..., 0] < 80) & (frame[..., 2] < 90)
    assert green.mean() > 0.05  # the reference card covers a real share of the frame
    bad = ark.post(TASKS, json=body(content=[text("x"), image("asset://asset-nope")]))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "InvalidParameter"


# ----------------------------------------------------------------------------- list & delete


def test_list_with_filters(tmp_path: Path) -> None:
    # a long queue keeps every task queued for the whole test, however slow the machine
    with (
        Emulator(tmp_path, queued_seconds=60) as e,
        httpx.Client(base_url=e.base_url + "/api/v3", headers={"Authorization": "Bearer k"}) as ark,
    ):
        _check_list(ark)


def _check_list(ark: httpx.Client) -> None:
    ids = [create(ark, body(f"list {i}")) for i in range(3)]
    r = ark.get(
        TASKS,
        params=[
            ("page_num", "1"),
            ("page_size", "10"),
            ("filter.task_ids", ids[0]),
            ("filter.task_ids", ids[2]),
        ],
    )
    assert r.status_code == 200
    data = r.json()
    assert data["total"] == 2 and [t["id"] for t in data["items"]] == [ids[2], ids[0]]
    assert all(t["status"] == "queued" for t in data["items"])
    r = ark.get(TASKS, params={"filter.status": "queued", "filter.model": M10, "page_size": 1})
    assert r.json()["total"] == 3 and len(r.json()["items"]) == 1
    assert ark.get(TASKS, params={"filter.status": "succeeded"}).json() == {"total": 0, "items": []}
    assert ark.get(TASKS, params={"filter.model": M20}).json()["total"] == 0
    assert ark.get(TASKS, params={"page_size": 501}).json()["error"]["param"] == "page_size"
    assert ark.get(TASKS, params={"filter.status": "done"}).status_code == 400


def test_delete_semantics(ark: httpx.Client) -> None:
    queued = create(ark, body("cancel me"))
    assert ark.delete(f"{TASKS}/{queued}").json() == {}
    assert ark.get(f"{TASKS}/{queued}").json()["status"] == "cancelled"
    again = ark.delete(f"{TASKS}/{queued}")
    assert again.status_code == 409 and again.json()["error"]["code"].startswith("OperationDenied")

    slow = create(ark, body("[[slow]] long running"))
    while ark.get(f"{TASKS}/{slow}").json()["status"] == "queued":
        time.sleep(0.05)
    assert ark.delete(f"{TASKS}/{slow}").status_code == 409

    done, _ = wait(ark, create(ark, body("delete my record")))
    assert ark.delete(f"{TASKS}/{done['id']}").json() == {}
    gone = ark.get(f"{TASKS}/{done['id']}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"
    assert httpx.get(done["content"]["video_url"]).status_code == 404


# ----------------------------------------------------------------------------- errors


def test_auth_is_required(emu: Emulator) -> None:
    url = emu.base_url + "/api/v3" + TASKS
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Basic abc"}):
        r = httpx.post(url, json=body(), headers=headers)
        assert r.status_code == 401
        err = r.json()["error"]
        assert err["code"] == "AuthenticationError" and err["type"] == "Unauthorized"
    assert httpx.get(url + "/cgt-x").status_code == 401


def test_configured_key_must_match(tmp_path: Path) -> None:
    with Emulator(tmp_path, api_key=KEY) as e:
        url = e.base_url + "/api/v3" + TASKS
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert httpx.get(url, headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
        stats = httpx.get(e.base_url + "/emulator/stats").text
        assert KEY not in stats and KEY not in json.dumps(e.stats())
        db = (tmp_path / "emulator.sqlite3").read_bytes()
        assert KEY.encode() not in db


RED = png_data_url((200, 0, 0))


@pytest.mark.parametrize(
    ("payload", "status", "code", "param"),
    [
        (body(duration=20), 400, "InvalidParameter", "duration"),
        (body(model=M20_FAST, resolution="1080p"), 400, "InvalidParameter", "resolution"),
        (body(ratio="2:1"), 400, "InvalidParameter", "ratio"),
        (body(model=M20, service_tier="flex"), 400, "InvalidParameter", "service_tier"),
        (body(model=M20, camera_fixed=True), 400, "InvalidParameter", "camera_fixed"),
        (body(generate_audio=True), 400, "InvalidParameter", "generate_audio"),
        (
            body(model=M20, content=[text("x"), image(RED, "first_frame"), image(RED)]),
            400,
            "InvalidParameter",
            "content.role",
        ),
        (
            body(
                model=M20,
                content=[
                    text("x"),
                    {
                        "type": "audio_url",
                        "audio_url": {"url": "https://a/b.mp3"},
                        "role": "reference_audio",
                    },
                ],
            ),
            400,
            "InvalidParameter",
            "content",
        ),
        (
            body(model=M20, content=[text("x")] + [image(RED)] * 10),
            400,
            "InvalidParameter",
            "content",
        ),
        (
            body(
                model=M20,
                content=[
                    text("x"),
                    {
                        "type": "video_url",
                        "video_url": {"url": "https://a/v.mp4"},
                        "role": "reference_video",
                    },
                ],
            )
            | {"model": M10},
            400,
            "InvalidParameter",
            "content",
        ),
        (body(content=[text("   ")]), 400, "InvalidParameter", "content.text"),
        (body(content=None), 400, "MissingParameter", "content"),
        (body(model=None), 400, "MissingParameter", "model"),
        (
            body(content=[text("x"), image(RED, "last_frame")]),
            400,
            "InvalidParameter",
            "content.role",
        ),
        (
            body(content=[text("x"), image(png_data_url((1, 2, 3), (100, 100)), "first_frame")]),
            400,
            "InvalidParameter",
            "content[1].image_url",
        ),
        (body(model="doubao-seedance-2-0-260128"), 404, "InvalidEndpointOrModel.NotFound", "model"),
        (body(model="no-such-model"), 404, "InvalidEndpointOrModel.NotFound", "model"),
        (
            body(prompt="bad words [[input-moderation]]"),
            400,
            "InputTextSensitiveContentDetected",
            "",
        ),
    ],
)
def test_create_validation(
    ark: httpx.Client, payload: dict[str, Any], status: int, code: str, param: str
) -> None:
    r = ark.post(TASKS, json=payload)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and err["param"] == param
    assert set(err) == {"code", "message", "param", "type"}
    if param:
        assert param in err["message"]


def test_malformed_json_and_unknown_task(ark: httpx.Client) -> None:
    r = ark.post(TASKS, content=b"{not json", headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidParameter"
    r = ark.get(f"{TASKS}/cgt-does-not-exist")
    assert r.status_code == 404 and r.json()["error"]["type"] == "NotFound"


def test_endpoint_ids_and_volcengine_mount(emu: Emulator, ark: httpx.Client) -> None:
    ep = create(ark, body(model="ep-20260101-abc", duration=-1))
    task = ark.get(f"{TASKS}/{ep}").json()
    assert task["model"] == "ep-20260101-abc" and task["duration"] == 5
    with httpx.Client(
        base_url=emu.base_url + "/volcengine/api/v3", headers={"Authorization": "Bearer v"}
    ) as volc:
        tid = create(volc, body(model="doubao-seedance-1-0-pro-250528"))
        assert volc.get(f"{TASKS}/{tid}").json()["model"] == "doubao-seedance-1-0-pro-250528"
        refused = volc.post(TASKS, json=body(model=M20))
        assert refused.status_code == 404 and "BytePlus" in refused.json()["error"]["message"]
        assert ark.get(f"{TASKS}/{tid}").status_code == 404  # regions do not share tasks


def test_rate_limit_retry_after(tmp_path: Path) -> None:
    with (
        Emulator(tmp_path, rate_limit_rpm=2) as e,
        httpx.Client(base_url=e.base_url + "/api/v3", headers={"Authorization": "Bearer k"}) as c,
    ):
        assert c.post(TASKS, json=body()).status_code == 200
        assert c.post(TASKS, json=body()).status_code == 200
        r = c.post(TASKS, json=body())
        assert r.status_code == 429
        assert r.json()["error"]["code"] == "RateLimitExceeded.EndpointRPMExceeded"
        assert 1 <= int(r.headers["Retry-After"]) <= 60


def test_moderation_and_expiry_triggers(ark: httpx.Client) -> None:
    failed, seen = wait(ark, create(ark, body("a scene [[moderation]]")))
    assert failed["status"] == "failed" and "running" in seen
    assert failed["error"]["code"] == "OutputVideoSensitiveContentDetected"
    assert "content" not in failed and "usage" not in failed
    expired, seen = wait(ark, create(ark, body("a scene [[expire]]")))
    assert expired["status"] == "expired" and seen[0] == "queued"


# ----------------------------------------------------------------------------- files


def test_signed_urls_expire_and_refresh(tmp_path: Path) -> None:
    with (
        Emulator(tmp_path, queued_seconds=0.05, running_seconds=0.05, url_ttl_seconds=2) as e,
        httpx.Client(base_url=e.base_url + "/api/v3", headers={"Authorization": "Bearer k"}) as c,
    ):
        task, _ = wait(c, create(c, body("short lived url")))
        url = task["content"]["video_url"]
        assert httpx.head(url).status_code == 200
        tampered = url.replace("signature=", "signature=0")
        assert httpx.get(tampered).status_code == 403
        time.sleep(3.1)
        r = httpx.get(url)
        assert r.status_code == 403 and "expired" in r.json()["error"]["message"]
        fresh = c.get(f"{TASKS}/{task['id']}").json()["content"]["video_url"]
        assert fresh != url and httpx.get(fresh).status_code == 200


def test_range_and_head(ark: httpx.Client) -> None:
    task, _ = wait(ark, create(ark, body("range requests")))
    url = task["content"]["video_url"]
    full = httpx.get(url)
    size = len(full.content)
    assert full.headers["Accept-Ranges"] == "bytes" and int(full.headers["Content-Length"]) == size
    head = httpx.head(url)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == size
    assert head.headers["Content-Type"] == "video/mp4" and head.content == b""
    part = httpx.get(url, headers={"Range": "bytes=100-199"})
    assert part.status_code == 206 and part.content == full.content[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    tail = httpx.get(url, headers={"Range": "bytes=-50"})
    assert tail.status_code == 206 and tail.content == full.content[-50:]
    assert httpx.get(url, headers={"Range": f"bytes={size + 10}-"}).status_code == 416


# ----------------------------------------------------------------------------- persistence & API


def test_restart_keeps_tasks_and_finishes_renders(tmp_path: Path) -> None:
    first = Emulator(tmp_path, queued_seconds=0.1, running_seconds=0.2).start()
    with httpx.Client(
        base_url=first.base_url + "/api/v3", headers={"Authorization": "Bearer k"}
    ) as c:
        tid = create(c, body("survives a restart"))
    first.stop()
    with (
        Emulator(tmp_path, queued_seconds=0.1, running_seconds=0.2) as second,
        httpx.Client(
            base_url=second.base_url + "/api/v3", headers={"Authorization": "Bearer k"}
        ) as c,
    ):
        task, _ = wait(c, tid)
        assert task["status"] == "succeeded"
        assert httpx.get(task["content"]["video_url"]).status_code == 200


def test_health_stats_and_ensure_running(
    emu: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    health = httpx.get(emu.base_url + "/emulator/health").json()
    assert health["status"] == "ok" and "/api/v3" in health["mounts"]
    assert "[[moderation]]" in health["triggers"]
    stats = emu.stats()
    assert stats["creates"]["ark"] >= 1
    assert stats["requests"]["POST /api/v3/contents/generations/tasks"] >= 1
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", "http://127.0.0.1:9/")
    assert ensure_running(tmp_path) == "http://127.0.0.1:9"
    monkeypatch.delenv("SEEDANCE_EMULATOR_URL")
    url = ensure_running(tmp_path / "single")
    assert url == ensure_running(tmp_path / "other")
    assert httpx.get(url + "/emulator/health").status_code == 200


def test_speed_env_scales_lifecycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEEDANCE_EMULATOR_SPEED", "0.1")
    with Emulator(tmp_path, queued_seconds=10, running_seconds=10) as e:
        assert e.service.config.queued_seconds == pytest.approx(1.0)
        assert e.service.config.running_seconds == pytest.approx(1.0)


def test_a_burst_of_connections_is_answered_not_dropped(emu: Emulator) -> None:
    # a notebook that submits a sweep at once opens that many connections together; with
    # socketserver's default backlog of 5 the overflow went unanswered (a create lost so
    # could never be told apart from one whose answer was lost)
    async def one() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", emu.port)
        try:
            writer.write(b"GET /emulator/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return await asyncio.wait_for(reader.read(), 5)
        finally:
            writer.close()

    async def burst() -> list[bytes | BaseException]:
        return await asyncio.gather(*(one() for _ in range(120)), return_exceptions=True)

    answers = asyncio.run(burst())
    assert sum(isinstance(a, bytes) and a.startswith(b"HTTP/1.1 200") for a in answers) == 120


def test_running_jitter_spreads_tasks_per_prompt(tmp_path: Path) -> None:
    """Real renders vary; with jitter, tasks of one size stop finishing in lockstep, and a
    prompt keeps its own running time (runs of the same workload stay comparable)."""
    with (
        Emulator(tmp_path, queued_seconds=30, running_seconds=100, running_jitter=0.2) as e,
        httpx.Client(base_url=e.base_url + "/api/v3", headers={"Authorization": "Bearer k"}) as c,
    ):
        ids = [create(c, body(f"a kite over the dunes, take {i}")) for i in range(20)]
        again = create(c, body("a kite over the dunes, take 0"))
        running = [e.service.store.get(i).running_s for i in ids]
        assert all(80 <= r <= 120 for r in running), running
        assert max(running) - min(running) > 20  # spread, not one value
        assert e.service.store.get(again).running_s == running[0]
        assert c.get(f"{TASKS}/{ids[0]}").json()["status"] == "queued"
    with (
        Emulator(tmp_path / "flat", queued_seconds=30, running_seconds=100) as e,
        httpx.Client(base_url=e.base_url + "/api/v3", headers={"Authorization": "Bearer k"}) as c,
    ):
        ids = [create(c, body(f"a kite over the dunes, take {i}")) for i in range(5)]
        assert {e.service.store.get(i).running_s for i in ids} == {100}


def test_cli_prints_url_and_serves(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "seedance_nb.emulator", "--port", "0", "--state-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split()[3]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(url + "/emulator/health", timeout=10).json()["status"] == "ok"
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_callbacks_post_each_status_change(
    ark: httpx.Client, hook: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = hook
    task, _ = wait(ark, create(ark, body("call me back", callback_url=url)))
    deadline = time.time() + 5
    while time.time() < deadline and (not received or received[-1]["status"] != "succeeded"):
        time.sleep(0.05)
    statuses = [r["status"] for r in received]
    assert statuses[-1] == "succeeded" and statuses == sorted(set(statuses), key=statuses.index)
    assert received[-1]["id"] == task["id"] and "video_url" in received[-1]["content"]


def test_client_ark_dialect_parses_emulator_tasks(ark: httpx.Client) -> None:
    """The package's own Ark dialect reads what the emulator writes (two independent sides)."""
    from seedance_nb.providers.ark import ArkDialect

    dialect = ArkDialect(catalog.PROVIDERS["ark"])
    task, _ = wait(ark, create(ark, body("parsed by the client", seed=7)))
    state = dialect.parse_task(task)
    assert state.status == "succeeded" and state.seed == 7 and state.video_url
    assert state.usage is not None and state.usage.total_tokens == task["usage"]["total_tokens"]
    listed = dialect.parse_list(ark.get(TASKS, params={"filter.task_ids": task["id"]}).json())
    assert [s.task_id for s in listed] == [task["id"]]


def test_dialects_and_faults_build_answers_without_loading_the_http_server() -> None:
    """The HTTP types live in ``http_types``: a dialect or the fault plan, imported on its own
    in a fresh interpreter, answers a request without pulling in ``server`` (no cycle)."""
    code = (
        "import sys\n"
        "from seedance_nb.emulator.faults import FaultPlan\n"
        "from seedance_nb.emulator.dialects import ark, cometapi, evolink, orcarouter\n"
        "from seedance_nb.emulator.dialects import seedance2ink\n"
        "effect = FaultPlan.parse('status-garbage*1').effect('status')\n"
        "assert effect.answer is not None and effect.answer.content_type == 'text/html'\n"
        "print('server' if 'seedance_nb.emulator.server' in sys.modules else 'apart')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "apart"


def test_server_still_exports_the_http_types() -> None:
    """Code written against the old layout (``from ...server import Request``) keeps working."""
    from seedance_nb.emulator import http_types, server

    assert server.Request is http_types.Request
    assert server.Response is http_types.Response
    assert server.json_response is http_types.json_response
    assert server.file_response is http_types.file_response
