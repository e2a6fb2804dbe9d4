"""Reference media: where it comes from, what it is, and how it travels on the wire.

A reference is a URL, a ``data:`` URL, an ``asset://`` id, a local path, raw bytes, a
Pillow image or an :class:`Asset` (what :func:`seedance_nb.engine.assets.register_asset` returns; a
plain value, so it lives here with the other references). URLs are checked for what no server
could use (whitespace or control characters, an unclosed IPv6 bracket, no host, a bad
port), and local files are probed (Pillow for images, PyAV for video and audio), so that a
wrong URL, format, size or length is refused before any money is spent. Pillow and PyAV are
imported only when a local file is actually probed.
"""

from __future__ import annotations

import base64
import hashlib
import io
import mimetypes
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ..errors import InvalidRequest
from .urls import (
    ASSET_ALLOWED,
    URL_ALLOWED,
    asset_problem,
    data_url_problem,
    refuse_url,
    url_problem,
)

MediaKind = Literal["image", "video", "audio"]
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*://")

_IMAGE_EXT = {
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".png": "png",
    ".webp": "webp",
    ".bmp": "bmp",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".gif": "gif",
    ".heic": "heic",
}
_VIDEO_EXT = {".mp4": "mp4", ".mov": "mov", ".m4v": "mp4"}
_AUDIO_EXT = {".wav": "wav", ".mp3": "mp3"}
_EXT_BY_KIND = {"image": _IMAGE_EXT, "video": _VIDEO_EXT, "audio": _AUDIO_EXT}
_PIL_FORMATS = {
    "JPEG": "jpeg",
    "PNG": "png",
    "WEBP": "webp",
    "BMP": "bmp",
    "TIFF": "tiff",
    "GIF": "gif",
    "HEIF": "heic",
    "MPO": "jpeg",
}


@dataclass(frozen=True)
class Asset:
    """A registered medium: pass ``asset.url`` (or the asset itself) as a reference."""

    id: str
    url: str
    content_type: str
    size: int
    filename: str | None = None

    def __str__(self) -> str:
        return self.url


class MediaRef(BaseModel):
    """One attached medium, probed. Hashing uses ``url`` for remote media, ``sha256`` for local."""

    model_config = ConfigDict(frozen=True)

    kind: MediaKind
    role: str
    source: str  # what the user gave, for messages (a path, a URL, '<bytes>')
    url: str | None = None  # remote http(s) URL, asset:// id, or a data: URL given as such
    path: str | None = None  # local file, absolute
    sha256: str | None = None
    format: str | None = None
    size_bytes: int | None = None
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    fps: float | None = None

    @property
    def is_local(self) -> bool:
        return self.path is not None

    @property
    def identity(self) -> str:
        """What makes two references the same for the request hash."""
        if self.sha256:
            return f"sha256:{self.sha256}"
        return self.url or self.source

    def read_bytes(self) -> bytes:
        if self.path is None:
            raise ValueError("only local media has bytes to read")
        return Path(self.path).read_bytes()

    def data_url(self) -> str:
        """The medium as a ``data:`` URL (how local images travel to Ark)."""
        if self.url and self.url.startswith("data:"):
            return self.url
        mime = _mime(self.kind, self.format)
        return f"data:{mime};base64,{base64.b64encode(self.read_bytes()).decode('ascii')}"

    def short(self) -> str:
        text = self.source
        if text.startswith("data:"):
            text = text[:30] + "…"
        return text if len(text) <= 60 else "…" + text[-57:]


def _mime(kind: str, fmt: str | None) -> str:
    if kind == "image":
        return f"image/{fmt or 'png'}"
    if kind == "video":
        return "video/quicktime" if fmt == "mov" else "video/mp4"
    return "audio/mpeg" if fmt == "mp3" else "audio/wav"


def resolve_media(
    value: Any,
    kind: MediaKind,
    role: str,
    *,
    field: str,
    workdir: Path | None = None,
    probe: bool = True,
) -> MediaRef:
    """Turn what a user attached into a probed :class:`MediaRef`, or say what is wrong."""
    if isinstance(value, MediaRef):
        return value
    if isinstance(value, Asset):  # what register_asset returned: its asset:// url
        value = value.url
    if hasattr(value, "save") and hasattr(value, "size") and kind == "image":
        buf = io.BytesIO()
        value.save(buf, format="PNG")
        return _from_bytes(
            buf.getvalue(),
            kind,
            role,
            field=field,
            source="<PIL image>",
            workdir=workdir,
            probe=probe,
        )
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _from_bytes(
            bytes(value), kind, role, field=field, source="<bytes>", workdir=workdir, probe=probe
        )
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(
            f"{field}: expected a URL, a local path, asset://ID, bytes or an image, got "
            f"{type(value).__name__} {value!r:.60}",
            field=field,
            value=value,
            allowed="URL, path, asset://ID",
        )
    return _from_text(value.strip(), kind, role, field=field, workdir=workdir, probe=probe)


