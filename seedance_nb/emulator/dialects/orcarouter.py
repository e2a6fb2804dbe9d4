"""OrcaRouter: Ark's parameters under ``metadata``, a Kling-style envelope on reads.

Contract: https://api.orcarouter.ai/v1/video/generations, as written up in
``shared/API-NOTES.md``.

* ``POST /v1/video/generations`` ``{model, prompt, metadata{content[], ratio, duration,
  resolution, generate_audio, watermark, seed, service_tier, return_last_frame,
  callback_url}}``. A ``text`` item in ``content[]`` is replaced by the top-level prompt; the
  last frame's role is ``end_frame``. Only ``byteplus/dreamina-seedance-2-0-260128`` is
  provisioned: the other listed ids are refused (400 ``model_not_available``).
  Answer: ``{id, task_id, object:"video", model, status:"queued", progress:0, created_at}``.
* ``GET /v1/video/generations/{task_id}`` → ``{code:"success", message, data{task_id, status,
  progress:"50%", result_url, submit_time, start_time, finish_time, fail_reason}}`` with
  statuses NOT_START → SUBMITTED → IN_PROGRESS → SUCCESS | FAILURE. An unknown id answers
  404 ``{code:"task_not_exist", message, data:null}``.
* Create errors use the new-api envelope ``{"error":{message, type, code}}``. No cancel.
"""

from __future__ import annotations

import time
from typing import Any

from ... import catalog
from ..http_types import Request, Response, json_response
from ..media import url_problem
from ..store import TaskRecord
from ._gateway import GatewayRoutes, MediaItem, Outputs, Refusal, is_int, mode_of, path_id

GENERATIONS = "/v1/video/generations"
_KINDS = {"image_url": "image", "video_url": "video", "audio_url": "audio"}
_ROLES = {
    "image": ("first_frame", "end_frame", "reference_image"),
    "video": ("reference_video",),
    "audio": ("reference_audio",),
}
_TYPES = {
    401: "new_api_error",
    403: "new_api_error",
    404: "invalid_request_error",
    429: "new_api_error",
}


