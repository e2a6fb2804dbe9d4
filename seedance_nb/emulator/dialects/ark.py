"""BytePlus ModelArk / Volcengine Ark: ``/contents/generations/tasks`` (seed 002).

Server side of the contract in ``API-NOTES.md``: create, get, list (``filter.*``), delete.
Validation follows the catalog offer of the model id; error bodies are Ark's
``{"error": {"code", "message", "param", "type"}}``. Unset fields may arrive as JSON ``null``
(the official SDKs send every keyword) and unknown newer fields are accepted and ignored.
"""

from __future__ import annotations

import math
import re
import secrets
import time
import urllib.parse
from typing import Any

from ... import catalog
from ..http_types import Request, Response, json_response
from ..service import MediaError, MediaInput, strip_triggers, triggers, url_problem
from ..store import TaskRecord
from .base import DialectRoutes

TASKS = "/contents/generations/tasks"
STATUSES = ("queued", "running", "succeeded", "failed", "cancelled", "expired")
LIST_WINDOW_S = 7 * 86400
DEFAULT_EXPIRES_AFTER = 172800
_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
}
_ROLES = {
    "image": ("first_frame", "last_frame", "reference_image"),
    "video": ("reference_video",),
    "audio": ("reference_audio",),
}


class ArkError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        param: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.param = status, code, message, param
        self.headers = headers or {}


def _bad(param: str, message: str, code: str = "InvalidParameter") -> ArkError:
    return ArkError(
        400,
        code,
        f"The parameter `{param}` specified in the request is not valid: {message}",
        param,
    )


def error_response(err: ArkError) -> Response:
    request_id = time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(8)
    body = {
        "error": {
            "code": err.code,
            "message": f"{err.message} Request id: {request_id}",
            "param": err.param,
            "type": _TYPES.get(err.status, "BadRequest"),
        }
    }
    return json_response(body, err.status, {"X-Request-Id": request_id, **err.headers})


def _is_int(v: Any) -> bool:
    return (isinstance(v, int) and not isinstance(v, bool)) or (
        isinstance(v, float) and v.is_integer()
    )


def closest_ratio(size: tuple[int, int] | None) -> str:
    """Adaptive ratio: the catalog ratio nearest (in log aspect) to the reference medium."""
    if not size or not size[0] or not size[1]:
        return "16:9"
    aspect = math.log(size[0] / size[1])

    def dist(r: str) -> float:
        a, b = (int(x) for x in r.split(":"))
        return abs(math.log(a / b) - aspect)

    return min(catalog.RATIOS, key=dist)


