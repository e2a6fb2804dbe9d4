"""EvoLink dialect against seed 004: nine mode-named models, URL lists, credits, error codes."""

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
from seedance_nb.providers.evolink import EvoLinkDialect
from seedance_nb.providers.task import TaskError, Usage
from seedance_nb.request import VideoRequest, build_request

PROVIDER = PROVIDERS["evolink"]
BASE = PROVIDER.base_url
TASK = "task-unified-1774857405-abc123"

# --- the seed's own examples (004_50fa4a6032157714.txt, OpenAPI requestBody examples) ------
SEED_TEXT = {
    "model": "seedance-2.0-text-to-video",
    "prompt": "A cat playing the Moonlight Sonata on a piano, cinematic lighting, close-up shot",
    "duration": 8,
    "quality": "720p",
    "aspect_ratio": "16:9",
    "generate_audio": True,
    "content_filter": True,
}
SEED_IMAGE = {
    "model": "seedance-2.0-image-to-video",
    "prompt": "The camera slowly pushes in, petals drifting in the wind",
    "image_urls": ["https://example.com/flower.jpg"],
    "duration": 5,
    "aspect_ratio": "adaptive",
    "generate_audio": True,
    "content_filter": True,
}
SEED_REFERENCE = {
    "model": "seedance-2.0-reference-to-video",
    "prompt": "Use the first-person perspective framing of video 1 throughout, use audio 1 as background music throughout. First-person perspective fruit tea promotional video...",
    "image_urls": ["https://example.com/ref1.jpg", "https://example.com/ref2.jpg"],
    "video_urls": ["https://example.com/reference.mp4"],
    "audio_urls": ["https://example.com/bgm.mp3"],
    "duration": 10,
    "quality": "720p",
    "aspect_ratio": "16:9",
    "generate_audio": True,
    "content_filter": True,
}
SEED_FAST_TEXT = {
    "model": "seedance-2.0-fast-text-to-video",
    "prompt": "Time-lapse photography of a city sunset, golden light spilling across the skyline",
    "duration": 5,
    "aspect_ratio": "21:9",
    "generate_audio": True,
    "content_filter": True,
}
# VideoGenerationResponse, assembled from the schema's own example values.
SEED_CREATED = {
    "created": 1761313744,
    "id": TASK,
    "model": "seedance-2.0-text-to-video",
    "object": "video.generation.task",
    "progress": 0,
    "status": "pending",
    "task_info": {"can_cancel": True, "estimated_time": 165, "video_duration": 8},
    "type": "video",
    "usage": {"billing_rule": "per_second", "credits_reserved": 50, "user_group": "default"},
}
TASK_DONE = {
    "id": TASK,
    "model": "seedance-2.0-text-to-video",
    "object": "video.generation.task",
    "status": "completed",
    "progress": 100,
    "results": ["https://files.evolink.ai/results/task-unified-1774857405-abc123.mp4"],
    "created": 1761313744,
    "task_info": {"can_cancel": False, "estimated_time": 0, "video_duration": 8},
    "type": "video",
}
# The documented error examples: status → (body, expected class).
SEED_ERRORS: dict[int, tuple[dict[str, Any], type[errors.APIError]]] = {
    400: (
        {
            "error": {
                "code": "invalid_request",
                "message": "Invalid request parameters",
                "type": "invalid_request_error",
            }
        },
        errors.APIError,
    ),
    401: (
        {
            "error": {
                "code": "unauthorized",
                "message": "Invalid or expired token",
                "type": "authentication_error",
            }
        },
        errors.AuthenticationError,
    ),
    402: (
        {
            "error": {
                "code": "insufficient_quota",
                "message": "Insufficient quota. Please top up your account.",
                "type": "insufficient_quota",
            }
        },
        errors.InsufficientQuotaError,
    ),
    403: (
        {
            "error": {
                "code": "model_access_denied",
                "message": "Token does not have access to the specified model",
                "type": "invalid_request_error",
            }
        },
        errors.PermissionDeniedError,
    ),
    429: (
        {
            "error": {
                "code": "rate_limit_exceeded",
                "message": "Too many requests, please try again later",
                "type": "rate_limit_error",
            }
        },
        errors.RateLimitError,
    ),
    500: (
        {
            "error": {
                "code": "internal_error",
                "message": "Internal server error",
                "type": "api_error",
            }
        },
        errors.ServerError,
    ),
}