class OrcaRouterRoutes(GatewayRoutes):
    name = "orcarouter"
    invalid_code = "invalid_request"
    id_prefix = "task_"
    schemes = ("http://", "https://", "data:")
    quota_status = 403
    quota_code = "insufficient_user_quota"

    def envelope(self, err: Refusal, req: Request) -> Response:
        if req.method == "GET" and err.status == 404:  # reads speak the Kling envelope
            body: dict[str, Any] = {"code": err.code, "message": err.message, "data": None}
        else:
            body = {
                "error": {
                    "message": err.message,
                    "code": err.code,
                    "type": _TYPES.get(err.status, "invalid_request_error"),
                }
            }
        return json_response(body, err.status, err.headers)

    def route(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if path == GENERATIONS:
            req.route = GENERATIONS
            if req.method != "POST":
                raise Refusal(405, "method_not_allowed", f"{req.method} is not allowed here.")
            self.authorize(req, "invalid_api_key")
            return self._create(req)
        task_id = path_id(path, GENERATIONS)
        if task_id is not None:
            req.route = GENERATIONS + "/{task_id}"
            if req.method != "GET":
                raise Refusal(
                    405, "method_not_allowed", "OrcaRouter has no cancel or delete for video tasks."
                )
            self.authorize(req, "invalid_api_key")
            task = self.task(task_id)
            if task is None:
                raise Refusal(404, "task_not_exist", f"task {task_id} does not exist")
            return json_response(
                {"code": "success", "message": "", "data": self.task_data(task, req)}
            )
        raise Refusal(404, "not_found", f"Invalid URL ({req.method} {req.full_path})")

    # ----------------------------------------------------------------------------- create

    def _create(self, req: Request) -> Response:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            raise self.bad("body", "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise self.bad("body", "the request body must be a JSON object")
        self.throttle()
        model = body.get("model")
        offer = self._served_offer(model)
        meta = body.get("metadata")
        if meta is None:
            meta = {}
        if not isinstance(meta, dict):
            raise self.bad("metadata", "metadata must be an object")
        media = self._content(meta.get("content"))
        if meta.get("camera_fixed") is not None:
            raise self.bad(
                "metadata.camera_fixed", f"camera_fixed is not a field of {offer.model_id}"
            )
        mode_media = [m if m.role != "end_frame" else _as_last(m) for m in media]
        has_media = bool(mode_media)
        out = self.check(
            offer,
            body.get("prompt"),
            mode_media,
            ratio=meta.get("ratio"),
            resolution=meta.get("resolution"),
            duration=meta.get("duration"),
            audio=meta.get("generate_audio"),
            default_ratio=catalog.ADAPTIVE if has_media else "16:9",
        )
        tier = self._check_metadata(meta, offer, out)
        resolved = self.resolve(mode_media)
        task = self.start(
            model=offer.model_id,
            prompt=body["prompt"],
            mode=mode_of(mode_media),
            media=resolved,
            out=out,
            last_frame_png=bool(meta.get("return_last_frame")),
            fields={"service_tier": tier},
        )
        return json_response(
            {
                "id": task.id,
                "task_id": task.id,
                "object": "video",
                "model": offer.model_id,
                "status": "queued",
                "progress": 0,
                "created_at": int(task.created_at),
            }
        )

    def _served_offer(self, model: Any) -> catalog.Offer:
        """The offer a model id names, refused unless OrcaRouter serves it and it is live."""
        offer = self.offer_for(model)
        if offer is None:
            raise Refusal(
                400,
                "model_not_found",
                f"model {model!r} is not served by OrcaRouter; "
                f"use {self.provider.offers[catalog.DEFAULT_TIER].model_id}.",
            )
        if not offer.available:
            raise Refusal(400, "model_not_available", f"{offer.model_id} is {offer.note}.")
        return offer

    def _check_metadata(self, meta: dict[str, Any], offer: catalog.Offer, out: Outputs) -> str:
        """The flags, seed (set on ``out``), callback and service tier; returns the tier."""
        for name in ("watermark", "return_last_frame"):
            if meta.get(name) is not None and not isinstance(meta.get(name), bool):
                raise self.bad(f"metadata.{name}", f"{name} must be true or false")
        seed = meta.get("seed")
        if seed is not None and (not is_int(seed) or not -1 <= int(seed) <= 2**32 - 1):
            raise self.bad("metadata.seed", "seed must be an integer in -1..4294967295")
        out.seed = int(seed) if seed is not None and int(seed) != -1 else None
        callback = meta.get("callback_url")
        if callback is not None and (not isinstance(callback, str) or url_problem(callback)):
            raise self.bad("metadata.callback_url", "callback_url must be an http(s) URL")
        tier = meta.get("service_tier", "default")
        if tier not in offer.service_tiers:
            raise self.bad(
                "metadata.service_tier",
                f"service_tier must be one of {', '.join(offer.service_tiers)}",
            )
        return tier

    def _content(self, content: Any) -> list[MediaItem]:
        if content is None:
            return []
        if not isinstance(content, list):
            raise self.bad("metadata.content", "content must be an array")
        media: list[MediaItem] = []
        for i, item in enumerate(content):
            param = f"metadata.content[{i}]"
            if not isinstance(item, dict):
                raise self.bad(param, "each content item must be an object")
            kind_key = item.get("type")
            if kind_key == "text":
                continue  # replaced by the top-level prompt
            kind = _KINDS.get(str(kind_key))
            if kind is None:
                raise self.bad(f"{param}.type", f"unknown content type {kind_key!r}")
            holder = item.get(kind_key)
            url = holder.get("url") if isinstance(holder, dict) else None
            if not isinstance(url, str) or not url.strip():
                raise self.bad(f"{param}.{kind_key}.url", f"a {kind} url is required")
            role = item.get("role")
            if role is None:
                role = (
                    "first_frame"
                    if kind == "image" and len(content) == 1
                    else ("reference_image" if kind == "image" else _ROLES[kind][0])
                )
            if role not in _ROLES[kind]:
                raise self.bad(
                    f"{param}.role",
                    f"role {role!r} is not valid for {kind_key}; use {', '.join(_ROLES[kind])}",
                )
            media.append(MediaItem(kind, role, url.strip(), f"{param}.{kind_key}"))
        roles = [m.role for m in media]
        if roles.count("first_frame") > 1 or roles.count("end_frame") > 1:
            raise self.bad("metadata.content", "at most one first_frame and one end_frame")
        if "end_frame" in roles and "first_frame" not in roles:
            raise self.bad("metadata.content", "an end_frame image needs a first_frame image")
        if "first_frame" in roles and any(r.startswith("reference_") for r in roles):
            raise self.bad(
                "metadata.content", "first_frame/end_frame cannot be combined with reference items"
            )
        return media

    # ----------------------------------------------------------------------------- read

    def task_data(self, task: TaskRecord, req: Request) -> dict[str, Any]:
        now = time.time()
        status, updated = task.state(now)
        word = {"queued": "SUBMITTED", "running": "IN_PROGRESS", "succeeded": "SUCCESS"}.get(
            status, "FAILURE"
        )
        if status == "queued" and now - task.created_at < task.queued_s / 4:
            word = "NOT_START"  # the row exists, not yet dispatched upstream
        err = task.error(now)
        reason = ""
        if err:
            reason = f"{err['code']}: {err['message']}"
        elif status == "cancelled":
            reason = "the task was cancelled"
        data: dict[str, Any] = {
            "task_id": task.id,
            "status": word,
            "progress": f"{task.progress(now)}%",
            "result_url": "",
            "submit_time": int(task.created_at),
            "start_time": int(task.running_at) if status != "queued" else 0,
            "finish_time": int(updated) if word in ("SUCCESS", "FAILURE") else 0,
            "fail_reason": reason,
        }
        if status == "succeeded":
            data["result_url"] = self.file_url(req, task)
            if task.fields.get("return_last_frame"):
                data["last_frame_url"] = self.file_url(req, task, "last_frame.png")
            tokens = task.fields.get("tokens")
            data["usage"] = {"completion_tokens": tokens, "total_tokens": tokens}
        return data


def _as_last(m: MediaItem) -> MediaItem:
    return MediaItem(m.kind, "last_frame", m.url, m.param, m.label)


DIALECT = OrcaRouterRoutes
