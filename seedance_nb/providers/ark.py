"""BytePlus ModelArk / Volcengine Ark: ``/contents/generations/tasks``.

Docs: https://ark.ap-southeast.bytepluses.com/api/v3/contents/generations/tasks (ModelArk).

The reference dialect: the only one with a batch status read (``filter.task_ids``) and a
listing we can reconcile an ambiguous create against. The emulator speaks it too.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

from ..errors import BadResponseError
from ..request import VideoRequest, schema
from .base import (
    Dialect,
    Fetch,
    HttpCall,
    as_float,
    as_int,
    as_url,
    check_status,
    expect_dict,
    safe_task_id,
)
from .task import TaskError, TaskState, Usage

TASKS = "/contents/generations/tasks"
_NOT_OUTPUT = ("media", "media_list", "mapping")
_STATUS_ALIASES = {"processing": "running", "pending": "queued", "in_progress": "running"}


def content_items(
    request: VideoRequest, *, include_text: bool = True, last_frame_role: str = "last_frame"
) -> list[dict[str, Any]]:
    """The ``content[]`` array: text first, then media in the order references count them."""
    items: list[dict[str, Any]] = []
    if include_text:
        items.append({"type": "text", "text": request.prompt})
    for ref in request.media:
        key = f"{ref.kind}_url"
        url = ref.data_url() if ref.is_local else ref.url
        role = last_frame_role if ref.role in ("last_frame", "end_frame") else ref.role
        items.append({"type": key, key: {"url": url}, "role": role})
    return items


def output_fields(request: VideoRequest) -> dict[str, Any]:
    """The output parameters Ark-shaped bodies share, named as in the schema (Ark's names are
    ours); unset ones are left out. Media, the model and provider options travel elsewhere."""
    body: dict[str, Any] = {}
    for param in schema.PARAMS:
        if param.name == "model" or param.kind in _NOT_OUTPUT:
            continue
        value = getattr(request, param.name)
        if value is not None:
            body[param.name] = value
    return body


class ArkDialect(Dialect):
    name = "ark"
    batch_size: ClassVar[int] = 100
    reconcile_page_size: ClassVar[int] = 100

    async def create_call(self, request: VideoRequest, fetch: Fetch) -> HttpCall:
        body: dict[str, Any] = {"model": request.model_id, "content": content_items(request)}
        body.update(output_fields(request))
        body.update(request.options)
        return HttpCall("POST", TASKS, json=body, idempotent=False)

    def parse_created(self, body: Any) -> TaskState:
        data = expect_dict(body, self.provider.name, "create")
        return TaskState(
            task_id=safe_task_id(data.get("id"), self.provider.name), status="queued", raw=data
        )

    def get_call(self, task_id: str) -> HttpCall:
        return HttpCall("GET", f"{TASKS}/{quote(task_id, safe='')}")

    def parse_task(self, body: Any) -> TaskState:
        data = expect_dict(body, self.provider.name, "task")
        p = self.provider.name
        status = data.get("status")
        status = _STATUS_ALIASES.get(status, status) if isinstance(status, str) else status
        content = data.get("content") if isinstance(data.get("content"), dict) else {}
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        err = data.get("error") if isinstance(data.get("error"), dict) else None
        return TaskState(
            task_id=safe_task_id(data.get("id"), p),
            status=check_status(status, p),
            video_url=as_url(content.get("video_url"), p),
            last_frame_url=as_url(content.get("last_frame_url"), p),
            usage=Usage(
                completion_tokens=as_int(usage.get("completion_tokens")),
                total_tokens=as_int(usage.get("total_tokens")),
            )
            if usage
            else None,
            seed=as_int(data.get("seed")),
            error=TaskError(str(err.get("code") or "Error"), str(err.get("message") or ""))
            if err
            else None,
            raw=data,
            created_at=as_float(data.get("created_at")),
            updated_at=as_float(data.get("updated_at")),
        )

    def list_call(self, task_ids: list[str]) -> HttpCall:
        params = [("page_num", "1"), ("page_size", str(max(len(task_ids), 1)))]
        params += [("filter.task_ids", t) for t in task_ids]
        return HttpCall("GET", TASKS, params=params)

    def list_items(self, body: Any) -> list[Any]:
        data = expect_dict(body, self.provider.name, "list")
        items = data.get("items")
        if not isinstance(items, list):  # a listing without items is not an empty listing
            raise BadResponseError(f"{self.provider.name} list: items is not a list")
        return items

    def reconcile_call(self, request: VideoRequest, page: int) -> HttpCall | None:
        params = [
            ("page_num", str(page)),
            ("page_size", str(self.reconcile_page_size)),
            ("filter.model", request.model_id),
        ]
        return HttpCall("GET", TASKS, params=params)

    def parse_reconcile(self, body: Any) -> tuple[list[TaskState], bool]:
        data = expect_dict(body, self.provider.name, "list")
        tasks = self.parse_list(data)
        total = as_int(data.get("total")) or 0
        return tasks, len(tasks) >= self.reconcile_page_size and total > len(tasks)

    def matches(self, request: VideoRequest, task: TaskState) -> bool:
        raw = task.raw
        wanted: dict[str, Any] = {
            "model": request.model_id,
            "resolution": request.resolution,
            "duration": request.duration if request.duration != -1 else None,
        }
        if request.ratio != "adaptive":
            wanted["ratio"] = request.ratio
        if request.seed is not None and request.seed != -1:
            wanted["seed"] = request.seed
        if request.generate_audio is not None:
            wanted["generate_audio"] = request.generate_audio
        if request.service_tier is not None:
            wanted["service_tier"] = request.service_tier
        for key, value in wanted.items():
            if value is None or key not in raw:
                continue
            if raw[key] != value:
                return False
        return True

    def cancel_call(self, task_id: str) -> HttpCall | None:
        return HttpCall("DELETE", f"{TASKS}/{quote(task_id, safe='')}")


DIALECT = ArkDialect
