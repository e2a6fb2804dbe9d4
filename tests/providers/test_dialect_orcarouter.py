"""OrcaRouter dialect against seed 000: the documented bodies, envelopes and statuses."""

from __future__ import annotations

import asyncio
import base64
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
from seedance_nb.providers.orcarouter import OrcaRouterDialect
from seedance_nb.providers.task import TaskError
from seedance_nb.request import VideoRequest, build_request

PROVIDER = PROVIDERS["orcarouter"]
BASE = PROVIDER.base_url
MODEL = "byteplus/dreamina-seedance-2-0-260128"
TASK = "task_9q9oz6tjtgABYWC1QIqoz3sscgVz7ycw"

# --- the seed's own examples (000_ea827bfb10411dde.txt) -----------------------------------
SEED_TEXT = {
    "model": MODEL,
    "prompt": "Photorealistic style: under a clear blue sky, a vast expanse of white daisy fields stretches out. The camera gradually zooms in on a single daisy with glistening dewdrops on its petals.",
    "metadata": {"ratio": "16:9", "duration": 5, "watermark": True},
}
SEED_FIRST_FRAME = {
    "model": MODEL,
    "prompt": "the cat starts dancing energetically",
    "metadata": {
        "content": [
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/cat.png"},
                "role": "first_frame",
            }
        ],
        "ratio": "adaptive",
        "duration": 5,
        "generate_audio": True,
    },
}
SEED_FIRST_LAST = {
    "model": MODEL,
    "prompt": "Create a 360-degree orbiting camera shot from start to end frame.",
    "metadata": {
        "content": [
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/start.jpg"},
                "role": "first_frame",
            },
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/end.jpg"},
                "role": "end_frame",
            },
        ],
        "ratio": "16:9",
        "duration": 6,
    },
}
SEED_REFERENCE = {
    "model": MODEL,
    "prompt": "Use the first-person POV framing from [Video 1] throughout, and use [Audio 1] as the background music. First-person POV fruit tea promotional ad: [Image 1] hands pick a dew-covered apple; [Image 2] holds the finished drink up to the camera.",
    "metadata": {
        "content": [
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/tea_pic1.jpg"},
                "role": "reference_image",
            },
            {
                "type": "image_url",
                "image_url": {"url": "https://example.com/tea_pic2.jpg"},
                "role": "reference_image",
            },
            {
                "type": "video_url",
                "video_url": {"url": "https://example.com/tea_video1.mp4"},
                "role": "reference_video",
            },
            {
                "type": "audio_url",
                "audio_url": {"url": "https://example.com/tea_audio1.mp3"},
                "role": "reference_audio",
            },
        ],
        "ratio": "16:9",
        "duration": 11,
        "generate_audio": True,
        "watermark": False,
    },
}
SEED_VIDEO_EDIT = {
    "model": MODEL,
    "prompt": "Change all the fruits in [Video 1] into fresh fruits.",
    "metadata": {
        "content": [
            {
                "type": "video_url",
                "video_url": {"url": "https://example.com/source.mp4"},
                "role": "reference_video",
            }
        ],
        "ratio": "adaptive",
        "duration": 6,
    },
}
SEED_CREATED = {
    "id": TASK,
    "task_id": TASK,
    "object": "video",
    "model": MODEL,
    "status": "queued",
    "progress": 0,
    "created_at": 1777975188,
}
SEED_SUCCESS = {
    "code": "success",
    "message": "",
    "data": {
        "task_id": TASK,
        "status": "SUCCESS",
        "progress": "100%",
        "result_url": "https://ark-content-generation-ap-southeast-1.tos-ap-southeast-1.volces.com/.../video.mp4",
        "submit_time": 1777975188,
        "start_time": 1777975241,
        "finish_time": 1777975277,
        "fail_reason": "",
    },
}


def envelope(**data: Any) -> dict[str, Any]:
    body = json.loads(json.dumps(SEED_SUCCESS))
    body["data"].update(data)
    return body


async def no_fetch(url: str) -> bytes:
    raise AssertionError(f"OrcaRouter never downloads media, yet fetched {url}")


def dialect() -> OrcaRouterDialect:
    d = dialect_for(PROVIDER)
    assert isinstance(d, OrcaRouterDialect)
    return d


def wire(request: VideoRequest) -> httpx.Request:
    call = asyncio.run(dialect().create_call(request, no_fetch))
    assert call.idempotent is False  # a create is never retried blindly
    return build_httpx_request(call, BASE, {"Authorization": "Bearer k"})


def build(prompt: str, **params: Any) -> VideoRequest:
    request, _ = build_request(PROVIDER, prompt, warn=False, **params)
    return request


def with_filled_defaults(seed: dict[str, Any]) -> dict[str, Any]:
    """The seed body plus what a validated request always states: 720p and silent by default."""
    body = json.loads(json.dumps(seed))
    body["metadata"].setdefault("resolution", "720p")
    body["metadata"].setdefault("generate_audio", False)  # OrcaRouter's documented default
    return body


