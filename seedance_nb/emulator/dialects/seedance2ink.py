"""seedance2.ink Open API: camelCase JSON and a ``success`` flag on every answer.

Contract: https://www.seedance2.ink/api/open/v1 (``POST /video/generations``), as written
up in ``shared/API-NOTES.md``.

Mounted at ``/seedance2ink/api/open/v1``:

* ``POST /video/generations`` ``{model (seedance-2.0, seedance-2.0-fast, seedance-1.5-pro),
  prompt, mediaUrls (1-5 public http(s) URLs, no roles; omit for text-to-video), aspectRatio
  (16:9, 9:16, 1:1; default 16:9), duration (2.0: 4-15, 1.5-pro: 5 or 10; default 5),
  resolution (480p/720p/1080p; default 720p), webhookUrl, metadata}`` →
  ``{success, requestId, status:"queued", creditsCharged}``.
* ``GET /video/generations/{requestId}`` → ``{success, requestId, status queued|processing|
  succeeded|failed|cancelled, model, prompt, duration, aspectRatio, resolution,
  output{type:"video", url} | null, error, creditsCharged, createdAt, updatedAt, metadata}``.
* ``POST /video/generations/{requestId}/cancel`` (queued or processing) →
  ``{success, requestId, status:"cancelled"}``; a finished task answers 400 ``INVALID_STATUS``.
* Errors: ``{"success": false, "error": {"code", "message"}}`` — 400 ``INVALID_REQUEST``, 401
  ``UNAUTHORIZED``, 402 ``INSUFFICIENT_CREDITS`` (``[[quota]]``), 404 ``NOT_FOUND``, 429.

The wire carries no roles, so the emulator reads ``mediaUrls`` as the client composes them:
one image is a first frame, two images are first and last frame, anything else (more images,
or any video/audio, told apart by extension or, for loopback URLs, by magic bytes) references.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from ..http_types import Request, Response, json_response
from ..media import fetch_loopback, is_loopback, url_problem
from ..store import TaskRecord
from ._gateway import GatewayRoutes, MediaItem, Refusal, mode_of, path_id

GENERATIONS = "/video/generations"
_EXT = {
    "image": (".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp"),
    "video": (".mp4", ".mov", ".m4v"),
    "audio": (".mp3", ".wav"),
}
_CREDITS_PER_S = {"480p": 6, "720p": 12, "1080p": 26}


def sniff_kind(data: bytes | None) -> str | None:
    if not data:
        return None
    if data.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    ):
        return "image"
    if data[4:8] == b"ftyp":
        return "video"
    if data.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3")) or (
        data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    ):
        return "audio"
    return None


def media_kind(url: str) -> str | None:
    """image | video | audio from the URL's extension, else (loopback only) its bytes."""
    path = urllib.parse.urlsplit(url).path.lower()
    for kind, exts in _EXT.items():
        if path.endswith(exts):
            return kind
    if is_loopback(urllib.parse.urlsplit(url).hostname or ""):
        return sniff_kind(fetch_loopback(url))
    return None


