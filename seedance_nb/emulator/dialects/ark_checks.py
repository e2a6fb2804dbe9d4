"""Ark's request checks: the ``content[]`` array, the output parameters and the error body.

Kept apart from the routes (``ark.py``) so each rule reads on its own. The rules follow
BytePlus ModelArk (https://ark.ap-southeast.bytepluses.com/api/v3) as written up in
``shared/API-NOTES.md``, validated against the catalog offer of the model id.
"""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import replace
from typing import Any

from ... import catalog
from ..http_types import Response, json_response
from ..media import MediaInput, url_problem
from .base import DialectError

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
_KINDS = {"image_url": "image", "video_url": "video", "audio_url": "audio"}


class ArkError(DialectError):
    """An Ark error answer: HTTP status, ``error.code``, message and offending ``param``."""


def bad(param: str, message: str, code: str = "InvalidParameter") -> ArkError:
    """A 400 worded the way Ark words an invalid parameter."""
    return ArkError(
        400,
        code,
        f"The parameter `{param}` specified in the request is not valid: {message}",
        param,
    )


def error_response(err: ArkError) -> Response:
    """Ark's ``{"error": {code, message, param, type}}`` body with a fresh request id."""
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


def is_int(v: Any) -> bool:
    """A JSON whole number (``5`` or ``5.0``), never a bool."""
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


def with_model(offer: catalog.Offer, model: str) -> catalog.Offer:
    """The default offer under a custom endpoint id (a passthrough model)."""
    return replace(offer, model_id=model, tier=model, note="custom endpoint id")


# ----------------------------------------------------------------------------- content[]


def _media_item(i: int, item: dict[str, Any], counters: dict[str, int]) -> dict[str, Any]:
    """One ``image_url``/``video_url``/``audio_url`` item: its kind, role, url and labels."""
    param = f"content[{i}]"
    kind_key = item.get("type")
    kind = _KINDS.get(kind_key)  # type: ignore[arg-type]
    if kind is None:
        raise bad(
            f"{param}.type",
            f"unknown content type {kind_key!r}; use text, image_url, video_url or audio_url.",
        )
    holder = item.get(kind_key)  # type: ignore[arg-type]
    url = holder.get("url") if isinstance(holder, dict) else None
    if not isinstance(url, str) or not url.strip():
        raise bad(f"{param}.{kind_key}.url", f"a {kind} url is required.", "MissingParameter")
    role = item.get("role")
    if role is None:
        role = "reference_image" if kind == "image" else _ROLES[kind][0]
    if role not in _ROLES[kind]:
        raise bad(
            f"{param}.role",
            f"role {role!r} is not valid for {kind_key}; use {', '.join(_ROLES[kind])}.",
        )
    counters[kind] += 1
    return {
        "kind": kind,
        "role": role,
        "url": url,
        "param": f"{param}.{kind_key}",
        "label": f"{kind.title()} {counters[kind]}",
    }


def _split(content: Any) -> tuple[str, list[dict[str, Any]], dict[str, int]]:
    """The one text prompt, the media items in order, and how many of each kind."""
    if content is None:
        raise bad("content", "content is required.", "MissingParameter")
    if not isinstance(content, list) or not content:
        raise bad("content", "content must be a non-empty array.")
    texts: list[str] = []
    media: list[dict[str, Any]] = []
    counters = {"image": 0, "video": 0, "audio": 0}
    for i, item in enumerate(content):
        if not isinstance(item, dict):
            raise bad(f"content[{i}]", "each content item must be an object.")
        if item.get("type") == "text":
            text = item.get("text")
            if not isinstance(text, str):
                raise bad(f"content[{i}].text", "text must be a string.")
            texts.append(text)
            continue
        media.append(_media_item(i, item, counters))
    if len(texts) > 1:
        raise bad("content", "at most one text item is allowed.")
    return (texts[0] if texts else ""), media, counters


