"""BytePlus ModelArk / Volcengine Ark: ``/contents/generations/tasks``.

Contract: https://ark.ap-southeast.bytepluses.com/api/v3 (BytePlus) and
https://ark.cn-beijing.volces.com/api/v3 (Volcengine); this is the server side of it as
written up in ``shared/API-NOTES.md``: create, get, list (``filter.*``), delete.
The request checks live in ``ark_checks``.
Validation follows the catalog offer of the model id; error bodies are Ark's
``{"error": {"code", "message", "param", "type"}}``. Unset fields may arrive as JSON ``null``
(the official SDKs send every keyword) and unknown newer fields are accepted and ignored.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from typing import Any

from ... import catalog
from ..http_types import Request, Response, json_response
from ..media import MediaError, MediaInput
from ..service import strip_triggers, triggers
from ..store import TaskRecord
from .ark_checks import (
    DEFAULT_EXPIRES_AFTER,
    ArkError,
    bad,
    check_image,
    closest_ratio,
    error_response,
    parse_content,
    parse_outputs,
    with_model,
)
from .base import DialectRoutes

__all__ = [
    "DEFAULT_EXPIRES_AFTER",
    "DIALECT",
    "LIST_WINDOW_S",
    "STATUSES",
    "TASKS",
    "ArkError",
    "ArkRoutes",
    "closest_ratio",
    "error_response",
]

TASKS = "/contents/generations/tasks"
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "expired")
LIST_WINDOW_S = 7 * 86400


class ArkRoutes(DialectRoutes):
    """Ark's task routes under one provider's mount (BytePlus, Volcengine or the emulator)."""

    name = "ark"

    def __init__(self, service: Any, provider: catalog.Provider) -> None:
        super().__init__(service, provider)
        # Ark POSTs the GET body to callback_url on each status change
        service.register_callback_body(self.name, lambda t: self.task_json(t, service.base_url))

    def handle(self, req: Request) -> Response:
        try:
            return self._route(req)
        except ArkError as err:
            return error_response(err)

    def _route(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if path == TASKS:
            req.route = TASKS
            self._auth(req)
            if req.method == "POST":
                return self._create(req)
            if req.method == "GET":
                return self._list(req)
            raise ArkError(405, "MethodNotAllowed", f"{req.method} is not allowed on {TASKS}.")
        if path.startswith(TASKS + "/") and "/" not in path[len(TASKS) + 1 :]:
            req.route = TASKS + "/{id}"
            self._auth(req)
            task_id = urllib.parse.unquote(path[len(TASKS) + 1 :])
            if req.method == "GET":
                return json_response(self.task_json(self._task(task_id), req.base_url))
            if req.method == "DELETE":
                return self._delete(task_id)
            raise ArkError(405, "MethodNotAllowed", f"{req.method} is not allowed on a task.")
        raise ArkError(
            404, "NotFound", f"The requested resource {req.method} {path} does not exist."
        )

    # ----------------------------------------------------------------------------- helpers

    def _auth(self, req: Request) -> None:
        verdict = self.service.check_bearer(req.headers.get("Authorization"))
        if verdict == "missing":
            raise ArkError(
                401, "AuthenticationError", "The API key in the request is missing or invalid."
            )
        if verdict == "invalid":
            raise ArkError(401, "AuthenticationError", "The API key in the request is invalid.")

    def _task(self, task_id: str) -> TaskRecord:
        task = self.service.get(task_id)
        if task is None or task.dialect != self.name or task.provider != self.provider.name:
            raise ArkError(
                404, "ResourceNotFound", f"The specified task {task_id} is not found.", "id"
            )
        return task

    def _offer(self, model: str) -> catalog.Offer:
        p = self.provider
        tier = p.tier_for_model_id(model)
        if tier is not None:
            return p.offers[tier]
        if any(model.startswith(x) for x in p.passthrough_ids):
            base = p.offers[catalog.DEFAULT_TIER]
            return with_model(base, model)
        hint = ""
        for other in catalog.PROVIDERS.values():
            if (
                other.dialect == "ark"
                and other.name not in (p.name, "emulator")
                and other.tier_for_model_id(model)
            ):
                hint = f" ({model} is a {other.label} model id; this endpoint serves {p.label}.)"
        raise ArkError(
            404,
            "InvalidEndpointOrModel.NotFound",
            f"The model or endpoint {model} does not exist or you do not have access to it.{hint}",
            "model",
        )

    # ----------------------------------------------------------------------------- create

    def _create(self, req: Request) -> Response:
        body = self._body(req)
        model = body.get("model")
        if model is None or model == "":
            raise bad("model", "the model is required.", "MissingParameter")
        if not isinstance(model, str):
            raise bad("model", "the model must be a string.")
        offer = self._offer(model.strip())
        parsed = parse_content(body.get("content"), offer)
        prompt, mode = parsed["text"], parsed["mode"]
        if "input-moderation" in triggers(prompt):
            raise ArkError(
                400,
                "InputTextSensitiveContentDetected",
                "The request failed because the input text may contain sensitive information.",
            )
        out = parse_outputs(body, offer, mode)
        resolved = self._resolve(parsed["media"])
        ratio = out["ratio"]
        if ratio == catalog.ADAPTIVE:
            sized = [m for m in resolved if m.kind in ("image", "video") and m.size]
            frames_first = [m for m in sized if m.role == "first_frame"]
            ratio = closest_ratio((frames_first or sized)[0].size if sized else None)
        task = self.service.create_task(
            dialect=self.name,
            provider=self.provider.name,
            model=model.strip(),
            prompt=prompt,
            render=_render_spec(model, prompt, out, ratio, resolved),
            fields=_fields(out, ratio, mode),
            expires_after=out["execution_expires_after"],
        )
        return json_response({"id": task.id})

    def _body(self, req: Request) -> dict[str, Any]:
        """The JSON object of a create; the endpoint's rate limit is checked after parsing."""
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            raise ArkError(400, "InvalidParameter", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise ArkError(400, "InvalidParameter", "The request body must be a JSON object.")
        wait = self.service.rate_limited()
        if wait is not None:
            raise ArkError(
                429,
                "RateLimitExceeded.EndpointRPMExceeded",
                "The request rate exceeds the endpoint's RPM limit; retry later.",
                headers={"Retry-After": str(wait)},
            )
        return body

    def _resolve(self, media: list[dict[str, Any]]) -> list[MediaInput]:
        """Fetch every media item; an unreadable or out-of-limits one is a 400 on its param."""
        resolved: list[MediaInput] = []
        for item in media:
            try:
                m = self.service.resolve_media(
                    item["url"], item["kind"], item["role"], item["label"]
                )
            except MediaError as exc:
                raise bad(item["param"], str(exc) + ".") from None
            check_image(m, item["param"])
            resolved.append(m)
        return resolved

    # ----------------------------------------------------------------------------- read

    def task_json(
        self, task: TaskRecord, base_url: str, now: float | None = None
    ) -> dict[str, Any]:
        """The Ark task object; a succeeded task gets freshly signed file URLs each time."""
        now = time.time() if now is None else now
        status, updated = task.state(now)
        f = task.fields
        out: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "status": status,
            "error": task.error(now),
        }
        if status == "succeeded":
            content = {"video_url": self.service.signed_url(base_url, task.id, "video.mp4")}
            if f.get("return_last_frame"):
                content["last_frame_url"] = self.service.signed_url(
                    base_url, task.id, "last_frame.png"
                )
            out["content"] = content
            out["usage"] = {"completion_tokens": f["tokens"], "total_tokens": f["tokens"]}
        out["created_at"] = int(task.created_at)
        out["updated_at"] = int(updated)
        for key in (
            "seed",
            "resolution",
            "ratio",
            "duration",
            "frames",
            "framespersecond",
            "generate_audio",
            "camera_fixed",
            "watermark",
            "service_tier",
            "execution_expires_after",
        ):
            if key in f:
                out[key] = f[key]
        return out

    def _list(self, req: Request) -> Response:
        def int_arg(name: str, default: int, lo: int, hi: int) -> int:
            raw = req.arg(name)
            if raw is None or raw == "":
                return default
            if not re.fullmatch(r"\d+", raw.strip()) or not lo <= int(raw) <= hi:
                raise bad(name, f"{raw!r} must be an integer in {lo}-{hi}.")
            return int(raw)

        page_num = int_arg("page_num", 1, 1, 10**6)
        page_size = int_arg("page_size", 10, 1, 500)
        status = req.arg("filter.status")
        if status and status not in STATUSES:
            raise bad("filter.status", f"{status!r} is not a task status ({', '.join(STATUSES)}).")
        ids = [i for v in req.query.get("filter.task_ids", []) for i in v.split(",") if i.strip()]
        model = req.arg("filter.model")
        now = time.time()
        tasks = self.service.tasks(
            dialect=self.name,
            providers=[self.provider.name],
            since=now - LIST_WINDOW_S,
            models=[model] if model else None,
            ids=[i.strip() for i in ids] if ids else None,
        )
        if status:
            tasks = [t for t in tasks if t.status(now) == status]
        page = tasks[(page_num - 1) * page_size : page_num * page_size]
        return json_response(
            {"total": len(tasks), "items": [self.task_json(t, req.base_url, now) for t in page]}
        )

    def _delete(self, task_id: str) -> Response:
        task = self._task(task_id)
        status = task.status()
        if status == "queued":
            self.service.cancel(task.id)
            return json_response({})
        if status in ("succeeded", "failed", "expired"):
            self.service.delete(task.id)
            return json_response({})
        raise ArkError(
            409,
            "OperationDenied.InvalidState",
            f"The task {task.id} is {status}: only queued tasks can be cancelled "
            "and only succeeded, failed or expired tasks deleted.",
            "id",
        )


