"""What the four gateway dialects share (OrcaRouter, CometAPI, EvoLink, seedance2.ink).

A gateway module parses its own wire format into :class:`MediaItem` lists and plain output
values, then calls :meth:`GatewayRoutes.check` (the offer's capability matrix),
:meth:`GatewayRoutes.resolve` (media → stored blobs, image limits) and
:meth:`GatewayRoutes.start` (render spec → :meth:`Service.create_task`). Every refusal is a
:class:`Refusal` that the module turns into its own error envelope in :meth:`envelope`.

Gateway-only prompt triggers (besides the service's ``[[moderation]]`` and friends):
``[[quota]]`` refuses the create as the gateway says "out of credit" (EvoLink 402
``insufficient_quota``; the others their own wording).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ... import catalog
from ..http_types import Request, Response
from ..media import MediaError, MediaInput
from ..service import strip_triggers, triggers
from ..store import TaskRecord
from .ark_checks import closest_ratio
from .base import DialectError, DialectRoutes


class Refusal(DialectError):
    """A request the gateway refuses: HTTP status, the gateway's code, a message."""


@dataclass
class MediaItem:
    """One medium named by a request, before it is fetched."""

    kind: str  # image | video | audio
    role: str  # first_frame | last_frame | reference_image | reference_video | reference_audio
    url: str
    param: str
    label: str = ""


@dataclass
class Outputs:
    """The output parameters once defaulted and checked against the offer."""

    ratio: str
    resolution: str
    duration: int
    audio: bool = False
    seed: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def mode_of(media: list[MediaItem]) -> str:
    roles = [m.role for m in media]
    if "first_frame" in roles:
        return "first_last" if "last_frame" in roles else "first_frame"
    return "reference" if media else "text"


