"""Render a real, browser-playable MP4 for an emulated task (PyAV + Pillow + numpy).

Heavy imports live here only; the server imports this module inside the render worker.
The frame is composed once into static layers (background or first/last frame, reference
cards, the prompt caption, a header); per frame we only copy that base and draw a few small
moving things (sweep line, progress bar, bouncing disc, timecode), so a 5 s 480p clip takes
well under two seconds on one core.
"""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

RENDER_VERSION = 3  # bump when the look changes so the render cache is not reused
SAMPLE_RATE = 48_000
_FONT_CANDIDATES = (
    "DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
    "LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


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
    video: Path
    last_frame: Path | None
    seconds: float


def media_digest(m: Media | None) -> str:
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


# ---------------------------------------------------------------------------------- fonts


_fonts = threading.local()


def font(size: int) -> Any:
    """A TrueType font (per thread: FreeType faces are not shared between render workers)."""
    cache = getattr(_fonts, "cache", None)
    if cache is None:
        cache = _fonts.cache = {}
    if size not in cache:
        cache[size] = _load_font(size)
    return cache[size]


def _load_font(size: int) -> Any:
    """A TrueType font if the system has one (readable), else Pillow's scalable default."""
    for name in _FONT_CANDIDATES:
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1
        return ImageFont.load_default()


def wrap(text: str, fnt: Any, width: int, max_lines: int) -> list[str]:
    """Greedy word wrap by measured pixel width; ellipsis when it runs out of lines."""
    words = text.split()
    lines: list[str] = []
    cur = ""
    for word in words:
        trial = f"{cur} {word}".strip()
        if fnt.getlength(trial) <= width or not cur:
            cur = trial
            while fnt.getlength(cur) > width and len(cur) > 1:  # one very long word
                cut = max(1, int(len(cur) * width / fnt.getlength(cur)) - 1)
                lines.append(cur[:cut])
                cur = cur[cut:]
        else:
            lines.append(cur)
            cur = word
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        while last and fnt.getlength(last + " …") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + " …"
    return lines or [""]


# ---------------------------------------------------------------------------------- media


def load_image(data: bytes) -> Image.Image | None:
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
        return img.convert("RGB")
    except Exception:
        return None


def video_thumbnail(data: bytes) -> Image.Image | None:
    """First decodable frame of a reference video, so the card shows what was sent."""
    try:
        with av.open(io.BytesIO(data)) as c:
            for frame in c.decode(video=0):
                return frame.to_image().convert("RGB")
    except Exception:
        return None
    return None


def cover(img: Image.Image, w: int, h: int) -> Image.Image:
    """Scale to fill (w, h) and centre-crop: how Ark treats a frame of another aspect."""
    scale = max(w / img.width, h / img.height)
    nw, nh = max(w, round(img.width * scale)), max(h, round(img.height * scale))
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - w) // 2, (nh - h) // 2
    return img.crop((left, top, left + w, top + h))


