"""EvoLink: ``POST /v1/videos/generations`` where the model id names the mode.

Contract: EvoLink's OpenAPI at https://docs.evolink.ai (``shared/API-NOTES.md``).

* Nine wire ids ``seedance-2.0[-fast|-mini]-{text|image|reference}-to-video``. ``text``
  takes no media; ``image`` takes ``image_urls`` = [first] or [first, last]; ``reference``
  takes ``image_urls`` (0-9), ``video_urls`` (0-3), ``audio_urls`` (0-3, never alone). Fields
  ``duration`` (4-15, default 5), ``quality`` (default 720p; 1080p standard tier only),
  ``aspect_ratio`` (default 16:9, adaptive allowed), ``generate_audio`` (default **true**),
  ``content_filter``, ``model_params.web_search`` (text-to-video, standard and fast only),
  ``callback_url`` (https, at most 2048 characters). Media are fetched URLs (http(s)).
  Answer: ``{id, model, object:"video.generation.task", status:"pending", progress, created,
  task_info{can_cancel, estimated_time, video_duration}, type, usage{billing_rule,
  credits_reserved, user_group}}``.
* ``GET /v1/tasks/{id}`` → the same object with status ``pending|processing|completed|failed``
  and ``results`` = [video URL] once completed; ``error{code, message, type}`` on failure.
* Errors ``{"error":{code, message, type}}``: 400 ``invalid_request``, 401 ``unauthorized``,
  402 ``insufficient_quota`` (prompt trigger ``[[quota]]``), 403 ``model_access_denied`` (a
  Seedance id EvoLink does not sell, such as ``seedance-1.5-pro-text-to-video``), 404
  ``task_not_found``, 429 ``rate_limit_exceeded``. No cancel endpoint.
"""

from __future__ import annotations

import re
import time
from typing import Any

from ..http_types import Request, Response, json_response
from ..media import url_problem
from ..store import TaskRecord
from ._gateway import GatewayRoutes, MediaItem, Refusal, mode_of, path_id

GENERATIONS = "/v1/videos/generations"
TASKS = "/v1/tasks"
MODEL_RE = re.compile(r"^(seedance-[0-9.]+(?:-[a-z]+)?)-(text|image|reference)-to-video$")
_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "insufficient_quota",
    403: "invalid_request_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
}
_WEB_SEARCH_TIERS = frozenset({"seedance-2.0", "seedance-2.0-fast"})
_CREDITS_PER_S = {"480p": 4.0, "720p": 8.0, "1080p": 18.0}


