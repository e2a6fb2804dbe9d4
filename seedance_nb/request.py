"""The validated request: what the user asked for, checked against the provider's offer.

``build_request`` is the single gate between user input and money. It resolves the tier,
fills documented defaults, works out the mode from the attached media, probes local files and
checks every limit in ``catalog``. Anything wrong raises :class:`InvalidRequest` naming the
field, the value, what is allowed, and for which model and provider.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from . import catalog
from .catalog import Offer, Provider
from .errors import InvalidRequest
from .media import URL_ALLOWED, MediaRef, resolve_media, url_problem
from .prompt import lint_references, normalize_prompt


class SeedanceWarning(UserWarning):
    """Something worth a second look that does not stop the request."""


class VideoRequest(BaseModel):
    """A request that passed validation; immutable, hashable, and free of secrets."""

    model_config = ConfigDict(frozen=True)

    provider: str
    tier: str | None
    model: str
    model_id: str
    prompt: str
    ratio: str
    resolution: str
    duration: int
    generate_audio: bool | None = None
    seed: int | None = None
    watermark: bool | None = None
    camera_fixed: bool | None = None
    return_last_frame: bool | None = None
    service_tier: str | None = None
    callback_url: str | None = None
    first_frame: MediaRef | None = None
    last_frame: MediaRef | None = None
    images: tuple[MediaRef, ...] = ()
    videos: tuple[MediaRef, ...] = ()
    audios: tuple[MediaRef, ...] = ()
    options: dict[str, Any] = {}

    @property
    def mode(self) -> str:
        if self.first_frame is not None:
            return "first_last" if self.last_frame is not None else "first_frame"
        if self.images or self.videos or self.audios:
            return "reference"
        return "text"

    @property
    def media(self) -> tuple[MediaRef, ...]:
        """Every attached medium in content-array order (frames, images, videos, audios)."""
        frames = tuple(m for m in (self.first_frame, self.last_frame) if m is not None)
        return frames + self.images + self.videos + self.audios

    @property
    def size(self) -> tuple[int, int]:
        return catalog.pixel_size(self.ratio, self.resolution)

    @property
    def estimated_tokens(self) -> int:
        w, h = self.size
        seconds = self.duration if self.duration > 0 else 10
        return catalog.estimate_tokens(w, h, seconds)

    @property
    def estimated_cost(self) -> float | None:
        return catalog.estimate_cost(self.tier, self.estimated_tokens)

    def canonical(self) -> dict[str, Any]:
        """The request as plain data with media by identity (never bytes), for hashing/storage."""
        data = self.model_dump(exclude={"first_frame", "last_frame", "images", "videos", "audios"})
        data["media"] = [{"kind": m.kind, "role": m.role, "id": m.identity} for m in self.media]
        return data

    def digest(self, route: str) -> str:
        """Same request on the same route → same hash → same job (never pay twice).

        The callback URL is delivery, not content: a receiver restarted on a new port or token
        must not turn a re-run into a second paid task."""
        content = {k: v for k, v in self.canonical().items() if k != "callback_url"}
        payload = json.dumps({"route": route, **content}, sort_keys=True,
                             separators=(",", ":"), default=str)  # fmt: skip
        return hashlib.sha256(payload.encode()).hexdigest()

    def describe(self) -> str:
        w, h = self.size
        dur = "auto" if self.duration == -1 else f"{self.duration}s"
        return f"{self.tier or self.model_id} · {catalog.MODE_LABELS[self.mode]} · {self.ratio} {self.resolution} ({w}×{h}) · {dur}"


def _fail(message: str, *, field: str, value: Any, allowed: str | None, offer: Offer | None,
          provider: Provider, model: str | None = None) -> InvalidRequest:  # fmt: skip
    where = f"{offer.tier if offer else model} on {provider.name}"
    text = f"{field}={value!r} is not allowed for {where}: {message}"
    if allowed:
        text += f" Allowed: {allowed}."
    return InvalidRequest(text, field=field, value=value, allowed=allowed,
                          model=offer.tier if offer else model, provider=provider.name)  # fmt: skip


def _as_tuple(value: Any) -> tuple[Any, ...]:
    if value is None:
        return ()
    if isinstance(value, (str, bytes, bytearray)) or hasattr(value, "__fspath__"):
        return (value,)
    if hasattr(value, "save") and hasattr(value, "size"):
        return (value,)
    if isinstance(value, Iterable):
        return tuple(value)
    return (value,)


def build_request(
    provider: Provider,
    prompt: Any,
    *,
    model: str | None = None,
    ratio: str | None = None,
    resolution: str | None = None,
    duration: int | None = None,
    generate_audio: bool | None = None,
    seed: int | None = None,
    watermark: bool | None = None,
    camera_fixed: bool | None = None,
    return_last_frame: bool | None = None,
    service_tier: str | None = None,
    callback_url: str | None = None,
    first_frame: Any = None,
    last_frame: Any = None,
    images: Sequence[Any] | Any = (),
    videos: Sequence[Any] | Any = (),
    audios: Sequence[Any] | Any = (),
    options: dict[str, Any] | None = None,
    workdir: Path | None = None,
    probe: bool = True,
    warn: bool = True,
) -> tuple[VideoRequest, list[str]]:
    """Validate and normalise; returns the request and human-readable warnings."""
    p = provider
    model = (
        (model or catalog.DEFAULT_TIER).strip()
        if isinstance(model, str) or model is None
        else model
    )
    if not isinstance(model, str) or not model:
        raise _fail("the model must be a tier name or a provider model id.", field="model",
                    value=model, allowed=", ".join(catalog.available_tiers(p)), offer=None,
                    provider=p, model=str(model))  # fmt: skip
    tier, offer = catalog.resolve_tier(p, model)
    if offer is None:
        other = [n for n, q in catalog.PROVIDERS.items()
                 if n != p.name and catalog.resolve_tier(q, model)[1] is not None]  # fmt: skip
        hint = f" ({model!r} is sold by {', '.join(other)})" if other else ""
        raise InvalidRequest(
            f"model={model!r} is not offered by {p.name}{hint}. Allowed: "
            f"{', '.join(catalog.available_tiers(p))} (or their raw ids).",
            field="model", value=model, allowed=", ".join(catalog.available_tiers(p)),
            model=model, provider=p.name,
        )  # fmt: skip
    if not offer.available:
        raise _fail(f"{offer.note}.", field="model", value=model,
                    allowed=", ".join(catalog.available_tiers(p)), offer=offer, provider=p)  # fmt: skip

    def fail(message: str, field: str, value: Any, allowed: str | None = None) -> InvalidRequest:
        return _fail(message, field=field, value=value, allowed=allowed, offer=offer, provider=p)

    # prompt
    if not isinstance(prompt, str):
        raise fail("the prompt must be text.", "prompt", type(prompt).__name__)
    text = normalize_prompt(prompt)
    if not text:
        raise fail("the prompt is empty; describe the video you want.", "prompt", prompt)

    # media
    try:
        ff, lf, imgs, vids, auds = _resolve_all(
            first_frame, last_frame, images, videos, audios, offer, workdir, probe
        )
    except InvalidRequest as exc:
        exc.provider, exc.model = p.name, offer.tier
        exc.args = (f"{exc.message} (for {offer.tier} on {p.name})",)
        raise
    if lf is not None and ff is None:
        raise fail("a last frame needs a first frame.", "last_frame", lf.short(),
                   "first_frame alone, or first_frame with last_frame")  # fmt: skip
    if ff is not None and (imgs or vids or auds):
        raise fail("the three modes never mix: first frame, first+last frame, or multimodal "
                   "references (images/videos/audios) — pick one.",
                   "images" if imgs else ("videos" if vids else "audios"),
                   len(imgs) + len(vids) + len(auds), "no reference media with first_frame")  # fmt: skip
    if auds and not (imgs or vids):
        raise fail("reference audio never goes alone; attach an image or a video too.",
                   "audios", len(auds), "audio together with at least one image or video")  # fmt: skip
    mode = (
        ("first_last" if lf else "first_frame")
        if ff
        else ("reference" if imgs or vids or auds else "text")
    )
    if mode not in offer.modes:
        allowed = ", ".join(catalog.MODE_LABELS[m] for m in catalog.MODES if m in offer.modes)
        raise fail(f"{catalog.MODE_LABELS[mode]} is not supported.", "mode", mode, allowed)
    for kind, items in (("image", imgs), ("video", vids), ("audio", auds)):
        if items and kind not in offer.reference_kinds:
            kinds = ", ".join(sorted(offer.reference_kinds)) or "none"
            raise fail(f"reference {kind}s are not supported.", f"{kind}s", len(items),
                       f"reference kinds: {kinds}")  # fmt: skip
    limits = (("images", imgs, offer.max_images), ("videos", vids, offer.max_videos),
              ("audios", auds, offer.max_audios))  # fmt: skip
    for name, items, most in limits:
        if len(items) > most:
            raise fail(f"too many reference {name}.", name, len(items), f"at most {most}")
    total = len(imgs) + len(vids) + len(auds) + (ff is not None) + (lf is not None)
    if offer.max_media is not None and total > offer.max_media:
        raise fail("too many media in one request.", "media", total, f"at most {offer.max_media}")
    every = tuple(m for m in (ff, lf) if m) + imgs + vids + auds
    for ref in every:
        _check_media(ref, p, fail)
    _check_totals(vids, auds, fail)

    # output parameters
    res = _norm_resolution(resolution) if resolution is not None else "720p"
    if res not in offer.resolutions:
        raise fail(
            "unsupported resolution.", "resolution", resolution, ", ".join(offer.resolutions)
        )
    if ratio is None:
        rat = catalog.ADAPTIVE if mode != "text" and catalog.ADAPTIVE in offer.ratios else "16:9"
    else:
        rat = str(ratio).strip().lower().replace(" ", "")
    if rat not in offer.ratios:
        raise fail("unsupported aspect ratio.", "ratio", ratio, ", ".join(offer.ratios))
    dur = 5 if duration is None else duration
    if isinstance(dur, bool) or not isinstance(dur, int):
        if isinstance(dur, float) and dur.is_integer():
            dur = int(dur)
        elif isinstance(dur, str) and re.fullmatch(r"-?[0-9]+", dur.strip()):
            dur = int(dur.strip())
        else:
            raise fail("the duration is a whole number of seconds.", "duration", duration,
                       offer.duration_text)  # fmt: skip
    if not (dur in offer.durations or (dur == -1 and offer.auto_duration)):
        raise fail("unsupported duration.", "duration", dur, offer.duration_text)

    audio = generate_audio
    if audio is not None and not isinstance(audio, bool):
        raise fail("generate_audio is true or false.", "generate_audio", audio, "True, False")
    if audio and not offer.audio:
        raise fail("this model/provider cannot generate audio.", "generate_audio", audio, "False")
    if audio is None:
        audio = offer.audio_default
    elif not offer.audio:
        audio = None  # asked for silence where silence is all there is, or no switch exists

    params = {"seed": seed, "watermark": watermark, "camera_fixed": camera_fixed,
              "return_last_frame": return_last_frame, "service_tier": service_tier,
              "callback_url": callback_url}  # fmt: skip
    for name, value in params.items():
        if value is not None and name not in offer.params:
            allowed = ", ".join(sorted(offer.params)) or "none of the optional parameters"
            raise fail(f"{p.label} does not take {name} for this model.", name, value, allowed)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)
                             or not -1 <= seed <= 2**32 - 1):  # fmt: skip
        raise fail("the seed is a whole number.", "seed", seed, "-1 (random) to 4294967295")
    for name in ("watermark", "camera_fixed", "return_last_frame"):
        if params[name] is not None and not isinstance(params[name], bool):
            raise fail(f"{name} is true or false.", name, params[name], "True, False")
    if service_tier is not None and service_tier not in offer.service_tiers:
        raise fail("unsupported service tier.", "service_tier", service_tier,
                   ", ".join(offer.service_tiers))  # fmt: skip
    if callback_url is not None:
        callback_url = _check_callback(callback_url, p, fail)

    if options is not None and not isinstance(options, dict):
        raise fail("options is a dict of provider-specific fields.", "options", options,
                   "a dict such as {'priority': 1}")  # fmt: skip
    opts = dict(options or {})
    unknown = sorted(set(opts) - set(p.extra_options))
    if unknown:
        allowed = ", ".join(sorted(p.extra_options)) or "none"
        raise fail("unknown provider option.", f"options.{unknown[0]}", opts[unknown[0]], allowed)

    # prompt references
    counts = {"image": len(imgs) + (ff is not None) + (lf is not None), "video": len(vids),
              "audio": len(auds)}  # fmt: skip
    issues = lint_references(text, counts, require_named=mode == "reference")
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        first = errors[0]
        raise fail(first.message + ".", "prompt", f"[{first.kind.title()} {first.index}]",
                   _ref_allowed(counts))  # fmt: skip
    notes = [i.message for i in issues if i.severity == "warning"]
    if warn:
        for note in notes:
            warnings.warn(note, SeedanceWarning, stacklevel=3)

    request = VideoRequest(
        provider=p.name, tier=tier, model=model, model_id=offer.model_id, prompt=text,
        ratio=rat, resolution=res, duration=dur, generate_audio=audio, seed=seed,
        watermark=watermark, camera_fixed=camera_fixed, return_last_frame=return_last_frame,
        service_tier=service_tier, callback_url=callback_url, first_frame=ff, last_frame=lf,
        images=imgs, videos=vids, audios=auds, options=opts,
    )  # fmt: skip
    return request, notes


def _resolve_all(first_frame: Any, last_frame: Any, images: Any, videos: Any, audios: Any,
                 offer: Offer, workdir: Path | None, probe: bool) -> tuple[Any, ...]:  # fmt: skip
    """Resolve and probe every attached medium, in content-array order."""
    ff = _resolve_one(first_frame, "image", "first_frame", "first_frame", workdir, probe)
    lf = _resolve_one(last_frame, "image", offer.last_frame_role, "last_frame", workdir, probe)
    imgs = tuple(resolve_media(v, "image", "reference_image", field=f"images[{i}]",
                               workdir=workdir, probe=probe)
                 for i, v in enumerate(_as_tuple(images)))  # fmt: skip
    vids = tuple(resolve_media(v, "video", "reference_video", field=f"videos[{i}]",
                               workdir=workdir, probe=probe)
                 for i, v in enumerate(_as_tuple(videos)))  # fmt: skip
    auds = tuple(resolve_media(v, "audio", "reference_audio", field=f"audios[{i}]",
                               workdir=workdir, probe=probe)
                 for i, v in enumerate(_as_tuple(audios)))  # fmt: skip

    return ff, lf, imgs, vids, auds


def _ref_allowed(counts: dict[str, int]) -> str:
    parts = []
    for kind, n in counts.items():
        if n:
            parts.append(", ".join(f"[{kind.title()} {i}]" for i in range(1, n + 1)))
    return "; ".join(parts) if parts else "no references (nothing is attached)"


def _resolve_one(value: Any, kind: str, role: str, field: str, workdir: Path | None,
                 probe: bool) -> MediaRef | None:  # fmt: skip
    if value is None:
        return None
    return resolve_media(value, kind, role, field=field, workdir=workdir, probe=probe)  # type: ignore[arg-type]


def _norm_resolution(value: Any) -> str:
    text = str(value).strip().lower()
    if text.isdigit():
        text += "p"
    return text


def _check_media(ref: MediaRef, p: Provider, fail: Any) -> None:
    field = ref.role
    if ref.is_local or (ref.url or "").startswith("data:"):
        if p.local_media == "none":
            raise fail(f"{p.label} takes media only as public URLs its servers can fetch; "
                       f"{ref.short()!r} is local.", field, ref.short(), "https:// URLs")  # fmt: skip
        if p.local_media == "data_url" and ref.kind != "image":
            raise fail(f"{p.label} takes local images as data: URLs, but a local {ref.kind} "
                       "cannot travel that way; upload it and pass its URL or asset://ID.",
                       field, ref.short(), f"a {ref.kind} URL or asset://ID")  # fmt: skip
    if ref.url and ref.url.startswith("asset://") and p.dialect != "ark":
        raise fail("asset:// ids are Ark's asset library; this provider cannot resolve them.",
                   field, ref.source, "https:// URLs")  # fmt: skip
    formats = {"image": catalog.IMAGE_FORMATS, "video": catalog.VIDEO_FORMATS,
               "audio": catalog.AUDIO_FORMATS}[ref.kind]  # fmt: skip
    if ref.format and ref.format not in formats:
        raise fail(f"{ref.kind} format {ref.format!r} is not accepted.", field, ref.short(),
                   ", ".join(sorted(formats)))  # fmt: skip
    if not ref.is_local:
        return
    if ref.kind == "image":
        lo, hi = catalog.IMAGE_SIDE_PX
        if ref.width is not None and ref.height is not None:
            if not (lo <= ref.width <= hi and lo <= ref.height <= hi):
                raise fail(f"image is {ref.width}×{ref.height} px.", field, ref.short(),
                           f"each side {lo}-{hi} px")  # fmt: skip
            aspect = ref.width / ref.height
            a_lo, a_hi = catalog.IMAGE_ASPECT
            if not a_lo <= aspect <= a_hi:
                raise fail(f"image aspect (width/height) is {aspect:.2f}.", field, ref.short(),
                           f"{a_lo}-{a_hi}")  # fmt: skip
        _check_size(ref, catalog.IMAGE_MAX_BYTES, field, fail)
    elif ref.kind == "video":
        _check_seconds(ref, catalog.VIDEO_SECONDS, field, fail)
        if (
            ref.fps is not None
            and not catalog.VIDEO_FPS[0] - 0.5 <= ref.fps <= catalog.VIDEO_FPS[1] + 0.5
        ):
            raise fail(f"video frame rate is {ref.fps:.1f} fps.", field, ref.short(),
                       f"{catalog.VIDEO_FPS[0]:.0f}-{catalog.VIDEO_FPS[1]:.0f} fps")  # fmt: skip
        if ref.width and ref.height:
            px = ref.width * ref.height
            lo, hi = catalog.VIDEO_PIXELS
            if not lo <= px <= hi:
                raise fail(f"video is {ref.width}×{ref.height} ({px:,} pixels).", field,
                           ref.short(), f"{lo:,}-{hi:,} pixels per frame (e.g. 640×640 to 2206×946)")  # fmt: skip
        _check_size(ref, catalog.VIDEO_MAX_BYTES, field, fail)
    else:
        _check_seconds(ref, catalog.AUDIO_SECONDS, field, fail)
        _check_size(ref, catalog.AUDIO_MAX_BYTES, field, fail)


def _check_seconds(ref: MediaRef, bounds: tuple[float, float], field: str, fail: Any) -> None:
    if ref.duration is not None and not bounds[0] - 0.05 <= ref.duration <= bounds[1] + 0.05:
        raise fail(f"{ref.kind} lasts {ref.duration:.2f} s.", field, ref.short(),
                   f"{bounds[0]:.0f}-{bounds[1]:.0f} s each")  # fmt: skip


def _check_size(ref: MediaRef, most: int, field: str, fail: Any) -> None:
    if ref.size_bytes is not None and ref.size_bytes > most:
        raise fail(f"file is {ref.size_bytes / 1e6:.1f} MB.", field, ref.short(),
                   f"at most {most // (1024 * 1024)} MB")  # fmt: skip


def _check_totals(vids: tuple[MediaRef, ...], auds: tuple[MediaRef, ...], fail: Any) -> None:
    for name, items, most in (("videos", vids, catalog.VIDEO_TOTAL_SECONDS),
                              ("audios", auds, catalog.AUDIO_TOTAL_SECONDS)):  # fmt: skip
        known = [m.duration for m in items if m.duration is not None]
        if known and sum(known) > most + 0.05:
            raise fail(f"{name} last {sum(known):.1f} s together.", name, len(items),
                       f"at most {most:.0f} s in total")  # fmt: skip


def _check_callback(value: Any, p: Provider, fail: Any) -> str:
    """The callback URL, outer whitespace trimmed, once no server would fail to reach it."""
    if not isinstance(value, str):
        raise fail("the callback must be an http(s) URL.", "callback_url", value, "https://…")
    url = value.strip()
    problem = url_problem(url)
    if problem is not None:
        message = f"the provider could not call this URL back: {problem}."
        raise fail(message, "callback_url", url, URL_ALLOWED)
    parts = urlsplit(url)
    if p.name == "evolink":
        if parts.scheme != "https":
            raise fail("EvoLink calls back over HTTPS only.", "callback_url", url, "https://…")
        if len(url) > 2048:
            raise fail("the callback URL is too long.", "callback_url", url[:40] + "…",
                       "at most 2048 characters")  # fmt: skip
        host = parts.hostname or ""
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            ip = None
        if host == "localhost" or (ip is not None and (ip.is_private or ip.is_loopback)):
            raise fail("EvoLink refuses callbacks to private or loopback addresses.",
                       "callback_url", url, "a public https:// host")  # fmt: skip
    return url