def _mode(roles: list[str]) -> str:
    """The generation mode the roles imply; frame and reference roles never mix."""
    if roles.count("first_frame") > 1 or roles.count("last_frame") > 1:
        raise bad("content.role", "at most one first_frame and one last_frame image.")
    has_refs = any(r.startswith("reference_") for r in roles)
    if "last_frame" in roles and "first_frame" not in roles:
        raise bad("content.role", "a last_frame image needs a first_frame image.")
    if "first_frame" in roles and has_refs:
        raise bad(
            "content.role",
            "first_frame/last_frame images cannot be combined with "
            "reference_image/reference_video/reference_audio (the modes never mix).",
        )
    if "first_frame" in roles:
        return "first_last" if "last_frame" in roles else "first_frame"
    return "reference" if has_refs else "text"


def _check_offer(
    text: str,
    media: list[dict[str, Any]],
    counters: dict[str, int],
    mode: str,
    offer: catalog.Offer,
) -> None:
    """The mode, reference kinds and counts against what the model's offer takes."""
    where = f"model {offer.model_id}"
    if mode not in offer.modes:
        raise bad("content", f"{where} does not support {catalog.MODE_LABELS[mode]}.")
    kinds_used = {m["kind"] for m in media if m["role"].startswith("reference_")}
    for kind in sorted(kinds_used - set(offer.reference_kinds)):
        raise bad("content", f"{where} does not take reference {kind}s.")
    n_img = sum(1 for m in media if m["role"] == "reference_image")
    n_vid, n_aud = counters["video"], counters["audio"]
    for kind, n, most in (
        ("image", n_img, offer.max_images),
        ("video", n_vid, offer.max_videos),
        ("audio", n_aud, offer.max_audios),
    ):
        if n > most:
            raise bad("content", f"too many reference {kind}s ({n}); at most {most}.")
    if n_aud and not (n_img or n_vid):
        raise bad(
            "content", "reference audio cannot be used alone; add a reference image or video."
        )
    if not text.strip() and mode in ("text", "reference"):
        raise bad(
            "content.text",
            f"a text prompt is required for {catalog.MODE_LABELS[mode]}.",
            "InvalidParameter",
        )


def parse_content(content: Any, offer: catalog.Offer) -> dict[str, Any]:
    """Parse ``content[]``; work out the mode and check it against the offer."""
    text, media, counters = _split(content)
    mode = _mode([m["role"] for m in media])
    _check_offer(text, media, counters, mode, offer)
    return {"text": text, "media": media, "mode": mode}


def check_image(m: MediaInput, param: str) -> None:
    """A resolved image must fit the catalog's side and aspect limits."""
    if m.kind != "image" or m.size is None:
        return
    w, h = m.size
    lo, hi = catalog.IMAGE_SIDE_PX
    a_lo, a_hi = catalog.IMAGE_ASPECT
    if not (lo <= w <= hi and lo <= h <= hi):
        raise bad(param, f"{m.label} is {w}x{h}; each side must be {lo}-{hi} px.")
    if not a_lo <= w / h <= a_hi:
        raise bad(param, f"{m.label} aspect {w / h:.2f} is outside {a_lo}-{a_hi}.")


# ----------------------------------------------------------------------------- outputs


def _shape(body: dict[str, Any], offer: catalog.Offer, mode: str) -> tuple[str, str]:
    """Ratio and resolution with Ark's defaults (adaptive for any mode but text)."""
    ratio = body.get("ratio")
    if ratio is None:
        ratio = catalog.ADAPTIVE if mode != "text" else "16:9"
    if ratio not in offer.ratios:
        raise bad("ratio", f"{ratio!r} is not supported; use {', '.join(offer.ratios)}.")
    resolution = body.get("resolution")
    if resolution is None:
        resolution = "720p"
    if resolution not in offer.resolutions:
        raise bad(
            "resolution",
            f"{resolution!r} is not supported by {offer.model_id}; use "
            f"{', '.join(offer.resolutions)}.",
        )
    return ratio, resolution


