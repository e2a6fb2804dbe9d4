"""seedance2.ink dialect against seed 001: camelCase body, success flag, cancel."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from seedance_nb import errors
from seedance_nb.catalog import PROVIDERS
from seedance_nb.engine.http import ProviderHTTP, RetryPolicy, Secret, build_httpx_request
from seedance_nb.providers import dialect_for
from seedance_nb.providers.seedance2ink import Seedance2InkDialect
from seedance_nb.providers.task import TaskError, TaskState, Usage
from seedance_nb.request import VideoRequest, build_request

PROVIDER = PROVIDERS["seedance2ink"]
BASE = PROVIDER.base_url
REQ = "req_1234567890"

# --- the seed's own examples (001_676ece968c0358d0.txt) -----------------------------------
SEED_CREATE = {
    "model": "seedance-2.0",
    "prompt": "A young woman blows out birthday candles, warm indoor lighting, shallow depth of field",
    "mediaUrls": ["https://example.com/photo.jpg"],
    "aspectRatio": "16:9",
    "duration": 5,
    "resolution": "720p",
}
SEED_CREATED = {"success": True, "requestId": REQ, "status": "queued", "creditsCharged": 64}
SEED_DONE = {
    "success": True,
    "requestId": REQ,
    "status": "succeeded",
    "model": "seedance-2.0",
    "prompt": "A river flowing through an autumn forest, aerial view, cinematic motion",
    "duration": 5,
    "aspectRatio": "16:9",
    "output": {
        "type": "video",
        "url": "https://pub-your-bucket.r2.dev/open-api-results/req_1234567890.mp4",
    },
    "error": None,
}
SEED_CANCELLED = {"success": True, "requestId": REQ, "status": "cancelled"}


async def no_fetch(url: str) -> bytes:
    raise AssertionError(f"seedance2.ink fetches media itself, yet we fetched {url}")


def dialect() -> Seedance2InkDialect:
    d = dialect_for(PROVIDER)
    assert isinstance(d, Seedance2InkDialect)
    return d


def wire(request: VideoRequest) -> httpx.Request:
    call = asyncio.run(dialect().create_call(request, no_fetch))
    assert call.idempotent is False
    return build_httpx_request(call, BASE, {"Authorization": "Bearer sd2_live_k"})


def body_of(request: VideoRequest) -> dict[str, Any]:
    return json.loads(wire(request).content)


def build(prompt: str, **params: Any) -> VideoRequest:
    request, _ = build_request(PROVIDER, prompt, warn=False, **params)
    return request


# --- create -------------------------------------------------------------------------------
def test_create_body_is_the_seed_example() -> None:
    request = wire(
        build(
            SEED_CREATE["prompt"],
            images=["https://example.com/photo.jpg"],
            ratio="16:9",
            duration=5,
            resolution="720p",
        )
    )
    assert request.method == "POST"
    assert str(request.url) == "https://www.seedance2.ink/api/open/v1/video/generations"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == SEED_CREATE


def test_first_frame_mode_sends_the_same_shape() -> None:
    body = body_of(
        build(SEED_CREATE["prompt"], first_frame="https://example.com/photo.jpg", ratio="16:9")
    )
    assert body == SEED_CREATE


def test_text_to_video_leaves_media_out() -> None:
    body = body_of(
        build(
            "a paper boat on a stream",
            model="seedance-2.0-fast",
            ratio="9:16",
            duration=15,
            resolution="1080p",
        )
    )
    assert body == {
        "model": "seedance-2.0-fast",
        "prompt": "a paper boat on a stream",
        "aspectRatio": "9:16",
        "duration": 15,
        "resolution": "1080p",
    }


def test_media_urls_follow_content_order() -> None:
    first_last = body_of(
        build(
            "dawn to dusk",
            first_frame="https://example.com/dawn.jpg",
            last_frame="https://example.com/dusk.jpg",
        )
    )
    assert first_last["mediaUrls"] == [
        "https://example.com/dawn.jpg",
        "https://example.com/dusk.jpg",
    ]
    mixed = body_of(
        build(
            "[Image 1] dances to [Audio 1] like [Video 1]",
            images=["https://example.com/a.jpg", "https://example.com/b.png"],
            videos=["https://example.com/m.mp4"],
            audios=["https://example.com/s.mp3"],
        )
    )
    assert mixed["mediaUrls"] == [
        "https://example.com/a.jpg",
        "https://example.com/b.png",
        "https://example.com/m.mp4",
        "https://example.com/s.mp3",
    ]


def test_webhook_and_metadata() -> None:
    body = body_of(
        build(
            "a lantern",
            callback_url="https://hooks.example.com/ink",
            options={"metadata": {"user": "u1", "run": 3}},
        )
    )
    assert body["webhookUrl"] == "https://hooks.example.com/ink"
    assert body["metadata"] == {"user": "u1", "run": 3}
    assert "callback_url" not in body


def test_metadata_must_be_an_object() -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        wire(build("a lantern", options={"metadata": "run-3"}))
    assert info.value.field == "options.metadata"


def test_1_5_pro_durations() -> None:
    assert body_of(build("a lantern", model="seedance-1.5-pro", duration=10))["duration"] == 10


# --- local refusals -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"ratio": "4:3"}, "ratio"),
        ({"ratio": "21:9"}, "ratio"),
        ({"ratio": "adaptive"}, "ratio"),
        ({"model": "seedance-1.5-pro", "duration": 7}, "duration"),
        ({"model": "seedance-1.5-pro", "duration": 4}, "duration"),
        ({"duration": 16}, "duration"),
        ({"model": "seedance-1.5-pro", "videos": ["https://example.com/a.mp4"]}, "videos"),
        ({"images": [f"https://example.com/{i}.jpg" for i in range(6)]}, "images"),
        (
            {
                "images": [f"https://example.com/{i}.jpg" for i in range(4)],
                "videos": ["https://example.com/a.mp4", "https://example.com/b.mp4"],
            },
            "media",
        ),
        ({"generate_audio": True}, "generate_audio"),
        ({"seed": 3}, "seed"),
        ({"resolution": "4k"}, "resolution"),
        ({"model": "seedance-1.0-pro"}, "model"),
        ({"first_frame": "data:image/png;base64,iVBORw0KGgo="}, "first_frame"),
        ({"options": {"webhook": "x"}}, "options.webhook"),
    ],
)
def test_refused_before_any_call(params: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        build("a lantern", **params)
    assert info.value.field == field
    assert info.value.provider == "seedance2ink"


def test_local_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "photo.jpg"
    Image.new("RGB", (640, 480), "gray").save(path, format="JPEG")
    with pytest.raises(errors.InvalidRequest, match="public URLs"):
        build("a lantern", images=[path])


# --- reads --------------------------------------------------------------------------------
def test_parse_created_seed_answer() -> None:
    state = dialect().parse_created(SEED_CREATED)
    assert state == TaskState(
        task_id=REQ, status="queued", usage=Usage(credits=64.0), raw=SEED_CREATED
    )


def test_parse_task_seed_success() -> None:
    state = dialect().parse_task(SEED_DONE)
    assert state.task_id == REQ
    assert state.status == "succeeded"
    assert state.video_url == SEED_DONE["output"]["url"]  # type: ignore[index]
    assert state.error is None
    assert state.raw == SEED_DONE


@pytest.mark.parametrize(
    ("wire_status", "status"),
    [
        ("queued", "queued"),
        ("pending", "queued"),
        ("processing", "running"),
        ("running", "running"),
        ("succeeded", "succeeded"),
        ("completed", "succeeded"),
        ("failed", "failed"),
        ("cancelled", "cancelled"),
        ("CANCELED", "cancelled"),
        ("Succeeded", "succeeded"),
    ],
)
def test_status_spellings(wire_status: str, status: str) -> None:
    body = {**SEED_DONE, "status": wire_status, "output": None}
    assert dialect().parse_task(body).status == status


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            "Generation failed: content moderation",
            TaskError("failed", "Generation failed: content moderation"),
        ),
        ({"code": "MODERATION", "message": "blocked"}, TaskError("MODERATION", "blocked")),
        (None, TaskError("failed", "the task failed")),
    ],
)
def test_failed_task_error(error: Any, expected: TaskError) -> None:
    body = {**SEED_DONE, "status": "failed", "output": None, "error": error}
    assert dialect().parse_task(body).error == expected


def test_success_false_is_an_error() -> None:
    with pytest.raises(errors.APIError) as info:
        dialect().parse_task({"success": False, "error": "Invalid API key"})
    assert "Invalid API key" in str(info.value)
    with pytest.raises(errors.NotFoundError):
        dialect().parse_task({"success": False, "error": "Request not found"})
    with pytest.raises(errors.APIError):
        dialect().parse_created(
            {"success": False, "error": {"code": "INSUFFICIENT_CREDITS", "message": "top up"}}
        )


@pytest.mark.parametrize(
    "body",
    [
        {**SEED_DONE, "output": {"type": "video", "url": "file:///etc/passwd"}},
        {**SEED_DONE, "output": {"type": "video", "url": "javascript:alert(1)"}},
        {**SEED_DONE, "output": "https://pub-your-bucket.r2.dev/x.mp4"},
        {**SEED_DONE, "requestId": "req/../../admin"},
        {**SEED_DONE, "requestId": None},
        {**SEED_DONE, "status": "rendering-ish"},
        [SEED_DONE],
        "ok",
    ],
)
def test_undocumented_shapes_are_bad_responses(body: Any) -> None:
    with pytest.raises(errors.BadResponseError):
        dialect().parse_task(body)


# --- cancel -------------------------------------------------------------------------------
def test_cancel_call_and_seed_answer() -> None:
    d = dialect()
    call = d.cancel_call(REQ)
    assert call is not None
    assert (call.method, call.path) == ("POST", f"/video/generations/{REQ}/cancel")
    req = build_httpx_request(call, BASE)
    assert str(req.url) == f"https://www.seedance2.ink/api/open/v1/video/generations/{REQ}/cancel"
    assert d.parse_cancel(REQ, SEED_CANCELLED) == TaskState(
        task_id=REQ, status="cancelled", raw=SEED_CANCELLED
    )
    assert PROVIDER.can_cancel is True


def test_cancel_answers_that_do_not_fit() -> None:
    d = dialect()
    assert d.parse_cancel(REQ, {"success": True, "requestId": REQ}) is None  # read it again
    with pytest.raises(errors.BadResponseError):
        d.parse_cancel(REQ, {**SEED_CANCELLED, "requestId": "req_other"})
    with pytest.raises(errors.APIError):
        d.parse_cancel(REQ, {"success": False, "error": "Task already completed"})


def test_ids_are_quoted_in_paths() -> None:
    d = dialect()
    assert d.get_call("req:1").path == "/video/generations/req%3A1"
    cancel = d.cancel_call("req:1")
    assert cancel is not None and cancel.path == "/video/generations/req%3A1/cancel"


# --- round trip through the real transport ------------------------------------------------
def test_round_trip_through_provider_http() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path == "/api/open/v1/video/generations" and request.method == "POST":
            return httpx.Response(200, json=SEED_CREATED)
        if path == f"/api/open/v1/video/generations/{REQ}" and request.method == "GET":
            return httpx.Response(200, json={**SEED_DONE, "status": "processing", "output": None})
        if path == f"/api/open/v1/video/generations/{REQ}/cancel":
            return httpx.Response(200, json=SEED_CANCELLED)
        return httpx.Response(404, json={"success": False, "error": "Request not found"})

    async def scenario() -> None:
        d = dialect()
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        http = ProviderHTTP(
            d,
            BASE,
            Secret("sd2_live_k"),
            client=client,
            retry=RetryPolicy(attempts=2, base_delay=0.001),
        )
        request = build(
            SEED_CREATE["prompt"], images=["https://example.com/photo.jpg"], ratio="16:9"
        )
        created = d.parse_created(await http.call(await d.create_call(request, no_fetch)))
        assert created.task_id == REQ and created.usage == Usage(credits=64.0)
        running = d.parse_task(await http.call(d.get_call(REQ)))
        assert running.status == "running"
        cancel = d.cancel_call(REQ)
        assert cancel is not None
        after = d.parse_cancel(REQ, await http.call(cancel))
        assert after is not None and after.status == "cancelled"
        with pytest.raises(errors.NotFoundError):
            await http.call(d.get_call("req_missing"))
        await client.aclose()

    asyncio.run(scenario())
    assert [r.method for r in seen] == ["POST", "GET", "POST", "GET"]
    assert all(r.headers["authorization"] == "Bearer sd2_live_k" for r in seen)
    assert json.loads(seen[0].content) == SEED_CREATE
