"""The still picture of a render, composed once: background or first/last frame, reference
cards, the prompt caption and a header (the moving parts drawn per frame are in ``motion``)."""

from __future__ import annotations

import colorsys
import hashlib
import io
import math
import threading
from collections.abc import Sequence
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .render_spec import Media, RenderSpec

_FONT_CANDIDATES = (
    "DejaVuSans.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/Library/Fonts/Arial.ttf",
    "C:/Windows/Fonts/arial.ttf",
    "LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


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