class EvoLinkRoutes(GatewayRoutes):
    name = "evolink"
    invalid_code = "invalid_request"
    id_prefix = "task-unified-"

    def envelope(self, err: Refusal, req: Request) -> Response:
        body = {
            "error": {
                "code": err.code,
                "message": err.message,
                "type": _TYPES.get(err.status, "invalid_request_error"),
            }
        }
        return json_response(body, err.status, err.headers)

    def route(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if path == GENERATIONS:
            req.route = GENERATIONS
            if req.method != "POST":
                raise Refusal(405, "invalid_request", f"{req.method} is not allowed here.")
            self.authorize(req)
            return self._create(req)
        task_id = path_id(path, TASKS)
        if task_id is not None:
            req.route = TASKS + "/{task_id}"
            if req.method != "GET":
                raise Refusal(
                    405,
                    "invalid_request",
                    "EvoLink has no cancel or delete endpoint for video tasks.",
                )
            self.authorize(req)
            task = self.task(task_id)
            if task is None:
                raise Refusal(404, "task_not_found", f"Task {task_id} not found.")
            return json_response(self.task_json(task, req))
        raise Refusal(404, "not_found", f"No route for {req.method} {req.full_path}.")

    # ----------------------------------------------------------------------------- create

    def _create(self, req: Request) -> Response:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            raise self.bad("body", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise self.bad("body", "The request body must be a JSON object.")
        self.throttle()
        model = body.get("model")
        match = MODEL_RE.match(model) if isinstance(model, str) else None
        if match is None:
            raise self.bad(
                "model",
                f"Invalid model {model!r}: use seedance-2.0[-fast|-mini]-"
                "{text|image|reference}-to-video.",
            )
        tier, word = match.group(1), match.group(2)
        offer = self.provider.offer(tier)
        if offer is None:
            raise Refusal(
                403, "model_access_denied", f"Your token has no access to model {model}.", "model"
            )
        media = self._media(body, word)
        out = self.check(
            offer,
            body.get("prompt"),
            media,
            ratio=body.get("aspect_ratio"),
            resolution=body.get("quality"),
            duration=body.get("duration"),
            audio=body.get("generate_audio"),
            default_audio=True,
        )
        self._check_extras(body, tier, word)
        resolved = self.resolve(media)
        credits = round(
            _CREDITS_PER_S[out.resolution]
            * out.duration
            * (0.6 if tier != "seedance-2.0" else 1.0),
            2,
        )
        task = self.start(
            model=str(model),
            prompt=body["prompt"],
            mode=mode_of(media),
            media=resolved,
            out=out,
            fields={"credits": credits},
        )
        return json_response(self.task_json(task, req))

    def _check_extras(self, body: dict[str, Any], tier: str, word: str) -> None:
        """EvoLink's own fields: ``content_filter``, ``model_params.web_search``, the callback."""
        for name in ("content_filter",):
            if body.get(name) is not None and not isinstance(body.get(name), bool):
                raise self.bad(name, f"{name} must be true or false.")
        params = body.get("model_params")
        if params is not None:
            if not isinstance(params, dict):
                raise self.bad("model_params", "model_params must be an object.")
            web = params.get("web_search")
            if web is not None and not isinstance(web, bool):
                raise self.bad("model_params.web_search", "web_search must be true or false.")
            if web and (word != "text" or tier not in _WEB_SEARCH_TIERS):
                raise self.bad(
                    "model_params.web_search",
                    "web_search applies to seedance-2.0 and seedance-2.0-fast text-to-video only.",
                )
        callback = body.get("callback_url")
        if callback is not None and (
            not isinstance(callback, str)
            or not callback.startswith("https://")
            or len(callback) > 2048
        ):
            raise self.bad(
                "callback_url", "callback_url must be an https URL of at most 2048 characters."
            )
        problem = url_problem(callback) if isinstance(callback, str) else None
        if problem is not None:
            raise self.bad("callback_url", f"callback_url is not a valid URL: {problem}.")

    def _media(self, body: dict[str, Any], word: str) -> list[MediaItem]:
        lists: dict[str, list[str]] = {}
        for key in ("image_urls", "video_urls", "audio_urls"):
            value = body.get(key)
            if value is None:
                continue
            if not isinstance(value, list) or not all(isinstance(u, str) and u for u in value):
                raise self.bad(key, f"{key} must be an array of URLs.")
            if value:
                lists[key] = [u.strip() for u in value]
        if word == "text" and lists:
            raise self.bad(
                next(iter(lists)),
                "text-to-video models take no image_urls, video_urls or audio_urls.",
            )
        if word == "image":
            if set(lists) - {"image_urls"}:
                raise self.bad("video_urls", "image-to-video models take image_urls only.")
            images = lists.get("image_urls", [])
            if not 1 <= len(images) <= 2:
                raise self.bad(
                    "image_urls",
                    "image-to-video takes 1 or 2 image_urls (first frame, then last frame).",
                )
            roles = ("first_frame", "last_frame")
            return [
                MediaItem("image", roles[i], u, f"image_urls[{i}]") for i, u in enumerate(images)
            ]
        media: list[MediaItem] = []
        for key, kind in (
            ("image_urls", "image"),
            ("video_urls", "video"),
            ("audio_urls", "audio"),
        ):
            media += [
                MediaItem(kind, f"reference_{kind}", u, f"{key}[{i}]")
                for i, u in enumerate(lists.get(key, []))
            ]
        if word == "reference" and not media:
            raise self.bad("image_urls", "reference-to-video needs image_urls or video_urls.")
        return media

    # ----------------------------------------------------------------------------- read

    def task_json(self, task: TaskRecord, req: Request) -> dict[str, Any]:
        now = time.time()
        status = task.status(now)
        word = {"queued": "pending", "running": "processing", "succeeded": "completed"}.get(
            status, "failed"
        )
        f = task.fields
        remaining = max(0, int(task.finish_at - now))
        out: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "object": "video.generation.task",
            "status": word,
            "progress": task.progress(now),
            "created": int(task.created_at),
            "task_info": {
                "can_cancel": False,
                "estimated_time": remaining,
                "video_duration": f.get("duration"),
            },
            "type": "video",
            "usage": {
                "billing_rule": "per_second",
                "credits_reserved": f.get("credits"),
                "user_group": "default",
            },
        }
        if status == "succeeded":
            out["results"] = [self.file_url(req, task)]
        err = task.error(now)
        if err is not None:
            out["error"] = {"code": err["code"], "message": err["message"], "type": "task_error"}
        elif status == "cancelled":
            out["error"] = {
                "code": "cancelled",
                "message": "The task was cancelled.",
                "type": "task_error",
            }
        return out


DIALECT = EvoLinkRoutes
