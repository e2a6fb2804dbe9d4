"""CometAPI: multipart ``POST /v1/videos`` with the first frame as a file part.

Docs: CometAPI's video API, https://api.cometapi.com/v1/videos.

CometAPI takes form fields, not JSON, and the only image it accepts is ``input_reference``:
an uploaded JPEG/PNG/WebP file (2.0 models only). A first frame given as a URL is therefore
downloaded through the runtime's ``fetch`` and uploaded; if that fails we refuse before
anything is created. Reads are flat ``{id, status SUBMITTED…ERROR, progress, video_url}``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .. import catalog, errors
from ..request import VideoRequest
from ..request.media import MediaRef
from .base import (
    Dialect,
    Fetch,
    HttpCall,
    as_float,
    as_url,
    check_status,
    expect_dict,
    percent_fraction,
    safe_task_id,
)
from .task import TaskError, TaskState

VIDEOS = "/v1/videos"

_STATUS = {
    "SUBMITTED": "queued",
    "NOT_START": "queued",
    "QUEUED": "queued",
    "PENDING": "queued",
    "IN_PROGRESS": "running",
    "RUNNING": "running",
    "PROCESSING": "running",
    "SUCCESS": "succeeded",
    "SUCCEEDED": "succeeded",
    "COMPLETED": "succeeded",
    "FAILED": "failed",
    "FAILURE": "failed",
    "ERROR": "failed",
    "CANCELLED": "cancelled",
    "CANCELED": "cancelled",
    "EXPIRED": "expired",
}
_NOT_FOUND_CODES = frozenset({"task_not_exist", "task_not_found", "not_found"})
# input_reference: "JPEG, PNG 또는 WebP" (CometAPI docs). Sniffed from the bytes, not the name.
_UPLOAD_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def _status(value: Any, provider: str) -> Any:
    if isinstance(value, str):
        value = _STATUS.get(value.strip().upper(), value)
    return check_status(value, provider)


def sniff_image(data: bytes) -> str | None:
    """The upload format by magic bytes: jpeg, png, webp, or None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


class CometAPIDialect(Dialect):
    name = "cometapi"

    async def create_call(self, request: VideoRequest, fetch: Fetch) -> HttpCall:
        fields = {
            "prompt": request.prompt,
            "model": request.model_id,
            "seconds": str(request.duration),
            "size": request.ratio,
            "resolution": request.resolution,
        }
        # The seed's curl sends every field with -F, so the body is multipart even without an
        # image. httpx falls back to urlencoded when no file part is given, so the text fields
        # travel as file parts without a file name: byte for byte what a plain form field is.
        parts: list[Any] = [
            (name, (None, value.encode("utf-8"), None)) for name, value in fields.items()
        ]
        if request.first_frame is not None:
            parts.append(
                ("input_reference", await self._upload(request, request.first_frame, fetch))
            )
        return HttpCall("POST", VIDEOS, files=parts, idempotent=False)

    async def _upload(
        self, request: VideoRequest, ref: MediaRef, fetch: Fetch
    ) -> tuple[str, bytes, str]:
        """The first frame as ``(filename, bytes, mime)``, or InvalidRequest saying why not."""
        name = "input_reference"
        if ref.is_local:
            try:
                data = ref.read_bytes()
            except OSError as exc:  # moved or deleted since the request was validated
                raise self._refuse(request, ref, f"it cannot be read ({exc.strerror})") from None
            name = Path(ref.path or name).name
        elif ref.url and ref.url.startswith("data:"):
            try:
                data = base64.b64decode(ref.url.split(",", 1)[1], validate=True)
            except (IndexError, ValueError, binascii.Error):
                raise self._refuse(request, ref, "its data: URL is not valid base64") from None
        elif ref.url and ref.url.lower().startswith(("http://", "https://")):
            try:
                data = await fetch(ref.url)
            except Exception as exc:  # any failure to fetch means: do not create
                raise self._refuse(
                    request,
                    ref,
                    f"it could not be downloaded ({exc.__class__.__name__}: {str(exc)[:120]})",
                ) from None
            if not isinstance(data, (bytes, bytearray)):
                raise self._refuse(request, ref, "the download returned no bytes")
            data = bytes(data)
        else:
            raise self._refuse(request, ref, "CometAPI uploads a local file or an http(s) URL")
        fmt = sniff_image(data)
        if fmt is None:
            raise self._refuse(request, ref, "the file is not a JPEG, PNG or WebP image")
        if len(data) > catalog.IMAGE_MAX_BYTES:
            raise self._refuse(
                request,
                ref,
                f"the file is {len(data) / 1e6:.1f} MB "
                f"(at most {catalog.IMAGE_MAX_BYTES // (1024 * 1024)} MB)",
            )
        if name == "input_reference":  # no file name of its own: name it after its format
            name = f"input_reference.{'jpg' if fmt == 'jpeg' else fmt}"
        return name, data, _UPLOAD_TYPES[fmt]

    def _refuse(self, request: VideoRequest, ref: MediaRef, why: str) -> errors.InvalidRequest:
        return errors.InvalidRequest(
            f"first_frame={ref.short()!r} cannot be sent to CometAPI as input_reference: {why}.",
            field="first_frame",
            value=ref.short(),
            allowed="a JPEG, PNG or WebP image",
            model=request.tier or request.model_id,
            provider=self.provider.name,
        )

    def parse_created(self, body: Any) -> TaskState:
        return self._parse(body, "create")

    def get_call(self, task_id: str) -> HttpCall:
        return HttpCall("GET", f"{VIDEOS}/{quote(task_id, safe='')}")

    def parse_task(self, body: Any) -> TaskState:
        return self._parse(body, "task")

    def _parse(self, body: Any, what: str) -> TaskState:
        p = self.provider.name
        data = expect_dict(body, p, what)
        raw_status = data.get("status")
        if raw_status is None and what == "create":
            raw_status = "SUBMITTED"
        status = _status(raw_status, p)
        error = None
        if status == "failed":
            error = _task_error(data, str(raw_status))
        return TaskState(
            task_id=safe_task_id(data.get("id") or data.get("task_id"), p),
            status=status,
            progress=percent_fraction(data.get("progress")),
            video_url=as_url(data.get("video_url"), p),
            error=error,
            raw=data,
            created_at=as_float(data.get("created_at")),
            updated_at=as_float(data.get("completed_at")),
        )

    def parse_error(self, status: int, body: Any, headers: Mapping[str, str]) -> errors.APIError:
        """``task_not_exist`` arrives as HTTP 400; it means an unknown id, so NotFoundError."""
        err = super().parse_error(status, body, headers)
        words = {(err.code or "").lower(), err.message.strip().lower()}
        if words & _NOT_FOUND_CODES:
            return err.as_type(errors.NotFoundError, code=err.code or "task_not_exist")
        return err


def _task_error(data: dict[str, Any], status: str) -> TaskError:
    """The seed documents no failure detail; take whatever the gateway put there."""
    detail = data.get("error") if data.get("error") not in (None, "") else data.get("fail_reason")
    if isinstance(detail, dict):
        code = detail.get("code") or status
        message = detail.get("message") or ""
        return TaskError(str(code)[:100], str(message)[:500] or "the task failed")
    if detail not in (None, ""):
        return TaskError(status, str(detail)[:500])
    return TaskError(status, "the task failed")


DIALECT = CometAPIDialect
