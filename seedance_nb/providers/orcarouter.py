"""OrcaRouter: Ark's parameters under ``metadata``, a Kling-style envelope on reads.

Docs: OrcaRouter's video API, https://api.orcarouter.ai/v1/video/generations.

The create body is ``{model, prompt, metadata{content[], ratio, …}}``: the gateway wraps the
prompt into ``content[]`` itself, so we send no text item, and it names the last frame
``end_frame``. Reads come back as ``{code:"success", data{task_id, status NOT_START…FAILURE,
progress:"50%", result_url, fail_reason}}``; any other ``code`` is an error even under HTTP 200.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .. import errors
from ..request import VideoRequest
from .ark import content_items, output_fields
from .base import (
    Dialect,
    Fetch,
    HttpCall,
    api_error,
    as_float,
    as_url,
    check_status,
    expect_dict,
    percent_fraction,
    safe_task_id,
)
from .task import TaskError, TaskState, Usage

GENERATIONS = "/v1/video/generations"

# OrcaRouter's documented upper-case statuses, plus Ark's own words in case they leak through.
_STATUS = {
    "NOT_START": "queued",
    "SUBMITTED": "queued",
    "QUEUED": "queued",
    "PENDING": "queued",
    "IN_PROGRESS": "running",
    "RUNNING": "running",
    "PROCESSING": "running",
    "SUCCESS": "succeeded",
    "SUCCEEDED": "succeeded",
    "FAILURE": "failed",
    "FAILED": "failed",
    "CANCELLED": "cancelled",
    "CANCELED": "cancelled",
    "EXPIRED": "expired",
}
_NOT_FOUND_CODES = frozenset({"task_not_exist", "task_not_found", "not_found"})


def _count(value: Any) -> int | None:
    f = as_float(value)
    return None if f is None else int(f)


def _status(value: Any, provider: str) -> Any:
    if isinstance(value, str):
        value = _STATUS.get(value.strip().upper(), value)
    return check_status(value, provider)


class OrcaRouterDialect(Dialect):
    name = "orcarouter"

    async def create_call(self, request: VideoRequest, fetch: Fetch) -> HttpCall:
        offer = self.provider.offer(request.tier) if request.tier else None
        role = offer.last_frame_role if offer else "end_frame"
        metadata: dict[str, Any] = {}
        content = content_items(request, include_text=False, last_frame_role=role)
        if content:  # pure text-to-video: the seed leaves content out entirely
            metadata["content"] = content
        metadata.update(output_fields(request))
        metadata.pop("camera_fixed", None)  # not an OrcaRouter field; the catalog refuses it too
        metadata.update(request.options)
        body = {"model": request.model_id, "prompt": request.prompt, "metadata": metadata}
        return HttpCall("POST", GENERATIONS, json=body, idempotent=False)

    def parse_created(self, body: Any) -> TaskState:
        p = self.provider.name
        data = expect_dict(body, p, "create")
        if "code" in data and data.get("id") is None and data.get("task_id") is None:
            return self.parse_task(data)  # an envelope: "success" unwraps, any other code raises
        status = data.get("status")
        return TaskState(
            task_id=safe_task_id(data.get("task_id") or data.get("id"), p),
            status=_status(status, p) if status is not None else "queued",
            progress=percent_fraction(data.get("progress")),
            raw=data,
            created_at=as_float(data.get("created_at")),
        )

    def get_call(self, task_id: str) -> HttpCall:
        return HttpCall("GET", f"{GENERATIONS}/{quote(task_id, safe='')}")

    def parse_task(self, body: Any) -> TaskState:
        p = self.provider.name
        envelope = expect_dict(body, p, "task")
        code = envelope.get("code")
        if code != "success":
            if code is None:
                raise errors.BadResponseError(
                    f"{p} task: expected the {{code, message, data}} envelope, got keys "
                    f"{sorted(map(str, envelope))[:8]}"
                )
            raise _envelope_error(p, envelope)
        data = expect_dict(envelope.get("data"), p, "task data")
        status = _status(data.get("status"), p)
        reason = data.get("fail_reason")
        error = None
        if status == "failed":
            error = TaskError("FAILURE", str(reason) if reason else "the task failed")
        usage = data.get("usage")
        return TaskState(
            task_id=safe_task_id(data.get("task_id"), p),
            status=status,
            progress=percent_fraction(data.get("progress")),
            video_url=as_url(data.get("result_url"), p),
            last_frame_url=as_url(data.get("last_frame_url"), p),
            usage=Usage(
                completion_tokens=_count(usage.get("completion_tokens")),
                total_tokens=_count(usage.get("total_tokens")),
            )
            if isinstance(usage, dict)
            else None,
            error=error,
            raw=envelope,
            created_at=as_float(data.get("submit_time")),
            updated_at=as_float(data.get("finish_time")) or as_float(data.get("start_time")),
        )

    def parse_error(self, status: int, body: Any, headers: Mapping[str, str]) -> errors.APIError:
        """Kling-style ``{code, message}`` bodies; ``task_not_exist`` means an unknown id."""
        err = super().parse_error(status, body, headers)
        if (err.code or "").lower() in _NOT_FOUND_CODES:
            return err.as_type(errors.NotFoundError)
        return err


def _envelope_error(provider: str, envelope: dict[str, Any]) -> errors.APIError:
    """An HTTP-200 body whose ``code`` is not "success": the gateway's way to say no."""
    code = str(envelope.get("code"))[:100]
    message = envelope.get("message")
    text = str(message)[:300] if message not in (None, "") else f"code {code}"
    err = api_error(provider, 200, code, text, body=envelope)  # quota codes → quota error
    return err.as_type(errors.NotFoundError) if code.lower() in _NOT_FOUND_CODES else err


DIALECT = OrcaRouterDialect