async def no_fetch(url: str) -> bytes:
    raise AssertionError(f"EvoLink fetches media itself, yet we fetched {url}")


def dialect() -> EvoLinkDialect:
    d = dialect_for(PROVIDER)
    assert isinstance(d, EvoLinkDialect)
    return d


def wire(request: VideoRequest) -> httpx.Request:
    call = asyncio.run(dialect().create_call(request, no_fetch))
    assert call.idempotent is False
    return build_httpx_request(call, BASE, {"Authorization": "Bearer k"})


def body_of(request: VideoRequest) -> dict[str, Any]:
    return json.loads(wire(request).content)


def build(prompt: str, **params: Any) -> VideoRequest:
    request, _ = build_request(PROVIDER, prompt, warn=False, **params)
    return request


# --- create -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("seed", "params"),
    [
        (
            SEED_TEXT,
            {
                "duration": 8,
                "resolution": "720p",
                "ratio": "16:9",
                "generate_audio": True,
                "options": {"content_filter": True},
            },
        ),
        (
            SEED_IMAGE,
            {
                "first_frame": "https://example.com/flower.jpg",
                "duration": 5,
                "ratio": "adaptive",
                "generate_audio": True,
                "options": {"content_filter": True},
            },
        ),
        (
            SEED_REFERENCE,
            {
                "images": ["https://example.com/ref1.jpg", "https://example.com/ref2.jpg"],
                "videos": ["https://example.com/reference.mp4"],
                "audios": ["https://example.com/bgm.mp3"],
                "duration": 10,
                "resolution": "720p",
                "ratio": "16:9",
                "generate_audio": True,
                "options": {"content_filter": True},
            },
        ),
        (
            SEED_FAST_TEXT,
            {
                "model": "seedance-2.0-fast",
                "duration": 5,
                "ratio": "21:9",
                "generate_audio": True,
                "options": {"content_filter": True},
            },
        ),
    ],
    ids=["text", "image", "reference", "fast-text"],
)
def test_create_body_is_the_seed_example(seed: dict[str, Any], params: dict[str, Any]) -> None:
    request = wire(build(seed["prompt"], **params))
    assert request.method == "POST"
    assert str(request.url) == "https://api.evolink.ai/v1/videos/generations"
    assert request.headers["content-type"] == "application/json"
    expected = {**seed, "quality": seed.get("quality", "720p")}  # we always state the quality
    assert json.loads(request.content) == expected


@pytest.mark.parametrize("tier", ["seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini"])
@pytest.mark.parametrize(
    ("media", "word"),
    [
        ({}, "text"),
        ({"first_frame": "https://example.com/a.jpg"}, "image"),
        (
            {"first_frame": "https://example.com/a.jpg", "last_frame": "https://example.com/b.jpg"},
            "image",
        ),
        ({"images": ["https://example.com/a.jpg"]}, "reference"),
        ({"videos": ["https://example.com/a.mp4"]}, "reference"),
    ],
)
def test_wire_model_names_tier_and_mode(tier: str, media: dict[str, Any], word: str) -> None:
    assert body_of(build("a kite", model=tier, **media))["model"] == f"{tier}-{word}-to-video"


def test_first_and_last_frame_are_image_urls_in_order() -> None:
    body = body_of(
        build(
            "day turns to night",
            first_frame="https://example.com/day.jpg",
            last_frame="https://example.com/night.jpg",
        )
    )
    assert body["image_urls"] == ["https://example.com/day.jpg", "https://example.com/night.jpg"]
    assert "video_urls" not in body and "audio_urls" not in body


def test_generate_audio_is_always_sent() -> None:
    # EvoLink defaults to true: leaving the field out would mean sound, so we always say.
    assert body_of(build("a silent film"))["generate_audio"] is True
    assert body_of(build("a silent film", generate_audio=False))["generate_audio"] is False


