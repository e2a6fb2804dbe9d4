"""seedance2.ink Open API: camelCase JSON and a ``success`` flag on every answer.

Docs: https://www.seedance2.ink/api/open/v1/video/generations (the Open API reference).

Media go as one flat ``mediaUrls`` list (1-5 public URLs, no roles) in content order; text-to-
video leaves it out. Answers carry ``success``; ``success: false`` is an error whatever the HTTP
status. The seed shows only ``queued`` and ``succeeded``, so every usual spelling of the other
states is accepted. This is the one gateway besides Ark with a cancel call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .. import errors
from ..request import VideoRequest
from .base import (
    Dialect,
    Fetch,
    HttpCall,
    as_float,
    as_url,
    check_status,
    expect_dict,
    progress_fraction,
    safe_task_id,
)
from .task import TaskError, TaskState, Usage

GENERATIONS = "/video/generations"

_STATUS = {
    "queued": "queued",
    "pending": "queued",
    "submitted": "queued",
    "waiting": "queued",
    "processing": "running",
    "running": "running",
    "in_progress": "running",
    "generating": "running",
    "succeeded": "succeeded",
    "success": "succeeded",
    "completed": "succeeded",
    "complete": "succeeded",
    "done": "succeeded",
    "failed": "failed",
    "failure": "failed",
    "error": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "expired": "expired",
}


def _status(value: Any, provider: str) -> Any:
    if isinstance(value, str):
        value = _STATUS.get(value.strip().lower(), value)
    return check_status(value, provider)


class Seedance2InkDialect(Dialect):
    name = "seedance2ink"

    async def create_call(self, request: VideoRequest, fetch: Fetch) -> HttpCall:
        body: dict[str, Any] = {"model": request.model_id, "prompt": request.prompt}
        urls = self.public_urls(request, "seedance2.ink takes media only as public URLs.")
        if urls:
            body["mediaUrls"] = urls
        body["aspectRatio"] = request.ratio
        body["duration"] = request.duration
        body["resolution"] = request.resolution
        if request.callback_url is not None:
            body["webhookUrl"] = request.callback_url
        if "metadata" in request.options:
            metadata = request.options["metadata"]
            if not isinstance(metadata, dict):
                raise self.refuse(
                    request,
                    "options.metadata",
                    metadata,
                    "metadata is a JSON object stored with the task.",
                    "a dict",
                )
            body["metadata"] = metadata
        return HttpCall("POST", GENERATIONS, json=body, idempotent=False)

    def parse_created(self, body: Any) -> TaskState:
        return self._parse(body, "create")

    def get_call(self, task_id: str) -> HttpCall:
        return HttpCall("GET", f"{GENERATIONS}/{quote(task_id, safe='')}")

    def parse_task(self, body: Any) -> TaskState:
        return self._parse(body, "task")

    def cancel_call(self, task_id: str) -> HttpCall | None:
        # Cancelling twice is harmless, so the default (idempotent, retried) is right.
        return HttpCall("POST", f"{GENERATIONS}/{quote(task_id, safe='')}/cancel")

    def parse_cancel(self, task_id: str, body: Any) -> TaskState | None:
        p = self.provider.name
        data = self._checked(body, "cancel")
        returned = data.get("requestId")
        if returned is not None and safe_task_id(returned, p) != task_id:
            raise errors.BadResponseError(
                f"{p} cancel: asked for {task_id!r}, the answer is about {str(returned)[:60]!r}"
            )
        if data.get("status") is None:
            return None  # the answer does not say: read the task again
        return TaskState(task_id=task_id, status=_status(data.get("status"), p), raw=data)

    def _checked(self, body: Any, what: str) -> dict[str, Any]:
        """The body as a dict, or the error it announces with ``success: false``."""
        p = self.provider.name
        data = expect_dict(body, p, what)
        if data.get("success") is False:
            raise self.parse_error(200, data, {})
        return data

    def _parse(self, body: Any, what: str) -> TaskState:
        p = self.provider.name
        data = self._checked(body, what)
        raw_status = data.get("status")
        if raw_status is None and what == "create":
            raw_status = "queued"
        status = _status(raw_status, p)
        output = data.get("output")
        if output is not None and not isinstance(output, dict):
            raise errors.BadResponseError(f"{p} {what}: output is not an object")
        credits = as_float(data.get("creditsCharged"))
        progress = data.get("progress")
        return TaskState(
            task_id=safe_task_id(data.get("requestId"), p),
            status=status,
            progress=progress_fraction(progress) if as_float(progress) is not None else None,
            video_url=as_url((output or {}).get("url"), p),
            usage=Usage(credits=credits) if credits is not None else None,
            error=_task_error(data.get("error"), str(raw_status))
            if status == "failed"
            or (status in ("cancelled", "expired") and data.get("error") not in (None, "", {}))
            else None,
            raw=data,
            created_at=as_float(data.get("createdAt")),
            updated_at=as_float(data.get("updatedAt")),
        )

    def parse_error(self, status: int, body: Any, headers: Mapping[str, str]) -> errors.APIError:
        """``{success:false, error}`` bodies; a not-found message means an unknown request id."""
        err = super().parse_error(status, body, headers)
        words = f"{err.code or ''} {err.message}".lower()
        if status != 404 and ("not found" in words or "not_found" in words):
            return err.as_type(errors.NotFoundError)
        return err


def _task_error(err: Any, status: str) -> TaskError:
    if isinstance(err, dict):
        code = err.get("code") or status
        return TaskError(str(code)[:100], str(err.get("message") or "")[:500] or "the task failed")
    if err not in (None, ""):
        return TaskError(status, str(err)[:500])
    return TaskError(status, "the task failed")


DIALECT = Seedance2InkDialect