def contain(img: Image.Image, w: int, h: int) -> Image.Image:
    scale = min(w / img.width, h / img.height)
    return img.resize(
        (max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.BILINEAR
    )


# ---------------------------------------------------------------------------------- layout


def palette(
    spec: RenderSpec,
) -> tuple[tuple[int, int, int], tuple[int, int, int], tuple[int, int, int]]:
    """Two background colours and an accent derived from the prompt (and an explicit seed)."""
    h = hashlib.sha256(f"{spec.prompt}|{spec.seed}".encode()).digest()
    hue = h[0] / 255

    def rgb(hh: float, s: float, v: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hsv_to_rgb(hh % 1.0, s, v)
        return int(r * 255), int(g * 255), int(b * 255)

    return rgb(hue, 0.55, 0.35), rgb(hue + 0.12, 0.65, 0.18), rgb(hue + 0.5, 0.6, 0.95)


def gradient(w: int, h: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> np.ndarray:
    t = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
    a = np.array(top, dtype=np.float32)[None, :]
    b = np.array(bottom, dtype=np.float32)[None, :]
    col = (a * (1 - t) + b * t).astype(np.uint8)  # (h, 3)
    return np.ascontiguousarray(np.broadcast_to(col[:, None, :], (h, w, 3)))


def _chip(
    draw: ImageDraw.ImageDraw,
    xy: tuple[int, int],
    text: str,
    size: int,
    fill: tuple[int, int, int, int] = (0, 0, 0, 190),
) -> None:
    fnt = font(size)
    pad = max(3, size // 3)
    w = int(fnt.getlength(text))
    x, y = xy
    draw.rounded_rectangle((x, y, x + w + 2 * pad, y + size + 2 * pad), radius=pad, fill=fill)
    draw.text((x + pad, y + pad - size // 10), text, font=fnt, fill=(255, 255, 255, 255))


def _placeholder(m: Media, w: int, h: int) -> Image.Image:
    card = Image.new("RGB", (w, h), (70, 74, 84))
    d = ImageDraw.Draw(card)
    d.rectangle((0, 0, w - 1, h - 1), outline=(150, 150, 160), width=2)
    d.line((0, 0, w, h), fill=(100, 104, 114), width=2)
    d.line((0, h, w, 0), fill=(100, 104, 114), width=2)
    size = max(10, h // 7)
    fnt = font(size)
    text = m.label if m.kind != "audio" else f"♪ {m.label}"
    tw = fnt.getlength(text)
    d.text(((w - tw) / 2, h / 2 - size), text, font=fnt, fill=(240, 240, 240))
    if m.note:
        small = font(max(8, size // 2))
        note = m.note if small.getlength(m.note) < w - 8 else m.note[: max(4, w // size)] + "…"
        d.text(((w - small.getlength(note)) / 2, h / 2 + 4), note, font=small, fill=(200, 200, 210))
    return card


def _audio_card(m: Media, w: int, h: int, accent: tuple[int, int, int]) -> Image.Image:
    card = Image.new("RGB", (w, h), (30, 34, 44))
    d = ImageDraw.Draw(card)
    seed = int(hashlib.sha256(m.data or m.label.encode()).hexdigest()[:8], 16)
    bars = 24
    bw = w / (bars * 1.5)
    for i in range(bars):
        amp = 0.2 + 0.8 * abs(math.sin(seed % 97 + i * 0.7)) * (0.6 + 0.4 * math.sin(i * 0.3))
        bh = amp * h * 0.6
        x = (i * 1.5 + 0.5) * bw
        d.rectangle((x, h / 2 - bh / 2, x + bw, h / 2 + bh / 2), fill=accent)
    return card


def card_image(m: Media, w: int, h: int, accent: tuple[int, int, int]) -> Image.Image:
    img: Image.Image | None = None
    if m.data is not None:
        if m.kind == "image":
            img = load_image(m.data)
        elif m.kind == "video":
            img = video_thumbnail(m.data)
        elif m.kind == "audio":
            return _audio_card(m, w, h, accent)
    if img is None:
        return _placeholder(m, w, h)
    return contain(img, w, h)


def _layer_header(draw: ImageDraw.ImageDraw, spec: RenderSpec, w: int, h: int) -> None:
    size = max(11, h // 30)
    text = spec.header or f"{w}×{h} · {spec.fps} fps"
    _chip(draw, (max(6, w // 80), max(6, h // 60)), "Seedance emulator · " + text, size)


def _layer_caption(overlay: Image.Image, spec: RenderSpec, w: int, h: int, top: int) -> None:
    """The prompt, wrapped, on a translucent band: the clip says what it was asked for."""
    size = max(12, min(h // 18, w // 30))
    fnt = font(size)
    margin = max(8, w // 40)
    max_lines = max(1, (h - top - 2 * margin) // int(size * 1.25))
    lines = wrap(spec.prompt or "(no prompt)", fnt, w - 2 * margin, min(max_lines, 5))
    band_h = int(len(lines) * size * 1.25) + margin
    y0 = h - band_h - max(10, h // 40)
    d = ImageDraw.Draw(overlay)
    d.rectangle((0, y0, w, y0 + band_h), fill=(0, 0, 0, 150))
    for i, line in enumerate(lines):
        d.text(
            (margin, y0 + margin // 2 + int(i * size * 1.25)),
            line,
            font=fnt,
            fill=(255, 255, 255, 255),
        )


def _layer_refs(
    base: Image.Image,
    overlay: Image.Image,
    refs: Sequence[Media],
    w: int,
    h: int,
    accent: tuple[int, int, int],
) -> int:
    """Reference cards in a row under the header; returns the y where the cards end."""
    if not refs:
        return h // 8
    n = len(refs)
    cols = min(n, 5)
    rows = math.ceil(n / cols)
    top = max(30, h // 9)
    area_h = int(h * (0.48 if rows == 1 else 0.56))
    gap = max(6, w // 80)
    cw = (w - gap * (cols + 1)) // cols
    ch = (area_h - gap * (rows - 1)) // rows
    d = ImageDraw.Draw(overlay)
    label_size = max(10, min(ch // 7, 22))
    for i, m in enumerate(refs):
        r, c = divmod(i, cols)
        x = gap + c * (cw + gap)
        y = top + r * (ch + gap)
        img = card_image(m, cw, ch, accent)
        ox = x + (cw - img.width) // 2
        oy = y + (ch - img.height) // 2
        base.paste(img, (ox, oy))
        d.rectangle((ox - 1, oy - 1, ox + img.width, oy + img.height), outline=(255, 255, 255, 200))
        _chip(
            d,
            (ox + 4, oy + 4),
            f"[{m.label}]",
            label_size,
            fill=(*accent, 230) if m.data is not None else (0, 0, 0, 200),
        )
    return top + area_h


def compose_base(spec: RenderSpec, frame_media: Media | None) -> tuple[np.ndarray, bool]:
    """The static RGB layer; returns (pixels, has_photo) where a photo means first/last frame."""
    w, h = spec.width, spec.height
    top, bottom, accent = palette(spec)
    photo = load_image(frame_media.data) if frame_media and frame_media.data else None
    if photo is not None:
        base = cover(photo, w, h)
    else:
        base = Image.fromarray(gradient(w, h, top, bottom))
    overlay = Image.new("RGBA", (w, h), (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    chips: list[Media] = list(spec.refs)
    if frame_media is not None and photo is None:
        chips.insert(0, frame_media)  # a frame we could not fetch still shows as a card
    cards_end = _layer_refs(base, overlay, chips, w, h, accent)
    _layer_header(d, spec, w, h)
    if photo is not None and frame_media is not None:
        label = f"[{spec.first_frame.label}] first frame" if spec.first_frame else ""
        if spec.last_frame is not None:
            label += f" → [{spec.last_frame.label}] last frame"
        _chip(
            d,
            (max(6, w // 80), max(6, h // 60) + max(11, h // 30) + 14),
            label.strip(" →"),
            max(10, h // 36),
        )
    _layer_caption(overlay, spec, w, h, cards_end)
    out = Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB")
    return np.asarray(out, dtype=np.uint8).copy(), photo is not None


def disc_sprite(d: int, color: tuple[int, int, int]) -> tuple[np.ndarray, np.ndarray]:
    yy, xx = np.mgrid[0:d, 0:d].astype(np.float32)
    r = d / 2
    dist = np.sqrt((xx - r + 0.5) ** 2 + (yy - r + 0.5) ** 2)
    alpha = np.clip(r - dist, 0, 1.0) * 0.85
    glow = np.clip(1.0 - dist / r, 0, 1.0) ** 0.5
    rgb = (np.array(color, np.float32)[None, None, :] * (0.6 + 0.4 * glow[..., None])).astype(
        np.uint16
    )
    return rgb, (alpha * 256).astype(np.uint16)[..., None]


class TimecodeStamp:
    """Renders the per-frame timecode into a small fixed patch (the only text drawn per frame)."""

    def __init__(self, spec: RenderSpec) -> None:
        self.size = max(12, spec.height // 26)
        self.font = font(self.size)
        total = spec.frames / spec.fps
        sample = self.text(total, spec.frames, spec.frames)
        pad = self.size // 2
        self.w = int(self.font.getlength(sample)) + 2 * pad
        self.h = self.size + 2 * pad
        self.pad = pad
        self.total = total

    @staticmethod
    def text(t: float, i: int, n: int) -> str:
        return f"{int(t // 60):02d}:{t % 60:05.2f}  {i}/{n}"

    def patch(self, i: int, n: int, fps: int) -> np.ndarray:
        img = Image.new("RGB", (self.w, self.h), (12, 12, 16))
        d = ImageDraw.Draw(img)
        d.text(
            (self.pad, self.pad - self.size // 10),
            self.text(i / fps, i + 1, n),
            font=self.font,
            fill=(255, 255, 255),
        )
        return np.asarray(img)


# ---------------------------------------------------------------------------------- audio


def tone(seconds_samples: int, seed_text: str) -> np.ndarray:
    """A soft major chord with a slow swell: pleasant, obviously synthetic, exact length."""
    n = seconds_samples
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    roots = (220.0, 246.94, 261.63, 293.66, 329.63)
    root = roots[int(hashlib.sha256(seed_text.encode()).hexdigest()[:2], 16) % len(roots)]
    sig = np.zeros(n)
    for ratio, amp in ((1.0, 0.5), (1.25, 0.32), (1.5, 0.28), (2.0, 0.15)):
        sig += amp * np.sin(2 * np.pi * root * ratio * t)
    swell = 0.75 + 0.25 * np.sin(2 * np.pi * 0.5 * t)
    fade = np.minimum(1.0, np.minimum(t / 0.05, (n / SAMPLE_RATE - t) / 0.15))
    sig *= 0.22 * swell * np.clip(fade, 0, 1)
    left = sig
    right = sig * (0.9 + 0.1 * np.sin(2 * np.pi * 0.25 * t))
    return np.stack([left, right]).astype(np.float32)


# ---------------------------------------------------------------------------------- encode


def render(
    spec: RenderSpec,
    out_dir: Path,
    key: str | None = None,
    progress: Callable[[float], None] | None = None,
) -> RenderResult:
    """Write ``{key}.mp4`` (and ``{key}.png``) under ``out_dir`` atomically; reuse if present."""
    import time

    t0 = time.perf_counter()
    key = key or render_key(spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    video = out_dir / f"{key}.mp4"
    png = out_dir / f"{key}.png" if spec.last_frame_png else None
    if video.exists() and (png is None or png.exists()):
        return RenderResult(video, png, 0.0)

    w, h, n, fps = spec.width, spec.height, spec.frames, spec.fps
    _, _, accent = palette(spec)
    start_frame = spec.first_frame
    base_a, photo = compose_base(spec, start_frame)
    base_b: np.ndarray | None = None
    if spec.last_frame is not None:
        base_b, photo_b = compose_base(spec, spec.last_frame)
        photo = photo or photo_b
    a16 = base_a.astype(np.uint16) if base_b is not None else None
    b16 = base_b.astype(np.uint16) if base_b is not None else None

    stamp = TimecodeStamp(spec)
    disc_d = max(16, h // 9)
    disc_rgb, disc_a = disc_sprite(disc_d, accent)
    inv_a = 256 - disc_a
    bar_h = max(4, h // 90)
    accent_arr = np.array(accent, np.uint8)
    sweep_w = max(2, w // 300)

    fd, tmp_name = tempfile.mkstemp(prefix=f".{key}.", suffix=".mp4", dir=out_dir)
    os.close(fd)
    tmp = Path(tmp_name)
    last_rgb: np.ndarray | None = None
    try:
        with av.open(str(tmp), mode="w", format="mp4", options={"movflags": "+faststart"}) as c:
            vs = c.add_stream("libx264", rate=fps)
            vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
            vs.options = {"preset": "ultrafast", "crf": "26", "tune": "zerolatency"}
            vs.codec_context.thread_count = 2
            astream = None
            samples = None
            if spec.audio:
                astream = c.add_stream("aac", rate=SAMPLE_RATE)
                astream.layout = "stereo"
                astream.bit_rate = 96_000
                samples = tone(round(n / fps * SAMPLE_RATE), spec.prompt)
            audio_pos = 0
            blend_cache: tuple[int, np.ndarray] | None = None
            frame = np.empty((h, w, 3), np.uint8)
            for i in range(n):
                t = i / max(1, n - 1)
                # background: static, or the cross-fade first → last frame (quantised steps)
                if a16 is not None and b16 is not None:
                    k = round(t * 64) * 4
                    if blend_cache is None or blend_cache[0] != k:
                        mixed = ((a16 * (256 - k) + b16 * k) >> 8).astype(np.uint8)
                        blend_cache = (k, mixed)
                    np.copyto(frame, blend_cache[1])
                else:
                    np.copyto(frame, base_a)
                # sweeping line across the frame
                x = int(t * (w - sweep_w))
                strip = frame[:, x : x + sweep_w]
                strip >>= 1
                strip += 127
                # progress bar on the bottom edge
                frame[h - bar_h :, : max(1, int((i + 1) / n * w))] = accent_arr
                # bouncing disc (skipped over a photo, which should stay itself)
                if not photo:
                    phase = i / fps
                    dx = int((0.5 + 0.42 * math.sin(phase * 1.3)) * (w - disc_d))
                    dy = int((0.5 + 0.35 * math.sin(phase * 2.1 + 1.0)) * (h - disc_d))
                    patch = frame[dy : dy + disc_d, dx : dx + disc_d]
                    patch[...] = ((patch * inv_a + disc_rgb * disc_a) >> 8).astype(np.uint8)
                # timecode, top right
                tc = stamp.patch(i, n, fps)
                tx, ty = w - tc.shape[1] - max(6, w // 80), max(6, h // 60)
                frame[ty : ty + tc.shape[0], tx : tx + tc.shape[1]] = tc
                vf = av.VideoFrame.from_ndarray(frame, format="rgb24")
                vf.pts = i
                for packet in vs.encode(vf):
                    c.mux(packet)
                if astream is not None and samples is not None:
                    until = min(samples.shape[1], round((i + 1) / fps * SAMPLE_RATE))
                    while audio_pos < until:
                        chunk = samples[:, audio_pos : min(until, audio_pos + 1024)]
                        af = av.AudioFrame.from_ndarray(
                            np.ascontiguousarray(chunk), format="fltp", layout="stereo"
                        )
                        af.sample_rate = SAMPLE_RATE
                        af.pts = audio_pos
                        for packet in astream.encode(af):
                            c.mux(packet)
                        audio_pos += chunk.shape[1]
                if i == n - 1:
                    last_rgb = frame.copy()
                if progress is not None and i % 24 == 0:
                    progress(i / n)
            for packet in vs.encode(None):
                c.mux(packet)
            if astream is not None:
                for packet in astream.encode(None):
                    c.mux(packet)
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


def image_size(data: bytes) -> tuple[int, int] | None:
    """Pixel size of an encoded image without decoding it all (for adaptive ratio)."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return img.size
    except Exception:
        return None


def video_size(data: bytes) -> tuple[int, int] | None:
    try:
        with av.open(io.BytesIO(data)) as c:
            s = c.streams.video[0]
            return s.codec_context.width, s.codec_context.height
    except Exception:
        return None


__all__ = [
    "Media",
    "RenderResult",
    "RenderSpec",
    "image_size",
    "render",
    "render_key",
    "video_size",
]