# --- create -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seed", "params"),
    [
        (SEED_TEXT, {"ratio": "16:9", "duration": 5, "watermark": True}),
        (
            SEED_FIRST_FRAME,
            {
                "first_frame": "https://example.com/cat.png",
                "ratio": "adaptive",
                "duration": 5,
                "generate_audio": True,
            },
        ),
        (
            SEED_FIRST_LAST,
            {
                "first_frame": "https://example.com/start.jpg",
                "last_frame": "https://example.com/end.jpg",
                "ratio": "16:9",
                "duration": 6,
            },
        ),
        (
            SEED_REFERENCE,
            {
                "images": ["https://example.com/tea_pic1.jpg", "https://example.com/tea_pic2.jpg"],
                "videos": ["https://example.com/tea_video1.mp4"],
                "audios": ["https://example.com/tea_audio1.mp3"],
                "ratio": "16:9",
                "duration": 11,
                "generate_audio": True,
                "watermark": False,
            },
        ),
        (
            SEED_VIDEO_EDIT,
            {"videos": ["https://example.com/source.mp4"], "ratio": "adaptive", "duration": 6},
        ),
    ],
    ids=["text", "first_frame", "first_last", "reference", "video_edit"],
)
def test_create_body_is_the_seed_example(seed: dict[str, Any], params: dict[str, Any]) -> None:
    request = wire(build(seed["prompt"], **params))
    assert request.method == "POST"
    assert str(request.url) == "https://api.orcarouter.ai/v1/video/generations"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.content)
    assert body == with_filled_defaults(seed)
    # the gateway wraps the prompt itself: never a text item in content[]
    assert all(item["type"] != "text" for item in body["metadata"].get("content", []))


def test_every_optional_field_goes_under_metadata() -> None:
    request = build(
        "a lighthouse at dusk",
        ratio="9:16",
        resolution="1080p",
        duration=15,
        generate_audio=True,
        watermark=False,
        seed=42,
        service_tier="default",
        return_last_frame=True,
        callback_url="https://your.domain/webhook",
    )
    body = json.loads(wire(request).content)
    assert set(body) == {"model", "prompt", "metadata"}
    assert body["metadata"] == {
        "ratio": "9:16",
        "resolution": "1080p",
        "duration": 15,
        "generate_audio": True,
        "watermark": False,
        "seed": 42,
        "service_tier": "default",
        "return_last_frame": True,
        "callback_url": "https://your.domain/webhook",
    }


def test_local_first_frame_travels_as_a_data_url(tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), (200, 30, 30)).save(path)
    body = json.loads(wire(build("a red frame comes alive", first_frame=path)).content)
    (item,) = body["metadata"]["content"]
    assert item["role"] == "first_frame"
    head, payload = item["image_url"]["url"].split(",", 1)
    assert head == "data:image/png;base64"
    assert base64.b64decode(payload) == path.read_bytes()


