"""Render a real, browser-playable MP4 for an emulated task (PyAV + Pillow + numpy).

Heavy imports live here and in the modules it uses; the server imports this module inside
the render worker.
This module muxes: the pictures come from ``frames`` (a static base composed once) and
``motion`` (a few moving parts per frame), the sound from ``audio``, the spec and cache key from
``render_spec``. Every name the rest of the emulator used from here is still importable.
"""

from __future__ import annotations

import io
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
from PIL import Image

from .audio import SAMPLE_RATE, AudioTrack, tone
from .frames import (
    card_image,
    compose_base,
    contain,
    cover,
    font,
    gradient,
    load_image,
    palette,
    video_thumbnail,
    wrap,
)
from .motion import FramePainter, TimecodeStamp, disc_sprite
from .render_spec import RENDER_VERSION, Media, RenderResult, RenderSpec, media_digest, render_key


def render(
    spec: RenderSpec,
    out_dir: Path,
    key: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> RenderResult:
    """Write ``{key}.mp4`` (and ``{key}.png``) under ``out_dir`` atomically; reuse if present."""
    t0 = time.perf_counter()
    key = key or render_key(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"{key}.mp4"
    png = out_dir / f"{key}.png" if spec.last_frame_png else None
    if video.exists() and (png is None or png.exists()):
        return RenderResult(video, png, 0.0)
    painter = FramePainter(spec)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{key}.", suffix=".mp4", dir=out_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        last_rgb = _encode(tmp, spec, painter, progress)
        if png is not None and last_rgb is not None:
            fd, tmp_png = tempfile.mkstemp(prefix=f".{key}.", suffix=".png", dir=out_dir)
            os.close(fd)
            Image.fromarray(last_rgb).save(tmp_png, format="PNG", compress_level=1)
            os.replace(tmp_png, png)
        os.replace(tmp, video)
    finally:
        if tmp.exists():
            tmp.unlink()
    return RenderResult(video, png, time.perf_counter() - t0)


def _encode(
    path: Path,
    spec: RenderSpec,
    painter: FramePainter,
    progress: Callable[[float], None] | None,
) -> np.ndarray | None:
    """Mux H.264 frames (and AAC in step) into ``path``; returns the last frame's pixels."""
    n, fps = spec.frames, spec.fps
    last_rgb: np.ndarray | None = None
    with av.open(str(path), mode="w", format="mp4", options={"movflags": "+faststart"}) as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = spec.width, spec.height, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "26", "tune": "zerolatency"}
        vs.codec_context.thread_count = 2
        track = AudioTrack(c, n / fps, spec.prompt) if spec.audio else None
        for i in range(n):
            frame = painter.paint(i)
            vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
            vf.pts = i
            for packet in vs.encode(vf):
                c.mux(packet)
            if track is not None:
                track.feed_until((i + 1) / fps)
            if i == n - 1:
                last_rgb = frame.copy()
            if progress is not None and i % 24 == 0:
                progress(i / n)
        for packet in vs.encode(None):
            c.mux(packet)
        if track is not None:
            track.flush()
    return last_rgb


def image_size(data: bytes) -> tuple[int, int] | None:
    """Pixel size of an encoded image without decoding it all (for adaptive ratio)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:
        return None


def video_size(data: bytes) -> tuple[int, int] | None:
    """Pixel size of a video's first stream (for adaptive ratio)."""
    try:
        with av.open(io.BytesIO(data)) as c:
            s = c.streams.video[0]
            return s.codec_context.width, s.codec_context.height
    except Exception:
        return None


__all__ = [
    "RENDER_VERSION",
    "SAMPLE_RATE",
    "FramePainter",
    "Media",
    "RenderResult",
    "RenderSpec",
    "TimecodeStamp",
    "card_image",
    "compose_base",
    "contain",
    "cover",
    "disc_sprite",
    "font",
    "gradient",
    "image_size",
    "load_image",
    "media_digest",
    "palette",
    "render",
    "render_key",
    "tone",
    "video_size",
    "video_thumbnail",
    "wrap",
]
