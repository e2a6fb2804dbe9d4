"""CometAPI dialect against seed 003: multipart create, the first frame as a file part."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from seedance_nb import errors
from seedance_nb.catalog import PROVIDERS
from seedance_nb.engine.http import ProviderHTTP, RetryPolicy, Secret, build_httpx_request
from seedance_nb.providers import dialect_for
from seedance_nb.providers.cometapi import CometAPIDialect
from seedance_nb.providers.task import TaskError
from seedance_nb.request import VideoRequest, build_request

PROVIDER = PROVIDERS["cometapi"]
BASE = PROVIDER.base_url

# --- the seed's own examples (003_b29c688e9914e615.txt) -----------------------------------
SEED_TEXT_FORM = {
    "prompt": "A slow cinematic camera push across a coastal landscape at sunrise",
    "model": "doubao-seedance-2-0-fast",
    "seconds": "5",
    "size": "16:9",
    "resolution": "720p",
}
SEED_IMAGE_FORM = {
    "prompt": "A slow cinematic camera push across a coastal landscape at sunrise.",
    "model": "doubao-seedance-2-0",
    "seconds": "5",
    "size": "16:9",
    "resolution": "720p",
}
SEED_CREATED = {
    "id": "task_abc123",
    "task_id": "task_abc123",
    "object": "video",
    "model": "doubao-seedance-2-0-fast",
    "status": "SUBMITTED",
    "progress": 0,
    "created_at": 1776681149,
}
# GET /v1/videos/{id}: the fields the seed lists, filled in for a finished task.
TASK_DONE = {
    "id": "task_abc123",
    "model": "doubao-seedance-2-0-fast",
    "object": "video",
    "status": "SUCCESS",
    "progress": 100,
    "created_at": 1776681149,
    "completed_at": 1776681209,
    "video_url": "https://cdn.cometapi.com/videos/task_abc123.mp4?sig=abc",
}


def jpeg_bytes(size: tuple[int, int] = (640, 480)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 120, 200)).save(buf, format="JPEG")
    return buf.getvalue()


def multipart(request: httpx.Request) -> dict[str, dict[str, Any]]:
    """Parse a multipart body by hand, byte-exact: name → {filename, type, data}."""
    ctype = request.headers["content-type"]
    assert ctype.startswith("multipart/form-data; boundary=")
    boundary = ctype.split("boundary=", 1)[1].encode()
    body = request.read()
    chunks = body.split(b"--" + boundary)
    assert chunks[0] == b"" and chunks[-1].strip() == b"--"
    parts: dict[str, dict[str, Any]] = {}
    for chunk in chunks[1:-1]:
        assert chunk.startswith(b"\r\n") and chunk.endswith(b"\r\n")
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode("utf-8").split("\r\n") if line)
        disposition = headers["Content-Disposition"]
        name = re.search(r'; name="([^"]*)"', disposition)
        filename = re.search(r'; filename="([^"]*)"', disposition)
        assert name is not None
        parts[name.group(1)] = {
            "filename": filename.group(1) if filename else None,
            "type": headers.get("Content-Type"),
            "data": data,
        }
    return parts


def text_fields(parts: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {k: v["data"].decode() for k, v in parts.items() if v["filename"] is None}


async def no_fetch(url: str) -> bytes:
    raise AssertionError(f"nothing to download, yet fetched {url}")


def dialect() -> CometAPIDialect:
    d = dialect_for(PROVIDER)
    assert isinstance(d, CometAPIDialect)
    return d


def wire(request: VideoRequest, fetch: Any = no_fetch) -> httpx.Request:
    call = asyncio.run(dialect().create_call(request, fetch))
    assert call.idempotent is False and call.json is None
    return build_httpx_request(call, BASE, {"Authorization": "Bearer k"})


def build(prompt: str, **params: Any) -> VideoRequest:
    request, _ = build_request(PROVIDER, prompt, warn=False, **params)
    return request


# --- create -------------------------------------------------------------------------------
def test_text_to_video_form_is_the_seed_example() -> None:
    request = wire(
        build(
            SEED_TEXT_FORM["prompt"],
            model="doubao-seedance-2-0-fast",
            duration=5,
            ratio="16:9",
            resolution="720p",
        )
    )
    assert request.method == "POST"
    assert str(request.url) == "https://api.cometapi.com/v1/videos"
    parts = multipart(request)
    assert text_fields(parts) == SEED_TEXT_FORM
    assert "input_reference" not in parts
    # plain form fields, as curl -F sends them: no file name, no per-part content type
    assert all(part["type"] is None for part in parts.values())


def test_defaults_match_the_documented_defaults() -> None:
    parts = multipart(wire(build("파도가 친다", model="seedance-2.0")))
    assert text_fields(parts) == {
        "prompt": "파도가 친다",
        "model": "doubao-seedance-2-0",
        "seconds": "5",
        "size": "16:9",
        "resolution": "720p",
    }


def test_local_first_frame_is_the_input_reference_file(tmp_path: Path) -> None:
    path = tmp_path / "reference.jpg"
    path.write_bytes(jpeg_bytes())
    request = wire(
        build(
            SEED_IMAGE_FORM["prompt"],
            model="doubao-seedance-2-0",
            first_frame=path,
            duration=5,
            ratio="16:9",
            resolution="720p",
        )
    )
    parts = multipart(request)
    assert text_fields(parts) == SEED_IMAGE_FORM
    upload = parts["input_reference"]
    assert upload["filename"] == "reference.jpg"
    assert upload["type"] == "image/jpeg"
    assert upload["data"] == path.read_bytes()


def test_remote_first_frame_is_downloaded_then_uploaded() -> None:
    image = jpeg_bytes((800, 600))
    fetched: list[str] = []

    async def fetch(url: str) -> bytes:
        fetched.append(url)
        return image

    url = "https://example.com/frames/start.jpg?token=1"
    parts = multipart(wire(build("the tide comes in", first_frame=url, ratio="4:3"), fetch))
    assert fetched == [url]
    assert parts["input_reference"]["data"] == image
    assert parts["input_reference"]["type"] == "image/jpeg"
    assert parts["input_reference"]["filename"] == "input_reference.jpg"
    assert text_fields(parts)["size"] == "4:3"


def test_data_url_first_frame_is_decoded_not_fetched() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (400, 400), "white").save(buf, format="PNG")
    data_url = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    parts = multipart(wire(build("a white square breathes", first_frame=data_url, ratio="1:1")))
    assert parts["input_reference"]["data"] == buf.getvalue()
    assert parts["input_reference"]["type"] == "image/png"


@pytest.mark.parametrize(
    "outcome",
    [
        httpx.ConnectError("no route to host"),
        errors.DownloadError("HTTP 403 on the signed URL"),
        b"<html>not an image</html>",
        b"",
    ],
    ids=["connect-error", "download-error", "html", "empty"],
)
def test_unfetchable_first_frame_is_refused(outcome: Any) -> None:
    async def fetch(url: str) -> bytes:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    request = build("the tide comes in", first_frame="https://example.com/start.jpg")
    with pytest.raises(errors.InvalidRequest) as info:
        wire(request, fetch)
    assert info.value.field == "first_frame"
    assert info.value.provider == "cometapi"
    assert "input_reference" in str(info.value)


def test_local_bmp_is_refused_before_upload(tmp_path: Path) -> None:
    path = tmp_path / "frame.bmp"
    Image.new("RGB", (640, 480), "black").save(path, format="BMP")
    with pytest.raises(errors.InvalidRequest, match="JPEG, PNG or WebP"):
        wire(build("night falls", first_frame=path))


# --- local refusals -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"images": ["https://example.com/a.jpg"]}, "mode"),  # no reference mode at all
        (
            {"first_frame": "https://example.com/a.jpg", "last_frame": "https://example.com/b.jpg"},
            "mode",
        ),
        ({"model": "seedance-1.5-pro", "first_frame": "https://example.com/a.jpg"}, "mode"),
        ({"resolution": "1080p"}, "resolution"),  # 2.0 models: 480p/720p only
        ({"model": "seedance-2.0-fast", "resolution": "1080p"}, "resolution"),
        ({"ratio": "adaptive"}, "ratio"),
        ({"duration": 16}, "duration"),
        ({"model": "seedance-1.0-pro", "duration": 11}, "duration"),
        ({"model": "seedance-1.5-pro", "duration": 3}, "duration"),
        ({"generate_audio": True}, "generate_audio"),
        ({"seed": 7}, "seed"),
        ({"watermark": False}, "watermark"),
        ({"callback_url": "https://example.com/hook"}, "callback_url"),
        ({"model": "seedance-2.0-mini"}, "model"),
    ],
)
def test_refused_before_any_call(params: dict[str, Any], field: str) -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        build("a harbour at night", **params)
    assert info.value.field == field


def test_1080p_is_fine_on_the_1x_models() -> None:
    parts = multipart(wire(build("rain", model="seedance-1.0-pro", resolution="1080p", duration=2)))
    assert text_fields(parts)["resolution"] == "1080p"
    assert text_fields(parts)["model"] == "doubao-seedance-1-0-pro"
    assert text_fields(parts)["seconds"] == "2"


# --- reads --------------------------------------------------------------------------------
def test_parse_created_seed_answer() -> None:
    state = dialect().parse_created(SEED_CREATED)
    assert state.task_id == "task_abc123"
    assert state.status == "queued"
    assert state.progress == 0.0
    assert state.created_at == 1776681149
    assert state.raw == SEED_CREATED


def test_parse_finished_task() -> None:
    state = dialect().parse_task(TASK_DONE)
    assert state.status == "succeeded"
    assert state.progress == 1.0
    assert state.video_url == TASK_DONE["video_url"]
    assert state.created_at == 1776681149
    assert state.updated_at == 1776681209
    assert state.raw == TASK_DONE


@pytest.mark.parametrize(
    ("wire_status", "progress", "status", "fraction"),
    [
        ("SUBMITTED", 0, "queued", 0.0),
        ("IN_PROGRESS", 1, "running", 0.01),  # an integer percentage, not a fraction
        ("IN_PROGRESS", 45, "running", 0.45),
        ("SUCCESS", 100, "succeeded", 1.0),
        ("FAILED", 100, "failed", 1.0),
        ("ERROR", 0, "failed", 0.0),
    ],
)
def test_status_table(wire_status: str, progress: int, status: str, fraction: float) -> None:
    body = {**TASK_DONE, "status": wire_status, "progress": progress, "video_url": None}
    state = dialect().parse_task(body)
    assert state.status == status
    assert state.progress == pytest.approx(fraction)
    if status == "failed":
        assert state.error is not None and state.error.code == wire_status
    else:
        assert state.error is None


def test_failure_detail_is_kept_when_present() -> None:
    body = {
        **TASK_DONE,
        "status": "FAILED",
        "video_url": None,
        "error": {"code": "InputImageSensitiveContentDetected", "message": "blocked"},
    }
    assert dialect().parse_task(body).error == TaskError(
        "InputImageSensitiveContentDetected", "blocked"
    )


@pytest.mark.parametrize(
    "body",
    [
        {**TASK_DONE, "video_url": "file:///etc/passwd"},
        {**TASK_DONE, "video_url": "javascript:alert(1)"},
        {**TASK_DONE, "id": "task/../../x"},
        {**TASK_DONE, "id": None, "task_id": None},
        {**TASK_DONE, "status": "done-ish"},
        {**TASK_DONE, "status": None},
        [TASK_DONE],
        None,
    ],
)
def test_undocumented_shapes_are_bad_responses(body: Any) -> None:
    with pytest.raises(errors.BadResponseError):
        dialect().parse_task(body)


def test_get_call_quotes_the_id() -> None:
    call = dialect().get_call("task:abc")
    assert (call.method, call.path) == ("GET", "/v1/videos/task%3Aabc")
    assert dialect().cancel_call("task_abc123") is None


@pytest.mark.parametrize(
    "body",
    [
        {"code": "task_not_exist", "message": "task_not_exist", "data": None},
        {"error": {"code": "task_not_exist", "message": "task_not_exist", "type": "api_error"}},
        {"error": {"message": "task_not_exist", "type": "invalid_request_error"}},
    ],
)
def test_task_not_exist_is_not_found(body: Any) -> None:
    err = dialect().parse_error(400, body, {})
    assert isinstance(err, errors.NotFoundError)
    assert err.status_code == 400 and err.code == "task_not_exist"


def test_invalid_parameter_and_auth_errors() -> None:
    d = dialect()
    body = {
        "error": {
            "code": "InvalidParameter",
            "message": "the specified task_type r2v does not support model seedance-1-5-pro",
        }
    }
    err = d.parse_error(400, body, {})
    assert type(err) is errors.APIError and err.code == "InvalidParameter"
    assert not err.retryable
    assert isinstance(
        d.parse_error(401, {"message": "invalid token"}, {}), errors.AuthenticationError
    )


# --- round trip through the real transport ------------------------------------------------
def test_round_trip_through_provider_http(tmp_path: Path) -> None:
    path = tmp_path / "reference.jpg"
    path.write_bytes(jpeg_bytes())
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        request.read()
        seen.append(request)
        if request.method == "POST" and request.url.path == "/v1/videos":
            return httpx.Response(200, json=SEED_CREATED)
        if request.url.path == "/v1/videos/task_abc123":
            return httpx.Response(200, json=TASK_DONE)
        return httpx.Response(400, json={"code": "task_not_exist", "message": "task_not_exist"})

    async def scenario() -> None:
        d = dialect()
        client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        http = ProviderHTTP(
            d, BASE, Secret("k"), client=client, retry=RetryPolicy(attempts=2, base_delay=0.001)
        )
        request = build("the coast at sunrise", first_frame=path)
        created = d.parse_created(await http.call(await d.create_call(request, no_fetch)))
        assert created.status == "queued"
        done = d.parse_task(await http.call(d.get_call(created.task_id)))
        assert done.status == "succeeded" and done.video_url == TASK_DONE["video_url"]
        with pytest.raises(errors.NotFoundError):
            await http.call(d.get_call("task_gone"))
        await client.aclose()

    asyncio.run(scenario())
    assert [r.method for r in seen] == ["POST", "GET", "GET"]
    assert seen[0].headers["authorization"] == "Bearer k"
    assert multipart(seen[0])["input_reference"]["data"] == path.read_bytes()
    assert json.loads(seen[1].content or b"null") is None  # reads carry no body


def test_local_frame_deleted_after_validation_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "reference.jpg"
    path.write_bytes(jpeg_bytes())
    request = build("the coast at sunrise", first_frame=path)
    path.unlink()
    with pytest.raises(errors.InvalidRequest, match="cannot be read"):
        wire(request)