def test_callback_and_web_search() -> None:
    body = body_of(
        build(
            "today's weather in Seoul",
            callback_url="https://hooks.example.com/v",
            options={"web_search": True},
        )
    )
    assert body["callback_url"] == "https://hooks.example.com/v"
    assert body["model_params"] == {"web_search": True}
    fast = body_of(build("news", model="seedance-2.0-fast", options={"web_search": False}))
    assert fast["model_params"] == {"web_search": False}
    assert "content_filter" not in fast  # not given: EvoLink's own default applies


@pytest.mark.parametrize(
    "params",
    [
        {"first_frame": "https://example.com/a.jpg", "options": {"web_search": True}},
        {"images": ["https://example.com/a.jpg"], "options": {"web_search": True}},
        {"model": "seedance-2.0-mini", "options": {"web_search": True}},  # standard/fast only
        {"options": {"web_search": "yes"}},
        {"options": {"content_filter": 0}},
    ],
)
def test_web_search_and_flags_refused_where_they_do_not_apply(params: dict[str, Any]) -> None:
    request = build("a kite over a field", **params)  # the catalog lets the option through
    with pytest.raises(errors.InvalidRequest) as info:
        wire(request)
    assert info.value.field in ("options.web_search", "options.content_filter")
    assert info.value.provider == "evolink"


def test_web_search_false_outside_text_mode_is_simply_left_out() -> None:
    body = body_of(
        build("a kite", first_frame="https://example.com/a.jpg", options={"web_search": False})
    )
    assert "model_params" not in body