def _length(body: dict[str, Any], offer: catalog.Offer) -> tuple[int | None, int | None]:
    """``(duration, frames)``: exactly one is set; frames only on models that take them."""
    frames = body.get("frames")
    duration = body.get("duration")
    if frames is not None:
        if offer.auto_duration:  # a 2.0 model
            raise bad("frames", f"{offer.model_id} does not take frames; use duration.")
        if duration is not None:
            raise bad("frames", "give duration or frames, not both.")
        if not is_int(frames) or not 29 <= int(frames) <= 289 or (int(frames) - 25) % 4:
            raise bad("frames", f"{frames!r} is not valid; use 25+4n in 29-289.")
        return None, int(frames)
    if duration is None:
        duration = 5
    if not is_int(duration):
        raise bad("duration", f"{duration!r} is not a whole number of seconds.")
    duration = int(duration)
    if duration == -1 and offer.auto_duration:
        return 5, None  # "the model picks": the emulator always picks 5 s
    if duration not in offer.durations:
        raise bad(
            "duration",
            f"{duration} is not supported by {offer.model_id}; use {offer.duration_text}.",
        )
    return duration, None


def _seed(body: dict[str, Any]) -> tuple[int, bool]:
    """The seed to use and whether the caller chose it (``-1``/unset: a random one)."""
    seed = body.get("seed")
    seed_given = seed is not None and seed != -1
    if seed is not None and (not is_int(seed) or not -1 <= int(seed) <= 2**32 - 1):
        raise bad("seed", f"{seed!r} is not valid; use -1 to 4294967295.")
    return (int(seed) if seed_given else secrets.randbelow(2**31)), seed_given


def _audio(body: dict[str, Any], offer: catalog.Offer) -> bool:
    """Check the boolean flags; ``generate_audio`` defaults to the offer's default."""
    for name in ("camera_fixed", "watermark", "return_last_frame", "generate_audio"):
        if body.get(name) is not None and not isinstance(body.get(name), bool):
            raise bad(name, f"{name} must be true or false.")
    if body.get("camera_fixed") is not None and "camera_fixed" not in offer.params:
        raise bad("camera_fixed", f"{offer.model_id} does not support camera_fixed.")
    audio = body.get("generate_audio")
    if audio and not offer.audio:
        raise bad("generate_audio", f"{offer.model_id} cannot generate audio.")
    return bool(offer.audio_default) if audio is None else audio


def _delivery(body: dict[str, Any], offer: catalog.Offer) -> tuple[str, int, str | None]:
    """Service tier, expiry window and callback URL, each with Ark's default."""
    tier = body.get("service_tier")
    if tier is None:
        tier = "default"
    if tier not in offer.service_tiers:
        raise bad(
            "service_tier",
            f"{tier!r} is not supported by {offer.model_id}; use {', '.join(offer.service_tiers)}.",
        )
    expires = body.get("execution_expires_after")
    if expires is None:
        expires = DEFAULT_EXPIRES_AFTER
    if not is_int(expires) or not 3600 <= int(expires) <= 259200:
        raise bad("execution_expires_after", f"{expires!r} must be 3600-259200 seconds.")
    callback = body.get("callback_url")
    if callback is not None:
        if not isinstance(callback, str):
            raise bad("callback_url", "the callback must be an http(s) URL.")
        problem = url_problem(callback)
        if problem is not None:
            raise bad("callback_url", f"the callback must be an http(s) URL ({problem}).")
    return tier, int(expires), callback


def parse_outputs(body: dict[str, Any], offer: catalog.Offer, mode: str) -> dict[str, Any]:
    """Output parameters with Ark's defaults; ``null`` means unset."""
    ratio, resolution = _shape(body, offer, mode)
    duration, frames = _length(body, offer)
    seed, seed_given = _seed(body)
    audio = _audio(body, offer)
    tier, expires, callback = _delivery(body, offer)
    return {
        "ratio": ratio,
        "resolution": resolution,
        "duration": duration,
        "frames": frames,
        "seed": seed,
        "seed_given": seed_given,
        "generate_audio": audio,
        "camera_fixed": body.get("camera_fixed"),
        "watermark": body.get("watermark"),
        "return_last_frame": body.get("return_last_frame"),
        "service_tier": tier,
        "execution_expires_after": expires,
        "callback_url": callback,
    }
