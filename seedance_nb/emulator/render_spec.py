"""What a render is made of: the input media, the spec that fixes every pixel, the cache key.

Light on purpose (no PyAV, numpy or Pillow) so the service can build a spec and its key
anywhere; the drawing lives in ``frames``, the audio in ``audio``, the muxing in ``render``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

RENDER_VERSION = 3  # bump when the look changes so the render cache is not reused


@dataclass(frozen=True)
class Media:
    """One input medium as the renderer sees it: bytes if we have them, else a placeholder."""

    kind: str  # image | video | audio
    label: str  # "Image 1", "Video 2", ...
    data: bytes | None = None
    note: str = ""  # shown on a placeholder chip (e.g. the URL's host)


@dataclass(frozen=True)
class RenderSpec:
    """Everything that determines the output pixels and samples (and so the cache key)."""

    prompt: str
    width: int
    height: int
    frames: int
    fps: int = 24
    audio: bool = False
    header: str = ""
    seed: int | None = None
    first_frame: Media | None = None
    last_frame: Media | None = None
    refs: tuple[Media, ...] = field(default_factory=tuple)
    last_frame_png: bool = False


@dataclass(frozen=True)
class RenderResult:
    """The files a render wrote and how long it took (0 when the cache answered)."""

    video: Path
    last_frame: Path | None
    seconds: float


def media_digest(m: Media | None) -> str:
    """A medium's part of the cache key: kind, label, content hash and note."""
    if m is None:
        return "-"
    body = hashlib.sha256(m.data).hexdigest() if m.data is not None else "none"
    return f"{m.kind}:{m.label}:{body}:{m.note}"


def render_key(spec: RenderSpec) -> str:
    """A stable hash of the render parameters: identical tasks reuse the same file."""
    parts = [
        f"v{RENDER_VERSION}",
        spec.prompt,
        f"{spec.width}x{spec.height}@{spec.fps}x{spec.frames}",
        f"audio={spec.audio}",
        spec.header,
        f"seed={spec.seed}",
        media_digest(spec.first_frame),
        media_digest(spec.last_frame),
        *(media_digest(m) for m in spec.refs),
        f"png={spec.last_frame_png}",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
