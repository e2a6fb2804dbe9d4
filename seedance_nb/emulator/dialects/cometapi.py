"""CometAPI: multipart ``POST /v1/videos`` with the first frame as a file part.

Contract: https://api.cometapi.com/v1/videos, as written up in ``shared/API-NOTES.md``.

* ``POST /v1/videos`` as ``multipart/form-data`` (``application/x-www-form-urlencoded`` is read
  too): ``prompt``, ``model`` (``doubao-seedance-2-0[-fast]``, ``doubao-seedance-1-5-pro``,
  ``doubao-seedance-1-0-pro``), ``seconds`` (default 5; 2.0: 4-15, 1.5: 4-12, 1.0: 2-10),
  ``size`` (the ratio, default 16:9, no adaptive), ``resolution`` (default 720p; 1080p on 1.x
  only) and ``input_reference``: a JPEG/PNG/WebP **file part**, the first frame, 2.0 models
  only (a 1.x model answers 400 ``the specified task_type r2v does not support model …``).
  Answer: ``{id, task_id, object:"video", model, status:"SUBMITTED", progress:0, created_at}``.
* ``GET /v1/videos/{id}`` → ``{id, model, object, status SUBMITTED|IN_PROGRESS|SUCCESS|FAILED|
  ERROR, progress (int), created_at, completed_at, video_url}``; an unknown id answers HTTP 400
  ``task_not_exist``.
* Errors: ``{"code", "message", "data": null}`` for parameter and task errors,
  ``{"error": {message, type, code}}`` for auth (the seed's "two formats"). No cancel.
"""

from __future__ import annotations

import base64
import time
import urllib.parse
from email import policy
from email.parser import BytesParser
from typing import Any

from ..http_types import Request, Response, json_response
from ..store import TaskRecord
from ._gateway import GatewayRoutes, MediaItem, Refusal, path_id

VIDEOS = "/v1/videos"
_UPLOAD_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


def sniff_image(data: bytes) -> str | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def parse_form(req: Request) -> tuple[dict[str, str], dict[str, tuple[str, bytes]]]:
    """Text fields and file parts ``(filename, bytes)`` of a multipart or urlencoded body."""
    ctype = req.headers.get("Content-Type") or ""
    if ctype.lower().startswith("application/x-www-form-urlencoded"):
        pairs = urllib.parse.parse_qsl(req.body.decode("utf-8", "replace"), keep_blank_values=True)
        return dict(pairs), {}
    if not ctype.lower().startswith("multipart/form-data"):
        raise Refusal(
            400,
            "InvalidParameter",
            "the body must be multipart/form-data (curl -F).",
            "Content-Type",
        )
    head = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = BytesParser(policy=policy.HTTP).parsebytes(head + req.body)
    if not msg.is_multipart():
        raise Refusal(400, "InvalidParameter", "malformed multipart body.", "body")
    fields: dict[str, str] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True) or b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, payload)
        else:
            fields[name] = payload.decode("utf-8", "replace")
    return fields, files


class CometAPIRoutes(GatewayRoutes):
    name = "cometapi"
    invalid_code = "InvalidParameter"
    id_prefix = "task_"
    schemes = ("data:",)  # only the uploaded file, carried internally as a data: URL
    quota_status = 403
    quota_code = "insufficient_user_quota"

    def envelope(self, err: Refusal, req: Request) -> Response:
        if err.status in (401, 403, 429):
            body: dict[str, Any] = {
                "error": {"message": err.message, "type": "comet_api_error", "code": err.code}
            }
        else:
            body = {"code": err.code, "message": err.message, "data": None}
        return json_response(body, err.status, err.headers)

    def route(self, req: Request) -> Response:
        path = req.path.rstrip("/") or "/"
        if path == VIDEOS:
            req.route = VIDEOS
            if req.method != "POST":
                raise Refusal(405, "method_not_allowed", f"{req.method} is not allowed here.")
            self.authorize(req, "invalid_api_key")
            return self._create(req)
        task_id = path_id(path, VIDEOS)
        if task_id is not None:
            req.route = VIDEOS + "/{id}"
            if req.method != "GET":
                raise Refusal(
                    405, "method_not_allowed", "CometAPI has no cancel or delete for video tasks."
                )
            self.authorize(req, "invalid_api_key")
            task = self.task(task_id)
            if task is None:
                raise Refusal(400, "task_not_exist", "task_not_exist")
            return json_response(self.task_json(task, req))
        raise Refusal(404, "not_found", f"Invalid URL ({req.method} {req.full_path})")

    def _create(self, req: Request) -> Response:
        fields, files = parse_form(req)
        self.throttle()
        model = fields.get("model")
        offer = self.offer_for(model)
        if offer is None:
            names = ", ".join(o.model_id for o in self.provider.offers.values())
            raise Refusal(
                400, "InvalidParameter", f"model {model!r} is not valid; use {names}.", "model"
            )
        media: list[MediaItem] = []
        if "input_reference" in fields:
            raise self.bad(
                "input_reference",
                "input_reference must be an uploaded file (JPEG, PNG or WebP), not a text field.",
            )
        if "input_reference" in files:
            if "first_frame" not in offer.modes:
                raise self.bad(
                    "input_reference",
                    f"the specified task_type r2v does not support model {offer.tier}",
                )
            _name, data = files["input_reference"]
            fmt = sniff_image(data)
            if fmt is None:
                raise self.bad(
                    "input_reference", "input_reference must be a JPEG, PNG or WebP image."
                )
            url = f"data:{_UPLOAD_TYPES[fmt]};base64," + base64.b64encode(data).decode()
            media.append(MediaItem("image", "first_frame", url, "input_reference"))
        prompt = fields.get("prompt")
        out = self.check(
            offer,
            prompt,
            media,
            ratio=fields.get("size"),
            resolution=fields.get("resolution"),
            duration=fields.get("seconds"),
        )
        resolved = self.resolve(media)
        task = self.start(
            model=offer.model_id,
            prompt=str(prompt),
            mode="first_frame" if media else "text",
            media=resolved,
            out=out,
        )
        return json_response(
            {
                "id": task.id,
                "task_id": task.id,
                "object": "video",
                "model": offer.model_id,
                "status": "SUBMITTED",
                "progress": 0,
                "created_at": int(task.created_at),
            }
        )

    def task_json(self, task: TaskRecord, req: Request) -> dict[str, Any]:
        now = time.time()
        status, updated = task.state(now)
        word = {
            "queued": "SUBMITTED",
            "running": "IN_PROGRESS",
            "succeeded": "SUCCESS",
            "failed": "FAILED" if task.outcome == "failed" else "ERROR",
        }.get(status, "ERROR")
        out: dict[str, Any] = {
            "id": task.id,
            "model": task.model,
            "object": "video",
            "status": word,
            "progress": task.progress(now),
            "created_at": int(task.created_at),
            "completed_at": int(updated) if word in ("SUCCESS", "FAILED", "ERROR") else None,
            "video_url": self.file_url(req, task) if status == "succeeded" else None,
        }
        err = task.error(now)
        if err is not None:
            out["error"] = {"code": err["code"], "message": err["message"]}
        elif status == "cancelled":
            out["error"] = {"code": "cancelled", "message": "the task was cancelled"}
        return out


DIALECT = CometAPIRoutes