def _from_text(
    text: str, kind: MediaKind, role: str, *, field: str, workdir: Path | None, probe: bool
) -> MediaRef:
    """A reference given as text: an http(s) URL, asset://ID, data: URL or a local path."""
    lower = text.lower()
    if lower.startswith(("http:", "https:")):
        refuse_url(field, text, url_problem(text), URL_ALLOWED)
        return MediaRef(kind=kind, role=role, source=text, url=text, format=_ext_format(kind, text))
    if lower.startswith("asset:"):
        refuse_url(field, text, asset_problem(text), ASSET_ALLOWED)
        text = "asset://" + text[len("asset://") :]  # one spelling, for the checks that follow
        return MediaRef(kind=kind, role=role, source=text, url=text)
    if lower.startswith("data:"):
        refuse_url(field, text, data_url_problem(text), f"data:{kind}/<format>;base64,<payload>")
        text = "data:" + text[len("data:") :]
        head = lower.split(",", 1)[0]
        if not head.startswith(f"data:{kind}/"):
            raise InvalidRequest(
                f"{field}: a data: URL for a {kind} must start with data:{kind}/…; got {head[:40]}",
                field=field,
                value=head,
                allowed=f"data:{kind}/<format>;base64,…",
            )
        fmt = head[len(f"data:{kind}/") :].split(";")[0]
        return MediaRef(kind=kind, role=role, source=text, url=text, format=fmt or None)
    if _SCHEME.match(text) and not lower.startswith("file://"):
        scheme = text.split("://", 1)[0]
        raise InvalidRequest(
            f"{field}: {text!r} uses {scheme}://, which is not supported; use https://, asset:// or a local path",
            field=field,
            value=text,
            allowed="https://…, asset://…, a local path",
        )
    if lower.startswith("file://"):
        text = text[7:]
    return _from_path(text, kind, role, field=field, workdir=workdir, probe=probe)


def _from_path(
    text: str, kind: MediaKind, role: str, *, field: str, workdir: Path | None, probe: bool
) -> MediaRef:
    """A local file (relative paths also tried under ``workdir``), probed."""
    # os.path leaves "~name" as it is when there is no such user (Path.expanduser raises)
    path = Path(os.path.expanduser(text))
    if not path.is_absolute() and workdir is not None and not path.exists():
        candidate = workdir / path
        path = candidate if candidate.exists() else path
    if not path.exists():
        raise InvalidRequest(
            f"{field}: no such file {text!r} (looked in {Path.cwd()})",
            field=field,
            value=text,
            allowed="an existing file, a URL or asset://ID",
        )
    if not path.is_file():
        raise InvalidRequest(f"{field}: {text!r} is not a file", field=field, value=text)
    return _probe_file(path.resolve(), kind, role, field=field, source=text, probe=probe)


def _ext_format(kind: str, text: str) -> str | None:
    suffix = Path(text.split("?", 1)[0]).suffix.lower()
    return _EXT_BY_KIND[kind].get(suffix)


def _from_bytes(
    data: bytes,
    kind: MediaKind,
    role: str,
    *,
    field: str,
    source: str,
    workdir: Path | None,
    probe: bool,
) -> MediaRef:
    """Bytes are kept as a content-addressed file so the job can be replayed after a restart."""
    digest = hashlib.sha256(data).hexdigest()
    folder = (workdir or Path.cwd() / "seedance-output") / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{digest[:16]}.{kind}"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(data)
        tmp.replace(path)
    return _probe_file(path, kind, role, field=field, source=source, probe=probe, digest=digest)


def _probe_file(
    path: Path,
    kind: MediaKind,
    role: str,
    *,
    field: str,
    source: str,
    probe: bool,
    digest: str | None = None,
) -> MediaRef:
    size = path.stat().st_size
    if digest is None:
        h = hashlib.sha256()
        with path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        digest = h.hexdigest()
    info: dict[str, Any] = {"format": _EXT_BY_KIND[kind].get(path.suffix.lower())}
    if probe:
        info = probe_image(path, field) if kind == "image" else probe_av(path, kind, field)
    return MediaRef(
        kind=kind, role=role, source=source, path=str(path), sha256=digest, size_bytes=size, **info
    )


def probe_image(path: Path, field: str) -> dict[str, Any]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            fmt = _PIL_FORMATS.get(im.format or "", (im.format or "").lower() or None)
            return {"format": fmt, "width": im.width, "height": im.height}
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidRequest(
            f"{field}: {path.name} is not an image Pillow can read ({exc.__class__.__name__})",
            field=field,
            value=str(path),
            allowed="jpeg, png, webp, bmp, tiff, gif",
        ) from None


def probe_av(path: Path, kind: MediaKind, field: str) -> dict[str, Any]:
    import av

    try:
        with av.open(str(path)) as container:
            names = (container.format.name or "").split(",")
            duration = float(container.duration / 1_000_000) if container.duration else None
            if kind == "video":
                stream = next((s for s in container.streams if s.type == "video"), None)
                if stream is None:
                    raise InvalidRequest(
                        f"{field}: {path.name} has no video stream", field=field, value=str(path)
                    )
                fps = float(stream.average_rate) if stream.average_rate else None
                if duration is None and stream.duration and stream.time_base:
                    duration = float(stream.duration * stream.time_base)
                fmt = (
                    "mov"
                    if path.suffix.lower() == ".mov"
                    else ("mp4" if "mp4" in names else names[0])
                )
                return {
                    "format": fmt,
                    "width": stream.codec_context.width,
                    "height": stream.codec_context.height,
                    "duration": duration,
                    "fps": fps,
                }
            stream = next((s for s in container.streams if s.type == "audio"), None)
            if stream is None:
                raise InvalidRequest(
                    f"{field}: {path.name} has no audio stream", field=field, value=str(path)
                )
            fmt = "mp3" if "mp3" in names else ("wav" if "wav" in names else names[0])
            return {"format": fmt, "duration": duration}
    except InvalidRequest:
        raise
    except Exception as exc:  # PyAV raises many error types for unreadable files
        raise InvalidRequest(
            f"{field}: {path.name} is not {'an' if kind == 'audio' else 'a'} {kind} file PyAV can read "
            f"({exc.__class__.__name__})",
            field=field,
            value=str(path),
            allowed="mp4, mov" if kind == "video" else "wav, mp3",
        ) from None


def guess_mime(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