def _render_spec(
    model: str, prompt: str, out: dict[str, Any], ratio: str, resolved: list[MediaInput]
) -> dict[str, Any]:
    """What the renderer draws: size, length, header line, frames and references."""
    width, height = catalog.PIXELS[(ratio, out["resolution"])]
    frames = out["frames"] if out["frames"] is not None else out["duration"] * catalog.FPS
    first = next((m for m in resolved if m.role == "first_frame"), None)
    last = next((m for m in resolved if m.role == "last_frame"), None)
    refs = [m for m in resolved if m.role.startswith("reference_")]
    length = f"{out['duration']} s" if out["frames"] is None else f"{out['frames']} frames"
    header = f"{model} · {out['resolution']} {ratio} · {length}"
    if out["generate_audio"]:
        header += " · ♪ audio"
    return {
        "prompt": strip_triggers(prompt),
        "width": width,
        "height": height,
        "frames": frames,
        "fps": catalog.FPS,
        "audio": bool(out["generate_audio"]),
        "header": header,
        "seed": out["seed"] if out["seed_given"] else None,
        "first_frame": first.as_json() if first else None,
        "last_frame": last.as_json() if last else None,
        "refs": [m.as_json() for m in refs],
        "last_frame_png": bool(out["return_last_frame"]),
    }


def _fields(out: dict[str, Any], ratio: str, mode: str) -> dict[str, Any]:
    """The task fields Ark echoes on reads (and the token usage it bills)."""
    width, height = catalog.PIXELS[(ratio, out["resolution"])]
    frames = out["frames"] if out["frames"] is not None else out["duration"] * catalog.FPS
    fields: dict[str, Any] = {
        "seed": out["seed"],
        "resolution": out["resolution"],
        "ratio": ratio,
        "framespersecond": catalog.FPS,
        "generate_audio": bool(out["generate_audio"]),
        "service_tier": out["service_tier"],
        "execution_expires_after": out["execution_expires_after"],
        "return_last_frame": bool(out["return_last_frame"]),
        "tokens": catalog.estimate_tokens(width, height, frames / catalog.FPS),
        "mode": mode,
        "callback_url": out["callback_url"],
    }
    if out["frames"] is not None:
        fields["frames"] = out["frames"]
    else:
        fields["duration"] = out["duration"]
    if out["camera_fixed"] is not None:
        fields["camera_fixed"] = out["camera_fixed"]
    if out["watermark"] is not None:
        fields["watermark"] = out["watermark"]
    return fields


DIALECT = ArkRoutes