class Seedance2InkRoutes(GatewayRoutes):
    name = "seedance2ink"
    invalid_code = "INVALID_REQUEST"
    id_prefix = "req_"
    quota_code = "INSUFFICIENT_CREDITS"

    def envelope(self, err: Refusal, req: Request) -> Response:
        body = {"success": False, "error": {"code": err.code, "message": err.message}}
        return json_response(body, err.status, err.headers)

    def route(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if path == GENERATIONS:
            req.route = GENERATIONS
            if req.method != "POST":
                raise Refusal(405, "METHOD_NOT_ALLOWED", f"{req.method} is not allowed here.")
            self.authorize(req, "UNAUTHORIZED")
            return self._create(req)
        if path.endswith("/cancel"):
            task_id = path_id(path[: -len("/cancel")], GENERATIONS)
            if task_id is not None:
                req.route = GENERATIONS + "/{requestId}/cancel"
                if req.method != "POST":
                    raise Refusal(405, "METHOD_NOT_ALLOWED", "Cancel is a POST.")
                self.authorize(req, "UNAUTHORIZED")
                return self._cancel(self._task(task_id))
        task_id = path_id(path, GENERATIONS)
        if task_id is not None:
            req.route = GENERATIONS + "/{requestId}"
            if req.method != "GET":
                raise Refusal(405, "METHOD_NOT_ALLOWED", f"{req.method} is not allowed here.")
            self.authorize(req, "UNAUTHORIZED")
            return json_response(self.task_json(self._task(task_id), req))
        raise Refusal(404, "NOT_FOUND", f"No route for {req.method} {req.full_path}.")

    def _task(self, task_id: str) -> TaskRecord:
        task = self.task(task_id)
        if task is None:
            raise Refusal(404, "NOT_FOUND", f"Task {task_id} not found.")
        return task

    # ----------------------------------------------------------------------------- create

    def _create(self, req: Request) -> Response:
        try:
            body = req.json()
        except (ValueError, UnicodeDecodeError):
            raise self.bad("body", "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise self.bad("body", "The request body must be a JSON object.")
        self.throttle("RATE_LIMITED")
        model = body.get("model")
        offer = self.offer_for(model)
        if offer is None:
            names = ", ".join(o.model_id for o in self.provider.offers.values())
            raise self.bad("model", f"model must be one of {names}.")
        media = self._media(body.get("mediaUrls"))
        out = self.check(
            offer,
            body.get("prompt"),
            media,
            ratio=body.get("aspectRatio"),
            resolution=body.get("resolution"),
            duration=body.get("duration"),
        )
        webhook = body.get("webhookUrl")
        if webhook is not None and (
            not isinstance(webhook, str) or not webhook.startswith(("https://", "http://"))
        ):
            raise self.bad("webhookUrl", "webhookUrl must be an http(s) URL.")
        problem = url_problem(webhook) if isinstance(webhook, str) else None
        if problem is not None:
            raise self.bad("webhookUrl", f"webhookUrl is not a valid URL: {problem}.")
        metadata = body.get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise self.bad("metadata", "metadata must be an object.")
        resolved = self.resolve(media)
        credits = _CREDITS_PER_S[out.resolution] * out.duration
        task = self.start(
            model=offer.model_id,
            prompt=body["prompt"],
            mode=mode_of(media),
            media=resolved,
            out=out,
            fields={"credits": credits, "metadata": metadata, "prompt": body["prompt"]},
        )
        return json_response(
            {"success": True, "requestId": task.id, "status": "queued", "creditsCharged": credits}
        )

    def _media(self, urls: Any) -> list[MediaItem]:
        if urls is None:
            return []
        if not isinstance(urls, list) or not all(isinstance(u, str) and u.strip() for u in urls):
            raise self.bad("mediaUrls", "mediaUrls must be an array of URLs.")
        if not urls:
            return []
        if len(urls) > 5:
            raise self.bad("mediaUrls", f"mediaUrls takes 1 to 5 URLs, got {len(urls)}.")
        kinds: list[str] = []
        for i, url in enumerate(urls):
            if not url.strip().startswith(("http://", "https://")):
                raise self.bad(f"mediaUrls[{i}]", "media must be public http(s) URLs.")
            problem = url_problem(url.strip())
            if problem is not None:
                raise self.bad(f"mediaUrls[{i}]", f"mediaUrls[{i}] is not a valid URL: {problem}.")
            kind = media_kind(url.strip())
            if kind is None:
                raise self.bad(
                    f"mediaUrls[{i}]",
                    "unsupported media type; use .jpg .png .webp "
                    ".gif .bmp, .mp4 .mov .m4v or .mp3 .wav.",
                )
            kinds.append(kind)
        if all(k == "image" for k in kinds) and len(kinds) <= 2:
            roles = ["first_frame", "last_frame"][: len(kinds)]
        else:
            roles = [f"reference_{k}" for k in kinds]
        return [
            MediaItem(k, r, u.strip(), f"mediaUrls[{i}]")
            for i, (k, r, u) in enumerate(zip(kinds, roles, urls, strict=True))
        ]

    # ----------------------------------------------------------------------------- read

    def task_json(self, task: TaskRecord, req: Request) -> dict[str, Any]:
        now = time.time()
        status, updated = task.state(now)
        word = {
            "queued": "queued",
            "running": "processing",
            "succeeded": "succeeded",
            "cancelled": "cancelled",
        }.get(status, "failed")
        f = task.fields
        err = task.error(now)
        return {
            "success": True,
            "requestId": task.id,
            "status": word,
            "model": task.model,
            "prompt": f.get("prompt"),
            "duration": f.get("duration"),
            "aspectRatio": f.get("ratio"),
            "resolution": f.get("resolution"),
            "output": {"type": "video", "url": self.file_url(req, task)}
            if status == "succeeded"
            else None,
            "error": {"code": err["code"], "message": err["message"]} if err else None,
            "creditsCharged": 0 if status == "cancelled" else f.get("credits"),
            "createdAt": int(task.created_at),
            "updatedAt": int(updated),
            "metadata": f.get("metadata"),
        }

    def _cancel(self, task: TaskRecord) -> Response:
        status = task.status()
        if status == "cancelled":
            return json_response({"success": True, "requestId": task.id, "status": "cancelled"})
        if status not in ("queued", "running"):
            raise Refusal(
                400, "INVALID_STATUS", f"Task {task.id} is {status} and can no longer be cancelled."
            )
        self.service.cancel(task.id)
        return json_response({"success": True, "requestId": task.id, "status": "cancelled"})


DIALECT = Seedance2InkRoutes