# --- local refusals -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"model": "seedance-1.0-pro"}, "model"),  # listed as planned, not provisioned
        ({"model": "byteplus/seedance-1-5-pro-251215"}, "model"),
        ({"model": "seedance-2.0-mini"}, "model"),  # EvoLink only
        ({"camera_fixed": True}, "camera_fixed"),  # not a 2.0 parameter
        ({"resolution": "4k"}, "resolution"),
        ({"duration": 3}, "duration"),
        ({"duration": 16}, "duration"),
        ({"options": {"priority": 1}}, "options.priority"),
    ],
)
def test_refused_before_any_call(params: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        build("a quiet harbour", **params)
    assert info.value.field == field
    assert info.value.provider == "orcarouter"


# --- reads --------------------------------------------------------------------------------
def test_parse_created_seed_answer() -> None:
    state = dialect().parse_created(SEED_CREATED)
    assert state.task_id == TASK
    assert state.status == "queued"
    assert state.progress == 0.0
    assert state.created_at == 1777975188
    assert state.raw == SEED_CREATED


def test_parse_task_seed_success() -> None:
    state = dialect().parse_task(SEED_SUCCESS)
    assert state.task_id == TASK
    assert state.status == "succeeded"
    assert state.terminal
    assert state.progress == 1.0
    assert state.video_url == SEED_SUCCESS["data"]["result_url"]
    assert state.error is None
    assert state.created_at == 1777975188
    assert state.updated_at == 1777975277
    assert state.raw == SEED_SUCCESS  # the whole envelope is kept


@pytest.mark.parametrize(
    ("wire_status", "progress", "status", "fraction"),
    [
        ("NOT_START", "0%", "queued", 0.0),
        ("SUBMITTED", "0%", "queued", 0.0),
        ("IN_PROGRESS", "50%", "running", 0.5),
        ("IN_PROGRESS", "7%", "running", 0.07),
        ("SUCCESS", "100%", "succeeded", 1.0),
    ],
)
def test_status_table(wire_status: str, progress: str, status: str, fraction: float) -> None:
    body = envelope(status=wire_status, progress=progress, result_url="")
    state = dialect().parse_task(body)
    assert state.status == status
    assert state.progress == pytest.approx(fraction)
    assert state.video_url is None


def test_failure_carries_fail_reason() -> None:
    reason = "OutputVideoSensitiveContentDetected: the output may contain sensitive content"
    state = dialect().parse_task(envelope(status="FAILURE", result_url="", fail_reason=reason))
    assert state.status == "failed"
    assert state.error == TaskError("FAILURE", reason)


def test_failure_without_reason_still_says_failed() -> None:
    state = dialect().parse_task(envelope(status="FAILURE", result_url="", fail_reason=""))
    assert state.error is not None and state.error.message


def test_non_success_code_is_an_error() -> None:
    body = {"code": "fail_to_fetch_task", "message": "upstream timeout", "data": None}
    with pytest.raises(errors.APIError) as info:
        dialect().parse_task(body)
    assert info.value.code == "fail_to_fetch_task"
    assert "upstream timeout" in str(info.value)


def test_task_not_exist_code_is_not_found() -> None:
    body = {"code": "task_not_exist", "message": "task_not_exist", "data": None}
    with pytest.raises(errors.NotFoundError):
        dialect().parse_task(body)


@pytest.mark.parametrize(
    "body",
    [
        SEED_SUCCESS["data"],  # the task without its envelope
        {"code": "success", "message": "", "data": None},
        {"code": "success", "data": {"task_id": TASK, "status": "DANCING"}},
        {"code": "success", "data": {"task_id": "../../etc/passwd", "status": "SUCCESS"}},
        {
            "code": "success",
            "data": {"task_id": TASK, "status": "SUCCESS", "result_url": "file:///etc/passwd"},
        },
        {
            "code": "success",
            "data": {"task_id": TASK, "status": "SUCCESS", "result_url": "javascript:alert(1)"},
        },
        ["not", "an", "object"],
        "success",
    ],
)
def test_undocumented_shapes_are_bad_responses(body: Any) -> None:
    with pytest.raises(errors.BadResponseError):
        dialect().parse_task(body)


def test_created_id_must_be_a_plain_identifier() -> None:
    with pytest.raises(errors.BadResponseError):
        dialect().parse_created({**SEED_CREATED, "id": "a/b", "task_id": "a/b"})


def test_get_call_quotes_the_id() -> None:
    call = dialect().get_call("task:1")
    assert (call.method, call.path) == ("GET", "/v1/video/generations/task%3A1")
    assert dialect().cancel_call(TASK) is None  # no cancel endpoint documented
    assert PROVIDER.can_cancel is False


def test_http_error_bodies_map_to_typed_errors() -> None:
    d = dialect()
    not_found = d.parse_error(400, {"code": "task_not_exist", "message": "task_not_exist"}, {})
    assert isinstance(not_found, errors.NotFoundError)
    auth = d.parse_error(401, {"error": {"message": "bad key", "type": "auth"}}, {})
    assert isinstance(auth, errors.AuthenticationError)
    limited = d.parse_error(
        429, {"error": {"code": "rate_limited", "message": "slow"}}, {"retry-after": "3"}
    )
    assert isinstance(limited, errors.RateLimitError) and limited.retry_after == 3.0


# --- round trip through the real transport ------------------------------------------------
def test_round_trip_through_provider_http() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST" and request.url.path == "/v1/video/generations":
            return httpx.Response(200, json=SEED_CREATED)
        if request.url.path == f"/v1/video/generations/{TASK}":
            return httpx.Response(200, json=SEED_SUCCESS)
        return httpx.Response(400, json={"code": "task_not_exist", "message": "task_not_exist"})

    async def scenario() -> None:
        d = dialect()
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        http = ProviderHTTP(
            d, BASE, Secret("k"), client=client, retry=RetryPolicy(attempts=2, base_delay=0.001)
        )
        request = build(
            SEED_FIRST_FRAME["prompt"],
            first_frame="https://example.com/cat.png",
            ratio="adaptive",
            duration=5,
            generate_audio=True,
        )
        created = d.parse_created(await http.call(await d.create_call(request, no_fetch)))
        assert created.task_id == TASK and created.status == "queued"
        done = d.parse_task(await http.call(d.get_call(created.task_id)))
        assert done.status == "succeeded" and done.video_url
        with pytest.raises(errors.NotFoundError):
            await http.call(d.get_call("task_missing"))
        await client.aclose()

    asyncio.run(scenario())
    assert [r.method for r in seen] == ["POST", "GET", "GET"]  # a 400 is not retried
    assert all(r.headers["authorization"] == "Bearer k" for r in seen)
    assert json.loads(seen[0].content) == with_filled_defaults(SEED_FIRST_FRAME)


def test_create_answered_with_an_error_envelope_raises_it() -> None:
    body = {"code": "insufficient_user_quota", "message": "quota exhausted", "data": None}
    with pytest.raises(errors.InsufficientQuotaError) as info:
        dialect().parse_created(body)
    assert info.value.code == "insufficient_user_quota"
    # an enveloped success is unwrapped rather than refused
    assert dialect().parse_created(SEED_SUCCESS).task_id == TASK