class ArkRoutes(DialectRoutes):
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
            return _with_model(base, model)
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
        model = body.get("model")
        if model is None or model == "":
            raise _bad("model", "the model is required.", "MissingParameter")
        if not isinstance(model, str):
            raise _bad("model", "the model must be a string.")
        offer = self._offer(model.strip())
        parsed = self._content(body.get("content"), offer)
        prompt, media = parsed["text"], parsed["media"]
        mode = parsed["mode"]
        if "input-moderation" in triggers(prompt):
            raise ArkError(
                400,
                "InputTextSensitiveContentDetected",
                "The request failed because the input text may contain sensitive information.",
            )
        out = self._outputs(body, offer, mode)

        resolved: list[MediaInput] = []
        for item in media:
            try:
                m = self.service.resolve_media(
                    item["url"], item["kind"], item["role"], item["label"]
                )
            except MediaError as exc:
                raise _bad(item["param"], str(exc) + ".") from None
            if m.kind == "image" and m.size is not None:
                w, h = m.size
                lo, hi = catalog.IMAGE_SIDE_PX
                a_lo, a_hi = catalog.IMAGE_ASPECT
                if not (lo <= w <= hi and lo <= h <= hi):
                    raise _bad(
                        item["param"], f"{m.label} is {w}x{h}; each side must be {lo}-{hi} px."
                    )
                if not a_lo <= w / h <= a_hi:
                    raise _bad(
                        item["param"], f"{m.label} aspect {w / h:.2f} is outside {a_lo}-{a_hi}."
                    )
            resolved.append(m)

        ratio = out["ratio"]
        if ratio == catalog.ADAPTIVE:
            sized = [m for m in resolved if m.kind in ("image", "video") and m.size]
            frames_first = [m for m in sized if m.role == "first_frame"]
            ratio = closest_ratio((frames_first or sized)[0].size if sized else None)
        width, height = catalog.PIXELS[(ratio, out["resolution"])]
        frames = out["frames"] if out["frames"] is not None else out["duration"] * catalog.FPS
        tokens = catalog.estimate_tokens(width, height, frames / catalog.FPS)

        first = next((m for m in resolved if m.role == "first_frame"), None)
        last = next((m for m in resolved if m.role == "last_frame"), None)
        refs = [m for m in resolved if m.role.startswith("reference_")]
        length = f"{out['duration']} s" if out["frames"] is None else f"{out['frames']} frames"
        header = f"{model} · {out['resolution']} {ratio} · {length}"
        if out["generate_audio"]:
            header += " · ♪ audio"
        render = {
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
        fields: dict[str, Any] = {
            "seed": out["seed"],
            "resolution": out["resolution"],
            "ratio": ratio,
            "framespersecond": catalog.FPS,
            "generate_audio": bool(out["generate_audio"]),
            "service_tier": out["service_tier"],
            "execution_expires_after": out["execution_expires_after"],
            "return_last_frame": bool(out["return_last_frame"]),
            "tokens": tokens,
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
        task = self.service.create_task(
            dialect=self.name,
            provider=self.provider.name,
            model=model.strip(),
            prompt=prompt,
            render=render,
            fields=fields,
            expires_after=out["execution_expires_after"],
        )
        return json_response({"id": task.id})

    def _content(self, content: Any, offer: catalog.Offer) -> dict[str, Any]:
        """Parse ``content[]``; work out the mode and check it against the offer."""
        if content is None:
            raise _bad("content", "content is required.", "MissingParameter")
        if not isinstance(content, list) or not content:
            raise _bad("content", "content must be a non-empty array.")
        texts: list[str] = []
        media: list[dict[str, Any]] = []
        counters = {"image": 0, "video": 0, "audio": 0}
        for i, item in enumerate(content):
            param = f"content[{i}]"
            if not isinstance(item, dict):
                raise _bad(param, "each content item must be an object.")
            kind_key = item.get("type")
            if kind_key == "text":
                text = item.get("text")
                if not isinstance(text, str):
                    raise _bad(f"{param}.text", "text must be a string.")
                texts.append(text)
                continue
            kind = {"image_url": "image", "video_url": "video", "audio_url": "audio"}.get(kind_key)
            if kind is None:
                raise _bad(
                    f"{param}.type",
                    f"unknown content type {kind_key!r}; use text, "
                    "image_url, video_url or audio_url.",
                )
            holder = item.get(kind_key)
            url = holder.get("url") if isinstance(holder, dict) else None
            if not isinstance(url, str) or not url.strip():
                raise _bad(
                    f"{param}.{kind_key}.url", f"a {kind} url is required.", "MissingParameter"
                )
            role = item.get("role")
            if role is None:
                role = "reference_image" if kind == "image" else _ROLES[kind][0]
            if role not in _ROLES[kind]:
                raise _bad(
                    f"{param}.role",
                    f"role {role!r} is not valid for {kind_key}; use {', '.join(_ROLES[kind])}.",
                )
            counters[kind] += 1
            media.append(
                {
                    "kind": kind,
                    "role": role,
                    "url": url,
                    "param": f"{param}.{kind_key}",
                    "label": f"{kind.title()} {counters[kind]}",
                }
            )
        if len(texts) > 1:
            raise _bad("content", "at most one text item is allowed.")
        text = texts[0] if texts else ""
        roles = [m["role"] for m in media]
        if roles.count("first_frame") > 1 or roles.count("last_frame") > 1:
            raise _bad("content.role", "at most one first_frame and one last_frame image.")
        has_refs = any(r.startswith("reference_") for r in roles)
        if "last_frame" in roles and "first_frame" not in roles:
            raise _bad("content.role", "a last_frame image needs a first_frame image.")
        if "first_frame" in roles and has_refs:
            raise _bad(
                "content.role",
                "first_frame/last_frame images cannot be combined with "
                "reference_image/reference_video/reference_audio (the modes never mix).",
            )
        if "first_frame" in roles:
            mode = "first_last" if "last_frame" in roles else "first_frame"
        else:
            mode = "reference" if has_refs else "text"
        where = f"model {offer.model_id}"
        if mode not in offer.modes:
            raise _bad("content", f"{where} does not support {catalog.MODE_LABELS[mode]}.")
        kinds_used = {m["kind"] for m in media if m["role"].startswith("reference_")}
        for kind in sorted(kinds_used - set(offer.reference_kinds)):
            raise _bad("content", f"{where} does not take reference {kind}s.")
        n_img = sum(1 for m in media if m["role"] == "reference_image")
        n_vid, n_aud = counters["video"], counters["audio"]
        for kind, n, most in (
            ("image", n_img, offer.max_images),
            ("video", n_vid, offer.max_videos),
            ("audio", n_aud, offer.max_audios),
        ):
            if n > most:
                raise _bad("content", f"too many reference {kind}s ({n}); at most {most}.")
        if n_aud and not (n_img or n_vid):
            raise _bad(
                "content", "reference audio cannot be used alone; add a reference image or video."
            )
        if not text.strip() and mode in ("text", "reference"):
            raise _bad(
                "content.text",
                f"a text prompt is required for {catalog.MODE_LABELS[mode]}.",
                "InvalidParameter",
            )
        return {"text": text, "media": media, "mode": mode}

    def _outputs(self, body: dict[str, Any], offer: catalog.Offer, mode: str) -> dict[str, Any]:
        """Output parameters with Ark's defaults; ``null`` means unset."""
        g = body.get
        ratio = g("ratio")
        if ratio is None:
            ratio = catalog.ADAPTIVE if mode != "text" else "16:9"
        if ratio not in offer.ratios:
            raise _bad("ratio", f"{ratio!r} is not supported; use {', '.join(offer.ratios)}.")
        resolution = g("resolution")
        if resolution is None:
            resolution = "720p"
        if resolution not in offer.resolutions:
            raise _bad(
                "resolution",
                f"{resolution!r} is not supported by {offer.model_id}; use "
                f"{', '.join(offer.resolutions)}.",
            )
        frames = g("frames")
        duration = g("duration")
        if frames is not None:
            if offer.auto_duration:  # a 2.0 model
                raise _bad("frames", f"{offer.model_id} does not take frames; use duration.")
            if duration is not None:
                raise _bad("frames", "give duration or frames, not both.")
            if not _is_int(frames) or not 29 <= int(frames) <= 289 or (int(frames) - 25) % 4:
                raise _bad("frames", f"{frames!r} is not valid; use 25+4n in 29-289.")
            frames = int(frames)
        else:
            if duration is None:
                duration = 5
            if not _is_int(duration):
                raise _bad("duration", f"{duration!r} is not a whole number of seconds.")
            duration = int(duration)
            if duration == -1 and offer.auto_duration:
                duration = 5  # "the model picks": the emulator always picks 5 s
            elif duration not in offer.durations:
                raise _bad(
                    "duration",
                    f"{duration} is not supported by {offer.model_id}; use {offer.duration_text}.",
                )
        seed = g("seed")
        seed_given = seed is not None and seed != -1
        if seed is not None and (not _is_int(seed) or not -1 <= int(seed) <= 2**32 - 1):
            raise _bad("seed", f"{seed!r} is not valid; use -1 to 4294967295.")
        seed = int(seed) if seed_given else secrets.randbelow(2**31)
        for name in ("camera_fixed", "watermark", "return_last_frame", "generate_audio"):
            if g(name) is not None and not isinstance(g(name), bool):
                raise _bad(name, f"{name} must be true or false.")
        if g("camera_fixed") is not None and "camera_fixed" not in offer.params:
            raise _bad("camera_fixed", f"{offer.model_id} does not support camera_fixed.")
        audio = g("generate_audio")
        if audio and not offer.audio:
            raise _bad("generate_audio", f"{offer.model_id} cannot generate audio.")
        if audio is None:
            audio = bool(offer.audio_default)
        tier = g("service_tier")
        if tier is None:
            tier = "default"
        if tier not in offer.service_tiers:
            raise _bad(
                "service_tier",
                f"{tier!r} is not supported by {offer.model_id}; use "
                f"{', '.join(offer.service_tiers)}.",
            )
        expires = g("execution_expires_after")
        if expires is None:
            expires = DEFAULT_EXPIRES_AFTER
        if not _is_int(expires) or not 3600 <= int(expires) <= 259200:
            raise _bad("execution_expires_after", f"{expires!r} must be 3600-259200 seconds.")
        callback = g("callback_url")
        if callback is not None:
            if not isinstance(callback, str):
                raise _bad("callback_url", "the callback must be an http(s) URL.")
            problem = url_problem(callback)
            if problem is not None:
                raise _bad("callback_url", f"the callback must be an http(s) URL ({problem}).")
        return {
            "ratio": ratio,
            "resolution": resolution,
            "duration": duration,
            "frames": frames,
            "seed": seed,
            "seed_given": seed_given,
            "generate_audio": audio,
            "camera_fixed": g("camera_fixed"),
            "watermark": g("watermark"),
            "return_last_frame": g("return_last_frame"),
            "service_tier": tier,
            "execution_expires_after": int(expires),
            "callback_url": callback,
        }

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
                raise _bad(name, f"{raw!r} must be an integer in {lo}-{hi}.")
            return int(raw)

        page_num = int_arg("page_num", 1, 1, 10**6)
        page_size = int_arg("page_size", 10, 1, 500)
        status = req.arg("filter.status")
        if status and status not in STATUSES:
            raise _bad("filter.status", f"{status!r} is not a task status ({', '.join(STATUSES)}).")
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


def _with_model(offer: catalog.Offer, model: str) -> catalog.Offer:
    from dataclasses import replace

    return replace(offer, model_id=model, tier=model, note="custom endpoint id")


DIALECT = ArkRoutes