# --- local refusals -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"callback_url": "http://hooks.example.com/v"}, "callback_url"),
        ({"callback_url": "https://10.0.0.5/hook"}, "callback_url"),
        ({"callback_url": "https://192.168.1.20/hook"}, "callback_url"),
        ({"callback_url": "https://172.16.0.1/hook"}, "callback_url"),
        ({"callback_url": "https://127.0.0.1/hook"}, "callback_url"),
        ({"callback_url": "https://localhost/hook"}, "callback_url"),
        ({"callback_url": "https://example.com/" + "x" * 2100}, "callback_url"),
        ({"model": "seedance-2.0-fast", "resolution": "1080p"}, "resolution"),
        ({"model": "seedance-2.0-mini", "resolution": "1080p"}, "resolution"),
        ({"model": "seedance-1.5-pro"}, "model"),
        ({"duration": 3}, "duration"),
        ({"seed": 1}, "seed"),
        ({"watermark": True}, "watermark"),
        ({"first_frame": "data:image/png;base64,iVBORw0KGgo="}, "first_frame"),
        ({"images": ["asset://asset-123"]}, "reference_image"),
        ({"options": {"metadata": {}}}, "options.metadata"),
    ],
)
def test_refused_before_any_call(params: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        build("a kite", **params)
    assert info.value.field == field


def test_local_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "frame.png"
    Image.new("RGB", (640, 360), "green").save(path)
    with pytest.raises(errors.InvalidRequest, match="public URLs"):
        build("a kite", first_frame=path)


def test_1080p_on_the_standard_tier_is_sent_as_quality() -> None:
    assert body_of(build("a kite", resolution="1080p"))["quality"] == "1080p"


# --- reads --------------------------------------------------------------------------------
def test_parse_created_seed_answer() -> None:
    state = dialect().parse_created(SEED_CREATED)
    assert state.task_id == TASK
    assert state.status == "queued"
    assert state.progress == 0.0
    assert state.usage == Usage(credits=50.0)
    assert state.created_at == 1761313744
    assert state.raw == SEED_CREATED  # task_info (estimated_time, can_cancel) stays available


def test_parse_completed_task() -> None:
    state = dialect().parse_task(TASK_DONE)
    assert state.status == "succeeded"
    assert state.progress == 1.0
    assert state.video_url == TASK_DONE["results"][0]
    assert state.error is None
    assert state.raw == TASK_DONE


@pytest.mark.parametrize(
    ("wire_status", "progress", "status", "fraction"),
    [
        ("pending", 0, "queued", 0.0),
        ("processing", 1, "running", 0.01),
        ("processing", 60, "running", 0.6),
        ("completed", 100, "succeeded", 1.0),
        ("failed", 30, "failed", 0.3),
    ],
)
def test_status_table(wire_status: str, progress: int, status: str, fraction: float) -> None:
    body = {**TASK_DONE, "status": wire_status, "progress": progress, "results": []}
    state = dialect().parse_task(body)
    assert state.status == status
    assert state.progress == pytest.approx(fraction)
    assert state.video_url is None


def test_failed_task_keeps_the_error() -> None:
    body = {
        **TASK_DONE,
        "status": "failed",
        "results": [],
        "error": {"code": "content_policy_violation", "message": "blocked by the filter"},
    }
    assert dialect().parse_task(body).error == TaskError(
        "content_policy_violation", "blocked by the filter"
    )
    bare = dialect().parse_task({**TASK_DONE, "status": "failed", "results": []})
    assert bare.error is not None and bare.error.code == "failed"


@pytest.mark.parametrize(
    "body",
    [
        {**TASK_DONE, "results": ["file:///etc/passwd"]},
        {**TASK_DONE, "results": ["javascript:alert(1)"]},
        {**TASK_DONE, "results": "https://files.evolink.ai/x.mp4"},
        {**TASK_DONE, "results": [42]},
        {**TASK_DONE, "id": "task/../../x"},
        {**TASK_DONE, "status": "finished?"},
        {key: value for key, value in TASK_DONE.items() if key != "id"},
        [TASK_DONE],
    ],
)
def test_undocumented_shapes_are_bad_responses(body: Any) -> None:
    with pytest.raises(errors.BadResponseError):
        dialect().parse_task(body)


def test_error_envelope_in_place_of_a_task_raises_the_error() -> None:
    with pytest.raises(errors.InsufficientQuotaError):
        dialect().parse_task(SEED_ERRORS[402][0])


@pytest.mark.parametrize("status", sorted(SEED_ERRORS))
def test_documented_errors_map_to_classes(status: int) -> None:
    body, cls = SEED_ERRORS[status]
    err = dialect().parse_error(status, body, {})
    assert type(err) is cls
    assert err.code == body["error"]["code"]
    assert err.message == body["error"]["message"]
    assert err.retryable == (status in (429, 500))


def test_error_code_decides_even_when_the_status_does_not() -> None:
    err = dialect().parse_error(400, SEED_ERRORS[403][0], {})
    assert isinstance(err, errors.PermissionDeniedError)


def test_get_call_and_no_cancel() -> None:
    call = dialect().get_call("task:1")
    assert (call.method, call.path) == ("GET", "/v1/tasks/task%3A1")
    assert dialect().cancel_call(TASK) is None


# --- round trip through the real transport ------------------------------------------------
def test_round_trip_through_provider_http() -> None:
    seen: list[httpx.Request] = []
    answers = iter(
        [httpx.Response(429, json=SEED_ERRORS[429][0]), httpx.Response(200, json=TASK_DONE)]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            if json.loads(request.content)["duration"] == 15:
                return httpx.Response(402, json=SEED_ERRORS[402][0])
            return httpx.Response(200, json=SEED_CREATED)
        return next(answers)

    async def scenario() -> None:
        d = dialect()
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        http = ProviderHTTP(
            d, BASE, Secret("k"), client=client, retry=RetryPolicy(attempts=3, base_delay=0.001)
        )
        request = build(SEED_TEXT["prompt"], duration=8, options={"content_filter": True})
        created = d.parse_created(await http.call(await d.create_call(request, no_fetch)))
        assert created.task_id == TASK and created.usage == Usage(credits=50.0)
        done = d.parse_task(await http.call(d.get_call(TASK)))  # a 429 first: reads retry
        assert done.status == "succeeded"
        costly = build("a long kite flight", duration=15)
        with pytest.raises(errors.InsufficientQuotaError):
            await http.call(await d.create_call(costly, no_fetch))
        await client.aclose()

    asyncio.run(scenario())
    assert [(r.method, r.url.path) for r in seen] == [
        ("POST", "/v1/videos/generations"),
        ("GET", f"/v1/tasks/{TASK}"),
        ("GET", f"/v1/tasks/{TASK}"),
        ("POST", "/v1/videos/generations"),  # a refused create is never re-sent
    ]
    assert all(r.headers["authorization"] == "Bearer k" for r in seen)
