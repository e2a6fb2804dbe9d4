"""The Ark dialect against payloads shaped like seed 002 and API-NOTES (no network)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from seedance_nb import catalog, errors
from seedance_nb.engine.http import ProviderHTTP, RetryPolicy, Secret, build_httpx_request
from seedance_nb.providers import dialect_for
from seedance_nb.request import build_request

ARK = catalog.PROVIDERS["ark"]
VOLC = catalog.PROVIDERS["volcengine"]
BASE = "https://ark.ap-southeast.bytepluses.com/api/v3"


async def _no_fetch(url: str) -> bytes:
    raise AssertionError("Ark never needs to fetch media")


def _create_body(**params: object) -> dict:
    request, _ = build_request(ARK, params.pop("prompt"), warn=False, **params)  # type: ignore[arg-type]
    call = asyncio.run(dialect_for(ARK).create_call(request, _no_fetch))
    http_request = build_httpx_request(call, BASE, {"Authorization": "Bearer k"})
    assert http_request.method == "POST"
    assert str(http_request.url) == BASE + "/contents/generations/tasks"
    return json.loads(http_request.content)


def test_seed_002_text_to_video_body() -> None:
    body = _create_body(
        prompt="A quiet product demo shot, slow camera move, clean studio light",
        ratio="16:9",
        resolution="720p",
        duration=5,
        generate_audio=False,
        return_last_frame=True,
        callback_url="https://example.com/webhooks/seedance",
    )
    assert body == {
        "model": "dreamina-seedance-2-0-260128",
        "content": [
            {
                "type": "text",
                "text": "A quiet product demo shot, slow camera move, clean studio light",
            }
        ],
        "ratio": "16:9",
        "resolution": "720p",
        "duration": 5,
        "generate_audio": False,
        "return_last_frame": True,
        "callback_url": "https://example.com/webhooks/seedance",
    }


def test_seed_002_reference_image_body() -> None:
    body = _create_body(
        prompt="Use [Image 1] as the product reference and keep the motion minimal.",
        images=["https://cdn.example.com/reference-product.webp"],
        ratio="16:9",
        duration=5,
        generate_audio=False,
    )
    assert body["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "https://cdn.example.com/reference-product.webp"},
        "role": "reference_image",
    }


def test_first_and_last_frame_roles_and_order() -> None:
    body = _create_body(
        prompt="orbit", first_frame="https://x.test/a.png", last_frame="https://x.test/b.png"
    )
    roles = [(item["type"], item.get("role")) for item in body["content"]]
    assert roles == [("text", None), ("image_url", "first_frame"), ("image_url", "last_frame")]
    assert body["ratio"] == "adaptive"  # frames decide the shape unless told otherwise


def test_volcengine_sends_doubao_ids_and_refuses_byteplus_ids() -> None:
    request, _ = build_request(VOLC, "a lantern", warn=False)
    assert request.model_id == "doubao-seedance-2-0-260128"
    with pytest.raises(errors.InvalidRequest) as info:
        build_request(VOLC, "a lantern", model="dreamina-seedance-2-0-260128", warn=False)
    assert info.value.provider == "volcengine" and "ark" in str(info.value)


DOC_TASK = {
    "id": "cgt-20250331175019-68d9t",
    "model": "dreamina-seedance-2-0-260128",
    "status": "succeeded",
    "error": None,
    "content": {
        "video_url": "https://ark-content.example/video.mp4?sig=1",
        "last_frame_url": "https://ark-content.example/last.png?sig=1",
    },
    "usage": {"completion_tokens": 108900, "total_tokens": 108900},
    "seed": 10,
    "resolution": "720p",
    "ratio": "16:9",
    "duration": 5,
    "framespersecond": 24,
    "generate_audio": True,
    "service_tier": "default",
    "execution_expires_after": 172800,
    "created_at": 1743414619,
    "updated_at": 1743414673,
    "some_new_field": {"kept": True},
}


def test_parse_documented_task() -> None:
    state = dialect_for(ARK).parse_task(DOC_TASK)
    assert state.task_id == "cgt-20250331175019-68d9t" and state.status == "succeeded"
    assert state.video_url.endswith("video.mp4?sig=1") and state.last_frame_url.endswith(
        "last.png?sig=1"
    )
    assert state.usage.total_tokens == 108900 and state.seed == 10
    assert state.raw["some_new_field"] == {"kept": True}  # unknown fields survive


def test_parse_failed_task_and_processing_alias() -> None:
    d = dialect_for(ARK)
    failed = d.parse_task(
        {
            **DOC_TASK,
            "status": "failed",
            "content": None,
            "error": {"code": "OutputVideoSensitiveContentDetected", "message": "no"},
        }
    )
    assert failed.error.code == "OutputVideoSensitiveContentDetected" and failed.video_url is None
    assert d.parse_task({**DOC_TASK, "status": "processing"}).status == "running"


@pytest.mark.parametrize(
    "patch",
    [
        {"id": "../../etc/passwd"},
        {"status": "exploded"},
        {"content": {"video_url": "file:///etc/passwd"}},
        {"id": None},
    ],
)
def test_hostile_payloads_become_typed_errors(patch: dict) -> None:
    with pytest.raises(errors.BadResponseError):
        dialect_for(ARK).parse_task({**DOC_TASK, **patch})


def test_batch_list_call_repeats_filter_task_ids_and_parses_items() -> None:
    d = dialect_for(ARK)
    call = d.list_call(["cgt-1", "cgt-2"])
    url = build_httpx_request(call, BASE).url
    assert url.params.get_list("filter.task_ids") == ["cgt-1", "cgt-2"]
    items = d.parse_list(
        {"total": 2, "items": [DOC_TASK, {**DOC_TASK, "id": "cgt-2", "status": "running"}]}
    )
    assert [(s.task_id, s.status) for s in items] == [
        ("cgt-20250331175019-68d9t", "succeeded"),
        ("cgt-2", "running"),
    ]


def test_reconcile_matching_uses_output_parameters() -> None:
    d = dialect_for(ARK)
    request, _ = build_request(
        ARK, "x", resolution="720p", duration=5, seed=10, ratio="16:9", warn=False
    )
    assert d.matches(request, d.parse_task(DOC_TASK))
    assert not d.matches(request, d.parse_task({**DOC_TASK, "seed": 11}))
    assert not d.matches(request, d.parse_task({**DOC_TASK, "duration": 6}))


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "InvalidParameter", errors.APIError),
        (401, "AuthenticationError", errors.AuthenticationError),
        (403, "AccountOverdueError", errors.PermissionDeniedError),
        (404, "InvalidEndpointOrModel.NotFound", errors.NotFoundError),
        (429, "RateLimitExceeded.EndpointRPMExceeded", errors.RateLimitError),
        (500, "InternalServiceError", errors.ServerError),
    ],
)
def test_error_envelope_mapping(status: int, code: str, cls: type) -> None:
    body = {
        "error": {
            "code": code,
            "message": "the parameter `duration` is invalid",
            "param": "duration",
            "type": "BadRequest",
        }
    }
    err = dialect_for(ARK).parse_error(status, body, {"x-request-id": "req-42", "retry-after": "7"})
    assert type(err) is cls and err.code == code and err.status_code == status
    assert err.request_id == "req-42" and "duration" in err.message
    if status == 429:
        assert err.retry_after == 7.0


def test_create_is_never_retried_but_reads_are() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.method)
        assert request.headers["authorization"] == "Bearer sk-secret"
        return httpx.Response(503, json={"error": {"code": "ServerOverloaded", "message": "busy"}})

    async def main() -> None:
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        http = ProviderHTTP(
            dialect_for(ARK),
            BASE,
            Secret("sk-secret"),
            client=client,
            retry=RetryPolicy(attempts=3, base_delay=0.0, max_delay=0.0),
        )
        request, _ = build_request(ARK, "x", warn=False)
        with pytest.raises(errors.ServerError):
            await http.call(await dialect_for(ARK).create_call(request, _no_fetch))
        assert seen == ["POST"]
        with pytest.raises(errors.ServerError):
            await http.call(dialect_for(ARK).get_call("cgt-1"))
        assert seen == ["POST", "GET", "GET", "GET"]

    asyncio.run(main())
