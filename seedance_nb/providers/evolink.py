"""EvoLink: ``POST /v1/videos/generations`` where the model id names the mode.

Docs: https://docs.evolink.ai (Seedance 2.0 parameter guide).

Nine wire ids, ``seedance-2.0[-fast|-mini]-{text|image|reference}-to-video``: the catalog sells
the three tiers and we add the mode from what the request carries. Media travel as URL lists
without roles (``image_urls`` = [first, last] in image mode). EvoLink's ``generate_audio``
defaults to true, so we always send the resolved value rather than trust a default. Reads are
``GET /v1/tasks/{id}`` with ``results[0]`` the video; credits stand in for tokens.
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
    percent_fraction,
    safe_task_id,
)
from .task import TaskError, TaskState, Usage

GENERATIONS = "/v1/videos/generations"
TASKS = "/v1/tasks"

_MODE_WORD = {
    "text": "text",
    "first_frame": "image",
    "first_last": "image",
    "reference": "reference",
}
# model_params.web_search: "Text-to-Video 모델에만 적용(표준 버전, 빠른 버전)" — not mini.
_WEB_SEARCH_MODELS = frozenset({"seedance-2.0-text-to-video", "seedance-2.0-fast-text-to-video"})
_STATUS = {
    "pending": "queued",
    "queued": "queued",
    "processing": "running",
    "running": "running",
    "in_progress": "running",
    "completed": "succeeded",
    "succeeded": "succeeded",
    "success": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
    "canceled": "cancelled",
    "expired": "expired",
}
# EvoLink's documented error codes and the class each one means, whatever the status.
_CODE_CLASS: dict[str, type[errors.APIError]] = {
    "unauthorized": errors.AuthenticationError,
    "insufficient_quota": errors.InsufficientQuotaError,
    "model_access_denied": errors.PermissionDeniedError,
    "rate_limit_exceeded": errors.RateLimitError,
    "internal_error": errors.ServerError,
}


def _status(value: Any, provider: str) -> Any:
    if isinstance(value, str):
        value = _STATUS.get(value.strip().lower(), value)
    return check_status(value, provider)


def wire_model(request: VideoRequest) -> str:
    """``seedance-2.0-fast`` + first_last → ``seedance-2.0-fast-image-to-video``."""
    return f"{request.model_id}-{_MODE_WORD[request.mode]}-to-video"


class EvoLinkDialect(Dialect):
    name = "evolink"

    async def create_call(self, request: VideoRequest, fetch: Fetch) -> HttpCall:
        model = wire_model(request)
        body: dict[str, Any] = {"model": model, "prompt": request.prompt}
        self.public_urls(request, "EvoLink fetches media from public URLs only.")
        if request.mode in ("first_frame", "first_last"):
            body["image_urls"] = [m.url for m in (request.first_frame, request.last_frame) if m]
        elif request.mode == "reference":
            for key, refs in (
                ("image_urls", request.images),
                ("video_urls", request.videos),
                ("audio_urls", request.audios),
            ):
                if refs:
                    body[key] = [m.url for m in refs]
        body["duration"] = request.duration
        body["quality"] = request.resolution
        body["aspect_ratio"] = request.ratio
        if request.generate_audio is not None:
            body["generate_audio"] = request.generate_audio
        opts = request.options
        if "content_filter" in opts:
            body["content_filter"] = self._flag(request, "content_filter", opts["content_filter"])
        if "web_search" in opts:
            web = self._flag(request, "web_search", opts["web_search"])
            if model in _WEB_SEARCH_MODELS:
                body["model_params"] = {"web_search": web}
            elif web:
                raise self.refuse(
                    request,
                    "options.web_search",
                    web,
                    f"web search is for text-to-video on the standard and fast "
                    f"tiers only, not {model}.",
                    "seedance-2.0 / seedance-2.0-fast without media",
                )
            # web_search=False where it does not exist is what the model does anyway: omit it.
        if request.callback_url is not None:
            body["callback_url"] = request.callback_url
        return HttpCall("POST", GENERATIONS, json=body, idempotent=False)

    def _flag(self, request: VideoRequest, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.refuse(
                request, f"options.{name}", value, f"{name} is true or false.", "True, False"
            )
        return value

    def parse_created(self, body: Any) -> TaskState:
        return self._parse(body, "create")

    def get_call(self, task_id: str) -> HttpCall:
        return HttpCall("GET", f"{TASKS}/{quote(task_id, safe='')}")

    def parse_task(self, body: Any) -> TaskState:
        return self._parse(body, "task")

    def _parse(self, body: Any, what: str) -> TaskState:
        p = self.provider.name
        data = expect_dict(body, p, what)
        if isinstance(data.get("error"), dict) and "id" not in data:
            raise self.parse_error(200, data, {})  # an error envelope where a task belongs
        raw_status = data.get("status")
        if raw_status is None and what == "create":
            raw_status = "pending"
        status = _status(raw_status, p)
        results = data.get("results")
        if results is not None and not isinstance(results, list):
            raise errors.BadResponseError(f"{p} {what}: results is not a list")
        video = as_url(results[0], p) if results else None
        usage = data.get("usage")
        credits = None
        if isinstance(usage, dict):
            credits = as_float(usage.get("credits_reserved"))
            if credits is None:
                credits = as_float(usage.get("credits_used") or usage.get("credits"))
        return TaskState(
            task_id=safe_task_id(data.get("id"), p),
            status=status,
            progress=percent_fraction(data.get("progress")),
            video_url=video,
            usage=Usage(credits=credits) if credits is not None else None,
            error=_task_error(data) if status in ("failed", "cancelled", "expired") else None,
            raw=data,
            created_at=as_float(data.get("created")),
        )

    def parse_error(self, status: int, body: Any, headers: Mapping[str, str]) -> errors.APIError:
        """``{"error":{code,message,type}}``; the documented code decides the class."""
        err = super().parse_error(status, body, headers)
        cls = _CODE_CLASS.get((err.code or "").lower())
        if cls is None or type(err) is cls:
            return err
        return err.as_type(cls)


def _task_error(data: dict[str, Any]) -> TaskError | None:
    err = data.get("error")
    if isinstance(err, dict):
        code = err.get("code") or err.get("type") or data.get("status")
        return TaskError(str(code)[:100], str(err.get("message") or "")[:500] or "the task failed")
    if err not in (None, ""):
        return TaskError(str(data.get("status")), str(err)[:500])
    if data.get("status") == "failed":
        return TaskError("failed", "the task failed")
    return None


DIALECT = EvoLinkDialect
