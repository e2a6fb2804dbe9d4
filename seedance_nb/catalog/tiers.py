"""The Seedance tiers as ByteDance defines them, and the limits every provider inherits.

Sources: BytePlus ModelArk's integration guide
(https://ark.ap-southeast.bytepluses.com/api/v3, ``shared/seeds/002_a2a500d760babc2b.txt``),
EvoLink's OpenAPI (https://docs.evolink.ai, its pixel table) and ``shared/API-NOTES.md``.
Facts the sources disagree on are marked ``(?)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType
from typing import Literal

Mode = Literal["text", "first_frame", "first_last", "reference"]
MediaKind = Literal["image", "video", "audio"]

MODES: tuple[Mode, ...] = ("text", "first_frame", "first_last", "reference")
MODE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "text": "text-to-video",
        "first_frame": "first-frame image-to-video",
        "first_last": "first+last-frame image-to-video",
        "reference": "multimodal reference",
    }
)
FPS = 24
RATIOS: tuple[str, ...] = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9")
ADAPTIVE = "adaptive"
ALL_RATIOS: tuple[str, ...] = (*RATIOS, ADAPTIVE)
RESOLUTIONS: tuple[str, ...] = ("480p", "720p", "1080p", "4k")

# Output pixel sizes (EvoLink's table; Ark produces the same).
_PIXELS: dict[tuple[str, str], tuple[int, int]] = {
    ("16:9", "480p"): (864, 496), ("16:9", "720p"): (1280, 720), ("16:9", "1080p"): (1920, 1080),
    ("4:3", "480p"): (752, 560), ("4:3", "720p"): (1112, 834), ("4:3", "1080p"): (1664, 1248),
    ("1:1", "480p"): (640, 640), ("1:1", "720p"): (960, 960), ("1:1", "1080p"): (1440, 1440),
    ("3:4", "480p"): (560, 752), ("3:4", "720p"): (834, 1112), ("3:4", "1080p"): (1248, 1664),
    ("9:16", "480p"): (496, 864), ("9:16", "720p"): (720, 1280), ("9:16", "1080p"): (1080, 1920),
    ("21:9", "480p"): (992, 432), ("21:9", "720p"): (1470, 630), ("21:9", "1080p"): (2206, 946),
}  # fmt: skip
# Ark 2.0 also renders 4k; no public table gives its sizes, so we take twice 1080p (?).
for (_ratio, _res), (_w, _h) in list(_PIXELS.items()):
    if _res == "1080p":
        _PIXELS[(_ratio, "4k")] = (2 * _w, 2 * _h)
PIXELS: Mapping[tuple[str, str], tuple[int, int]] = MappingProxyType(_PIXELS)

# Reference media limits (Ark, 2.0). Gateways may narrow counts, never widen these.
IMAGE_FORMATS = frozenset({"jpeg", "png", "webp", "bmp", "tiff", "gif", "heic"})
VIDEO_FORMATS = frozenset({"mp4", "mov"})
AUDIO_FORMATS = frozenset({"wav", "mp3"})
IMAGE_SIDE_PX = (300, 6000)
IMAGE_ASPECT = (0.4, 2.5)
IMAGE_MAX_BYTES = 30 * 1024 * 1024
VIDEO_SECONDS = (2.0, 15.0)
VIDEO_TOTAL_SECONDS = 15.0
VIDEO_FPS = (24.0, 60.0)
VIDEO_PIXELS = (409_600, 2_086_876)
VIDEO_MAX_BYTES = 50 * 1024 * 1024  # (?)
AUDIO_SECONDS = (2.0, 15.0)
AUDIO_TOTAL_SECONDS = 15.0
AUDIO_MAX_BYTES = 15 * 1024 * 1024
REQUEST_MAX_BYTES = 64 * 1024 * 1024

OPTIONAL_PARAMS = (
    "seed",
    "watermark",
    "camera_fixed",
    "return_last_frame",
    "service_tier",
    "callback_url",
)


@dataclass(frozen=True)
class Tier:
    """A Seedance model tier as ByteDance defines it, before any provider narrows it."""

    name: str
    summary: str
    modes: frozenset[str]
    reference_kinds: frozenset[str]
    video_edit: bool
    audio: bool
    durations: tuple[int, int]
    resolutions: tuple[str, ...]
    camera_fixed: bool
    flex: bool
    max_reference_images: int = 9


def _tier(
    name: str,
    summary: str,
    modes: str,
    refs: str,
    *,
    edit: bool = False,
    audio: bool = False,
    durations: tuple[int, int] = (2, 12),
    resolutions: str = "480p 720p 1080p",
    camera_fixed: bool = True,
    flex: bool = True,
    max_images: int = 4,
) -> Tier:
    """One tier from space-separated word lists, so the table below reads as a table."""
    return Tier(
        name=name,
        summary=summary,
        modes=frozenset(modes.split()),
        reference_kinds=frozenset(refs.split()),
        video_edit=edit,
        audio=audio,
        durations=durations,
        resolutions=tuple(resolutions.split()),
        camera_fixed=camera_fixed,
        flex=flex,
        max_reference_images=max_images,
    )


_ALL_MODES = "text first_frame first_last reference"
# The 2.0 family: every mode, image/video/audio references, 4-15 s, no camera_fixed, no flex.
_two_oh = partial(
    _tier, audio=True, durations=(4, 15), camera_fixed=False, flex=False, max_images=9
)
TIERS: Mapping[str, Tier] = MappingProxyType(
    {
        t.name: t
        for t in (
            _two_oh(
                "seedance-2.0",
                "Flagship: text, frames and full multimodal references, audio",
                _ALL_MODES,
                "image video audio",
                edit=True,
            ),
            _two_oh(
                "seedance-2.0-fast",
                "Faster, cheaper 2.0 for iteration (up to 720p)",
                _ALL_MODES,
                "image video audio",
                edit=True,
                resolutions="480p 720p",
            ),
            _two_oh(
                "seedance-2.0-mini",
                "Smallest 2.0 (EvoLink only), no video edit",
                _ALL_MODES,
                "image video audio",
                resolutions="480p 720p",
            ),
            _tier(
                "seedance-1.5-pro",
                "1.5 Pro: image references, native audio",
                _ALL_MODES,
                "image",
                audio=True,
                durations=(4, 12),
            ),
            _tier("seedance-1.0-pro", "1.0 Pro: silent, 2-12 s, up to 1080p", _ALL_MODES, "image"),
            _tier(
                "seedance-1.0-pro-fast",
                "1.0 Pro Fast: silent, no first+last frame",
                "text first_frame reference",
                "image",
            ),
            _tier(
                "seedance-1.0-lite-i2v",
                "1.0 Lite image-to-video (needs an image)",
                "first_frame first_last reference",
                "image",
                resolutions="480p 720p",
            ),
            _tier(
                "seedance-1.0-lite-t2v",
                "1.0 Lite text-to-video only",
                "text",
                "",
                resolutions="480p 720p",
            ),
        )
    }
)

DEFAULT_TIER = "seedance-2.0"


def pixel_size(ratio: str, resolution: str) -> tuple[int, int]:
    """Output frame size; ``adaptive`` is estimated as 16:9 until the provider decides."""
    key = (ratio if ratio in RATIOS else "16:9", resolution)
    return PIXELS[key]
