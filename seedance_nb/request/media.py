"""Reference media: where it comes from, what it is, and how it travels on the wire.

A reference is a URL, a ``data:`` URL, an ``asset://`` id, a local path, raw bytes, a
Pillow image or an :class:`Asset` (what :func:`seedance_nb.assets.register_asset` returns; a
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
import ipaddress
import mimetypes
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

from ..errors import InvalidRequest

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
    text = value.strip()
    lower = text.lower()
    if lower.startswith(("http:", "https:")):
        _refuse_url(field, text, url_problem(text), URL_ALLOWED)
        return MediaRef(kind=kind, role=role, source=text, url=text, format=_ext_format(kind, text))
    if lower.startswith("asset:"):
        _refuse_url(field, text, asset_problem(text), ASSET_ALLOWED)
        text = "asset://" + text[len("asset://") :]  # one spelling, for the checks that follow
        return MediaRef(kind=kind, role=role, source=text, url=text)
    if lower.startswith("data:"):
        _refuse_url(field, text, data_url_problem(text), f"data:{kind}/<format>;base64,<payload>")
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
    path = Path(text).expanduser()
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


URL_ALLOWED = (
    "an http(s) URL with a host and no whitespace or control characters "
    "(percent-encode them: a space is %20)"
)
ASSET_ALLOWED = "asset://<id> as Ark's asset library shows it, e.g. asset://asset-20260222-abcde"
_WHITESPACE_NAMES = {" ": "a space", "\n": "a line break", "\r": "a line break", "\t": "a tab"}
_HOST_CHARS = re.compile(r"^[A-Za-z0-9._-]+$")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _refuse_url(field: str, text: str, problem: str | None, allowed: str) -> None:
    """Raise the refusal for a URL-like value that ``problem`` says no server could use."""
    if problem is None:
        return
    shown = text if not text.lower().startswith("data:") or len(text) <= 60 else text[:40] + "…"
    message = f"{field}={shown!r} is not a URL a server can fetch: {problem}. Allowed: {allowed}."
    raise InvalidRequest(message, field=field, value=text, allowed=allowed)


def char_problem(text: str) -> str | None:
    """The first whitespace, control or invisible character in ``text``, said where it is.

    A URL never contains them raw: a pasted line break or an unencoded space reaches the
    provider's fetcher as a broken request line, and it fails the task (or the create)."""
    for i, ch in enumerate(text):
        if ch.isspace():
            name = _WHITESPACE_NAMES.get(ch, f"whitespace {ch!r}")
        elif unicodedata.category(ch) in ("Cc", "Cs"):
            name = f"the control character {ch!r}"
        elif unicodedata.category(ch) == "Cf":
            name = f"the invisible character {ch!r}"
        else:
            continue
        return f"it contains {name} after {text[max(0, i - 24) : i]!r}"
    return None


def url_problem(url: str) -> str | None:
    """Why no server could fetch this http(s) URL, or None when it is well formed.

    Checked: no whitespace or control characters anywhere, ``urlsplit`` parses it (an
    unclosed IPv6 bracket does not), the scheme is http or https, there is a host, an IPv6
    host is bracketed and valid, a DNS name has no empty labels or stray characters, the
    port is 1-65535, and every ``%`` in the path starts an escape."""
    found = char_problem(url)
    if found:
        return found
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        hint = " (an IPv6 host is written https://[2001:db8::1]/…)" if "IPv6" in str(exc) else ""
        return f"it cannot be parsed: {exc}{hint}"
    if parts.scheme.lower() not in ("http", "https"):
        return f"the scheme is {parts.scheme or 'missing'!r}, not http:// or https://"
    if not url[len(parts.scheme) :].startswith("://"):
        return "it has no host: http(s) URLs start with http:// or https:// and a server name"
    problem = _netloc_problem(parts.netloc)
    if problem:
        return problem
    if _BAD_ESCAPE.search(parts.path):  # servers refuse it there; a query is the app's business
        return "its path has a % that starts no escape like %20 (write a literal % as %25)"
    return None


def _netloc_problem(netloc: str) -> str | None:
    hostport = netloc.rpartition("@")[2]
    if not hostport:
        return "it has no host after the scheme (e.g. https://cdn.example.com/…)"
    if hostport.startswith("["):
        end = hostport.find("]")
        host, rest = hostport[1:end], hostport[end + 1 :]
        try:
            ipaddress.IPv6Address(host.replace("%25", "%"))
        except ValueError:
            return f"[{host}] is not an IPv6 address"
        if rest and not rest.startswith(":"):
            return f"{rest!r} comes after the ] of the IPv6 host, where only :port may"
        return _port_problem(rest[1:])
    host, colon, port = hostport.partition(":")
    if colon and ":" in port:
        return "an IPv6 address must be in brackets, e.g. https://[2001:db8::1]/…"
    if not host:
        return "it has no host before the port"
    return _host_problem(host) or (_port_problem(port) if colon else None)


def _port_problem(port: str) -> str | None:
    if port == "":
        return None  # "host:" with an empty port is allowed and means the default
    if not (port.isascii() and port.isdigit()) or not 1 <= int(port) <= 65535:
        return f"the port {port!r} is not a number in 1-65535"
    return None


def _host_problem(host: str) -> str | None:
    name = host[:-1] if host.endswith(".") else host
    if name.replace(".", "").isdigit():
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            return f"the host {host!r} is not an IPv4 address (four numbers 0-255)"
        return None
    labels = name.split(".")
    if any(not label for label in labels):
        return f"the host {host!r} has an empty label (two dots in a row?)"
    if name.isascii():
        bad = next((ch for ch in name if not _HOST_CHARS.match(ch) and ch != "."), None)
        if bad is not None:
            return f"the host {host!r} contains {bad!r}, which no server name has"
        if len(name) > 253 or any(len(label) > 63 for label in labels):
            return f"the host {host!r} is longer than DNS allows"
        return None
    try:
        name.encode("idna")
    except UnicodeError:
        return f"the host {host!r} is not a valid internationalised domain name"
    return None


def asset_problem(text: str) -> str | None:
    """Why ``text`` is not an ``asset://<id>`` Ark could look up, or None."""
    if not text.lower().startswith("asset://"):
        return "an asset id is written asset://<id>"
    asset_id = text[len("asset://") :]
    if not asset_id:
        return "the asset id after asset:// is empty"
    found = char_problem(asset_id)
    if found:
        return found
    if any(ch in asset_id for ch in "/?#"):
        bad = next(ch for ch in asset_id if ch in "/?#")
        return f"an asset id is one name, without {bad!r}"
    return None


def data_url_problem(text: str) -> str | None:
    """Why ``text`` is not a ``data:`` URL a provider can decode, or None."""
    _head, comma, payload = text.partition(",")
    if not comma:
        return "a data: URL needs a comma between its media type and its payload"
    found = char_problem(text)
    if found:
        return found + " (a data: URL carries no whitespace; remove base64 line breaks)"
    if not payload:
        return "its payload after the comma is empty"
    return None


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
            f"{field}: {path.name} is not a {kind} file PyAV can read ({exc.__class__.__name__})",
            field=field,
            value=str(path),
            allowed="mp4, mov" if kind == "video" else "wav, mp3",
        ) from None


def guess_mime(path: str) -> str:
    return mimetypes.guess_type(path)[0] or "application/octet-stream"
