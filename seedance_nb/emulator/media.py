"""Request media made renderable: ``data:`` URLs, ``asset://`` ids and loopback http(s) URLs.

Kept apart from the task lifecycle (``service``): this is what every dialect does with a URL
it is handed, and the URL rules the providers apply before they fetch anything. The emulator
is offline, so only loopback hosts are fetched; other hosts become a placeholder chip.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import unicodedata
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from .. import catalog
from .store import Store

MAX_FETCH_BYTES = catalog.REQUEST_MAX_BYTES


class MediaError(ValueError):
    """A medium the request names cannot be used (bad data: URL, unknown asset, ...)."""


@dataclass
class MediaInput:
    """A request medium resolved for rendering: a stored blob, or a placeholder note."""

    kind: str
    role: str
    label: str
    blob: str | None = None
    note: str = ""
    size: tuple[int, int] | None = None  # pixels, images/videos we could read

    def as_json(self) -> dict[str, Any]:
        """The form a render spec stores (see ``Service.create_task``)."""
        return {"kind": self.kind, "label": self.label, "blob": self.blob, "note": self.note}


def resolve_media(store: Store, url: Any, kind: str, role: str, label: str) -> MediaInput:
    """Make a request medium renderable: data: URLs and asset:// ids are decoded and kept;
    http(s) URLs are fetched only from loopback (we are offline); others become a chip."""
    if not isinstance(url, str) or not url.strip():
        raise MediaError(f"the {kind} url must be a non-empty string")
    url = url.strip()
    item = MediaInput(kind=kind, role=role, label=label)
    data: bytes | None = None
    if url.startswith("data:"):
        data = decode_data_url(url, kind)
    elif url.startswith("asset://"):
        asset = store.asset(url[len("asset://") :])
        if asset is None:
            raise MediaError(f"asset {url!r} does not exist")
        data = store.blob(asset["sha256"])
    elif url.startswith(("http://", "https://")):
        problem = url_problem(url)
        if problem is not None:
            raise MediaError(f"the {kind} url is malformed: {problem}")
        host = urllib.parse.urlsplit(url).hostname or ""
        if is_loopback(host):
            data = fetch_loopback(url)
        else:
            item.note = host
    else:
        raise MediaError(f"unsupported {kind} url scheme (use https://, data: or asset://)")
    if data is not None:
        item.blob = store.put_blob(data)
        if kind in ("image", "video"):
            from . import render as r  # heavy (PyAV, Pillow): only once a medium has bytes

            item.size = r.image_size(data) if kind == "image" else r.video_size(data)
            if kind == "image" and item.size is None:
                raise MediaError("the image could not be decoded")
    return item


def decode_data_url(url: str, kind: str) -> bytes:
    """The bytes of a ``data:`` URL whose media type (if given) is ``kind/*``."""
    head, sep, payload = url.partition(",")
    if not sep:
        raise MediaError("malformed data: URL")
    mime = head[5:].split(";")[0].strip().lower()
    if mime and not mime.startswith(kind + "/"):
        raise MediaError(f"data: URL has media type {mime!r}, expected {kind}/*")
    if ";base64" in head.lower():
        try:
            return base64.b64decode(payload, validate=False)
        except (binascii.Error, ValueError) as exc:
            raise MediaError("data: URL is not valid base64") from exc
    return urllib.parse.unquote_to_bytes(payload)


def url_problem(url: str) -> str | None:
    """Why no server could fetch this http(s) URL (None if it is well formed).

    The providers refuse such a URL with a 400 rather than crash on it, so the emulator does
    too: whitespace or control characters, a netloc ``urlsplit`` cannot parse (an unclosed
    IPv6 bracket raises ``ValueError``), no host, text after an IPv6 host's ``]``, a port
    outside 1-65535. Kept apart from the client's own check: the emulator is a witness."""
    for ch in url:
        if ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Cs"):
            names = {" ": "a space", "\n": "a line break", "\r": "a line break", "\t": "a tab"}
            return f"it contains {names.get(ch, repr(ch))}"
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return str(exc)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not url[len(scheme) :].startswith("://"):
        return "it is not an http(s) URL"
    hostport = parts.netloc.rpartition("@")[2]
    if not parts.hostname:
        return "it has no host"
    if hostport.startswith("["):
        try:
            ipaddress.IPv6Address(parts.hostname.replace("%25", "%"))
        except ValueError:
            return f"[{parts.hostname}] is not an IPv6 address"
        after = hostport[hostport.index("]") + 1 :]
        if after and not after.startswith(":"):
            return "text follows the IPv6 host"
    elif ":" in hostport.partition(":")[2]:
        return "an IPv6 host must be in brackets"
    if port == 0:
        return "port 0 is not a port"
    return None


def is_loopback(host: str) -> bool:
    """``localhost`` or a loopback IP (v4 or bracketed v6)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def fetch_loopback(url: str) -> bytes | None:
    """Fetch a loopback URL (a local file server, or this emulator); None if it fails."""
    try:
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(url, timeout=5) as resp:
            return resp.read(MAX_FETCH_BYTES + 1)[:MAX_FETCH_BYTES]
    except Exception:
        return None