class GatewayRoutes(DialectRoutes):
    """Base of a gateway mount: dispatch, auth, capability checks, media, task start."""

    #: the code a parameter error carries in this gateway's envelope
    invalid_code: ClassVar[str] = "invalid_request"
    id_prefix: ClassVar[str] = "task_"
    #: the media URL schemes this gateway accepts (data: only where the client sends it)
    schemes: ClassVar[tuple[str, ...]] = ("http://", "https://")
    #: how ``[[quota]]`` is refused
    quota_status: ClassVar[int] = 402
    quota_code: ClassVar[str] = "insufficient_quota"

    def handle(self, req: Request) -> Response:
        try:
            return self.route(req)
        except Refusal as err:
            return self.envelope(err, req)

    def route(self, req: Request) -> Response:  # pragma: no cover - interface
        raise NotImplementedError

    def envelope(self, err: Refusal, req: Request) -> Response:  # pragma: no cover - interface
        raise NotImplementedError

    # ----------------------------------------------------------------------------- helpers

    def bad(self, param: str, message: str, status: int = 400) -> Refusal:
        return Refusal(status, self.invalid_code, message, param)

    def authorize(self, req: Request, code: str = "unauthorized") -> None:
        verdict = self.service.check_bearer(req.headers.get("Authorization"))
        if verdict != "ok":
            text = "missing" if verdict == "missing" else "invalid"
            raise Refusal(401, code, f"The API key is {text}.")

    def throttle(self, code: str = "rate_limit_exceeded") -> None:
        wait = self.service.rate_limited()
        if wait is not None:
            raise Refusal(
                429, code, "Too many requests; retry later.", headers={"Retry-After": str(wait)}
            )

    def task(self, task_id: str) -> TaskRecord | None:
        """The task if this mount created it (a task id never leaks across gateways)."""
        task = self.service.get(task_id)
        if task is None or task.dialect != self.name or task.provider != self.provider.name:
            return None
        return task

    def offer_for(self, model: Any) -> catalog.Offer | None:
        if not isinstance(model, str):
            return None
        tier = self.provider.tier_for_model_id(model.strip())
        return self.provider.offers[tier] if tier else None

    def file_url(self, req: Request, task: TaskRecord, name: str = "video.mp4") -> str:
        return self.service.signed_url(req.base_url, task.id, name)

    # ----------------------------------------------------------------------------- checks

    def check(
        self,
        offer: catalog.Offer,
        prompt: Any,
        media: list[MediaItem],
        *,
        ratio: Any,
        resolution: Any,
        duration: Any,
        audio: Any = None,
        default_ratio: str = "16:9",
        default_audio: bool = False,
    ) -> Outputs:
        """The offer's matrix: mode, reference kinds and counts, then the output values."""
        self._check_prompt(prompt)
        self._check_media(offer, media)
        if ratio is None:
            ratio = default_ratio
        if ratio not in offer.ratios:
            raise self.bad("ratio", f"{ratio!r} is not supported; use {', '.join(offer.ratios)}.")
        if resolution is None:
            resolution = "720p" if "720p" in offer.resolutions else offer.resolutions[0]
        if resolution not in offer.resolutions:
            raise self.bad(
                "resolution",
                f"{resolution!r} is not supported by {offer.model_id}; "
                f"use {', '.join(offer.resolutions)}.",
            )
        if duration is None:
            duration = 5 if 5 in offer.durations else offer.durations[0]
        if isinstance(duration, str) and re.fullmatch(r"[0-9]+", duration.strip()):
            duration = int(duration.strip())  # not str.isdigit: "²" is a digit int() refuses
        if not is_int(duration) or int(duration) not in offer.durations:
            raise self.bad(
                "duration",
                f"duration {duration!r} is not supported by "
                f"{offer.model_id}; use {offer.duration_text}.",
            )
        if audio is None:
            audio = default_audio and offer.audio
        if not isinstance(audio, bool):
            raise self.bad("generate_audio", "generate_audio must be true or false.")
        if audio and not offer.audio:
            raise self.bad("generate_audio", f"{offer.model_id} cannot generate audio.")
        return Outputs(ratio=ratio, resolution=resolution, duration=int(duration), audio=audio)

    def _check_prompt(self, prompt: Any) -> None:
        """A non-empty prompt; its ``[[input-moderation]]``/``[[quota]]`` triggers refuse."""
        if not isinstance(prompt, str) or not prompt.strip():
            raise self.bad("prompt", "prompt is required.")
        if "input-moderation" in triggers(prompt):
            raise self.bad("prompt", "The prompt may contain sensitive content.")
        if "quota" in triggers(prompt):
            raise Refusal(
                self.quota_status,
                self.quota_code,
                "Insufficient credits for this request; top up and retry.",
            )

    def _check_media(self, offer: catalog.Offer, media: list[MediaItem]) -> None:
        """Mode, reference kinds and counts against the offer; URL schemes against the gateway."""
        where = f"model {offer.model_id}"
        mode = mode_of(media)
        if mode not in offer.modes:
            raise self.bad("model", f"{where} does not support {catalog.MODE_LABELS[mode]}.")
        counts = {
            k: sum(1 for m in media if m.role == f"reference_{k}")
            for k in ("image", "video", "audio")
        }
        for kind, n in counts.items():
            if n and kind not in offer.reference_kinds:
                raise self.bad(f"{kind}s", f"{where} does not take reference {kind}s.")
        for kind, n, most in (
            ("image", counts["image"], offer.max_images),
            ("video", counts["video"], offer.max_videos),
            ("audio", counts["audio"], offer.max_audios),
        ):
            if n > most:
                raise self.bad(f"{kind}s", f"too many reference {kind}s ({n}); at most {most}.")
        if offer.max_media is not None and len(media) > offer.max_media:
            raise self.bad("media", f"too many media ({len(media)}); at most {offer.max_media}.")
        if counts["audio"] and not (counts["image"] or counts["video"]):
            raise self.bad(
                "audios", "reference audio cannot be used alone; add an image or a video."
            )
        for m in media:
            if not m.url.startswith(self.schemes):
                raise self.bad(
                    m.param,
                    f"{m.url[:40]!r}: this gateway takes "
                    f"{' or '.join(s.rstrip(':/') for s in self.schemes)} URLs.",
                )

    def resolve(self, media: list[MediaItem]) -> list[MediaInput]:
        """Fetch or decode every medium (service helper) and apply the image limits."""
        counters = {"image": 0, "video": 0, "audio": 0}
        out: list[MediaInput] = []
        for item in media:
            counters[item.kind] += 1
            label = item.label or f"{item.kind.title()} {counters[item.kind]}"
            try:
                m = self.service.resolve_media(item.url, item.kind, item.role, label)
            except MediaError as exc:
                raise self.bad(item.param, f"{exc}.") from None
            if m.kind == "image" and m.size is not None:
                w, h = m.size
                lo, hi = catalog.IMAGE_SIDE_PX
                a_lo, a_hi = catalog.IMAGE_ASPECT
                if not (lo <= w <= hi and lo <= h <= hi):
                    raise self.bad(
                        item.param, f"{label} is {w}x{h}; each side must be {lo}-{hi} px."
                    )
                if not a_lo <= w / h <= a_hi:
                    raise self.bad(
                        item.param, f"{label} aspect {w / h:.2f} is outside {a_lo}-{a_hi}."
                    )
            out.append(m)
        return out

    def start(
        self,
        *,
        model: str,
        prompt: str,
        mode: str,
        media: list[MediaInput],
        out: Outputs,
        fields: dict[str, Any] | None = None,
        last_frame_png: bool = False,
    ) -> TaskRecord:
        """Build the render spec and create the task (renders start at once)."""
        ratio = out.ratio
        if ratio == catalog.ADAPTIVE:
            sized = [m for m in media if m.kind in ("image", "video") and m.size]
            firsts = [m for m in sized if m.role == "first_frame"]
            ratio = closest_ratio((firsts or sized)[0].size if sized else None)
        width, height = catalog.PIXELS[(ratio, out.resolution)]
        frames = out.duration * catalog.FPS
        first = next((m for m in media if m.role == "first_frame"), None)
        last = next((m for m in media if m.role == "last_frame"), None)
        refs = [m for m in media if m.role.startswith("reference_")]
        header = f"{self.provider.label} · {model} · {out.resolution} {ratio} · {out.duration} s"
        if out.audio:
            header += " · ♪ audio"
        render = {
            "prompt": strip_triggers(prompt),
            "width": width,
            "height": height,
            "frames": frames,
            "fps": catalog.FPS,
            "audio": out.audio,
            "header": header,
            "seed": out.seed,
            "first_frame": first.as_json() if first else None,
            "last_frame": last.as_json() if last else None,
            "refs": [m.as_json() for m in refs],
            "last_frame_png": last_frame_png,
        }
        tokens = catalog.estimate_tokens(width, height, out.duration)
        info = {
            "mode": mode,
            "ratio": ratio,
            "resolution": out.resolution,
            "duration": out.duration,
            "generate_audio": out.audio,
            "tokens": tokens,
            "return_last_frame": last_frame_png,
            **(fields or {}),
        }
        return self.service.create_task(
            dialect=self.name,
            provider=self.provider.name,
            model=model,
            prompt=prompt,
            render=render,
            fields=info,
            id_prefix=self.id_prefix,
        )


def unix(t: float | None) -> int | None:
    return None if t is None else int(t)


def now() -> float:
    return time.time()


def path_id(path: str, prefix: str) -> str | None:
    """``/v1/tasks/abc`` with prefix ``/v1/tasks`` → ``abc`` (one segment only)."""
    if not path.startswith(prefix + "/"):
        return None
    rest = path[len(prefix) + 1 :]
    if not rest or "/" in rest:
        return None
    return urllib.parse.unquote(rest)


__all__ = ["GatewayRoutes", "MediaItem", "Outputs", "Refusal", "is_int", "mode_of", "path_id"]
