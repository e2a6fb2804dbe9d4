"""Assets: register a local file once and reference it as ``asset://<id>``.

On the offline emulator :func:`register_asset` uploads the bytes (``POST /emulator/assets``)
and returns an :class:`Asset` whose ``url`` goes into ``images=``/``videos=``/``audios=`` like
any other reference; the emulator's Ark dialect resolves it and draws it into the video.

On BytePlus ModelArk and Volcengine Ark an ``asset://<id>`` names media that already lives in
your Ark account's asset library. Ark documents the id only as one more way to give a reference
(next to a public URL and a ``data:`` URL), and this client does not create Ark assets: make
them in the ModelArk console's asset library (or with Ark's own asset API) and pass the id it
shows. The gateways (OrcaRouter, CometAPI, EvoLink, seedance2.ink) cannot resolve asset ids.
"""

from __future__ import annotations

import io
import mimetypes
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .. import catalog
from ..errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    BadResponseError,
    InvalidRequest,
)
from ..request.media import Asset

if TYPE_CHECKING:
    import httpx

__all__ = ["ARK_ASSETS_NOTE", "Asset", "register_asset"]

ARK_ASSETS_NOTE = (
    "On {label} an asset://<id> names media already in your Ark account's asset library: "
    "create the asset there (the ModelArk console's asset library, or Ark's own asset API) and "
    "pass the asset://… id it shows, e.g. images=['asset://asset-20260222-abcde']. This client "
    "sends asset ids as given and never uploads to Ark; a local image needs no asset at all "
    "(pass its path: it travels as a data: URL)."
)
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
    (b"ID3", "audio/mpeg"),
    (b"\xff\xfb", "audio/mpeg"),
    (b"\xff\xf3", "audio/mpeg"),
)


def sniff_content_type(data: bytes, filename: str | None = None) -> str:
    """The media type from the bytes' signature, else from the file name's extension."""
    for magic, ctype in _MAGIC:
        if data.startswith(magic):
            return ctype
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        return "video/quicktime" if data[8:10] == b"qt" else "video/mp4"
    guessed = mimetypes.guess_type(filename)[0] if filename else None
    return guessed or "application/octet-stream"


def _refuse(message: str, *, provider: str | None, value: Any, allowed: str) -> InvalidRequest:
    text = f"register_asset is not available{f' on {provider}' if provider else ''}: {message}"
    return InvalidRequest(
        text, field="register_asset", value=value, allowed=allowed, provider=provider
    )


def _read_media(media: Any, filename: str | None) -> tuple[bytes, str | None]:
    """The bytes to upload and a file name for them (local files, bytes or a Pillow image)."""
    if hasattr(media, "save") and hasattr(media, "size"):
        buf = io.BytesIO()
        media.save(buf, format="PNG")
        return buf.getvalue(), filename or "image.png"
    if isinstance(media, (bytes, bytearray, memoryview)):
        return bytes(media), filename
    if isinstance(media, os.PathLike):
        media = os.fspath(media)
    if not isinstance(media, str) or not media.strip():
        raise InvalidRequest(
            f"register_asset: expected a local file path, bytes or an image, got "
            f"{type(media).__name__} {media!r:.60}",
            field="media",
            value=media,
            allowed="a local file path, bytes or a Pillow image",
        )
    text = media.strip()
    if text.lower().startswith(("http:", "https:", "asset:", "data:")):
        raise InvalidRequest(
            f"register_asset: {text[:60]!r} is already a reference; pass it to submit() as it is",
            field="media",
            value=text,
            allowed="a local file path, bytes or a Pillow image",
        )
    path = Path(text[7:] if text.lower().startswith("file://") else text).expanduser()
    if not path.is_file():
        raise InvalidRequest(
            f"register_asset: no such file {text!r} (looked in {Path.cwd()})",
            field="media",
            value=text,
            allowed="an existing local file",
        )
    return path.read_bytes(), filename or path.name


def _emulator_root(base_url: str) -> str:
    """The emulator's own root from a client's base URL (a dialect mount on it) or the root."""
    url = base_url.rstrip("/")
    prefixes = sorted(
        {p.emulator_prefix.rstrip("/") for p in catalog.PROVIDERS.values()}, key=len, reverse=True
    )
    for prefix in prefixes:
        if prefix and url.endswith(prefix):
            return url[: -len(prefix)]
    return url


def _where(target: Any) -> tuple[catalog.Provider | None, bool | None, str, Any]:
    """(provider, emulated, base URL, key) of a client (sync or async) or of a bare URL."""
    if isinstance(target, str):
        return None, None, target, None
    inner = getattr(target, "async_client", target)  # a sync Client wraps an AsyncClient
    settings = getattr(inner, "_settings", None)
    return (
        inner.provider,
        bool(inner.emulated),
        str(inner.base_url),
        getattr(settings, "api_key", None),
    )


def _real_provider(base_url: str) -> catalog.Provider | None:
    """The catalog provider whose public host ``base_url`` is on, if any."""
    host = urlsplit(base_url).hostname
    for p in catalog.PROVIDERS.values():
        if p.name != "emulator" and host and urlsplit(p.base_url).hostname == host:
            return p
    return None


async def register_asset(
    target: Any,
    media: Any,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    api_key: Any = None,
    http: httpx.AsyncClient | None = None,
    timeout: float = 30.0,
) -> Asset:
    """Upload ``media`` (a path, bytes or a Pillow image) to the emulator as an asset.

    ``target`` is a :class:`~seedance_nb.Client` / :class:`~seedance_nb.AsyncClient`, or an
    emulator URL (its root, or any dialect mount on it). Refused before any network call on a
    real provider: on Ark, assets are made in your account's asset library (see
    :data:`ARK_ASSETS_NOTE`); the gateways take no asset ids at all.
    """
    from .http import Secret, check_base_url

    base_url, key = _check_target(target)
    data, name = _read_checked(media, filename)
    secret = api_key if api_key is None or isinstance(api_key, Secret) else Secret(str(api_key))
    secret = secret or key
    root = check_base_url(_emulator_root(base_url), has_key=bool(secret))
    ctype = content_type or sniff_content_type(data, name)
    headers = {"Content-Type": ctype}
    if secret:
        headers["Authorization"] = f"Bearer {secret.reveal()}"
    return await _post(root, data, name, headers, http, timeout)


def _check_target(target: Any) -> tuple[str, Any]:
    """The emulator URL and key ``target`` names; refused for a real provider's client."""
    from .http import is_loopback

    provider, emulated, base_url, key = _where(target)
    real = provider if emulated is False else None
    if emulated is None:
        real = _real_provider(base_url)
    elif emulated is False and is_loopback(urlsplit(base_url).hostname):
        real = None  # a real provider's name pointed at an emulator on this machine
    named = real or provider
    if named is not None and named.dialect != "ark":
        raise _refuse(
            f"asset:// ids are Ark's asset library, and {named.label} cannot resolve "
            "them; pass media as public https:// URLs (or a local path where the "
            "provider takes one).",
            provider=named.name,
            value=base_url,
            allowed="a client on Ark, Volcengine Ark or the emulator",
        )
    if real is not None:
        raise _refuse(
            "it uploads to the offline emulator only. " + ARK_ASSETS_NOTE.format(label=real.label),
            provider=real.name,
            value=base_url,
            allowed="an emulated client (no API key) or an emulator URL",
        )
    return base_url, key


def _read_checked(media: Any, filename: str | None) -> tuple[bytes, str | None]:
    """The medium's bytes and name, refused when empty or too big for one request."""
    data, name = _read_media(media, filename)
    if not data:
        raise InvalidRequest(
            "register_asset: the medium is empty (0 bytes)",
            field="media",
            value=name or "<bytes>",
            allowed="a non-empty file",
        )
    if len(data) > catalog.REQUEST_MAX_BYTES:
        raise InvalidRequest(
            f"register_asset: {len(data) / 1e6:.1f} MB is more than a request may carry",
            field="media",
            value=name or "<bytes>",
            allowed=f"at most {catalog.REQUEST_MAX_BYTES // (1024 * 1024)} MB",
        )
    return data, name


async def _post(
    root: str,
    data: bytes,
    name: str | None,
    headers: dict[str, str],
    http: httpx.AsyncClient | None,
    timeout: float,
) -> Asset:
    import httpx

    url = root + "/emulator/assets"
    own = http is None
    client = http or httpx.AsyncClient(timeout=timeout, trust_env=False)
    try:
        resp = await client.post(
            url, content=data, headers=headers, params={"filename": name} if name else None
        )
    except httpx.HTTPError as exc:
        raise APIConnectionError(
            f"could not reach the emulator at {root}: {type(exc).__name__}"
        ) from None
    finally:
        if own:
            await client.aclose()
    body = _answer(root, resp)
    size = body.get("size")
    return Asset(
        id=body["id"],
        url=body["url"],
        content_type=str(body.get("content_type") or headers["Content-Type"]),
        size=size if isinstance(size, int) else len(data),
        filename=name,
    )


def _answer(root: str, resp: Any) -> dict[str, Any]:
    """The emulator's JSON answer to an upload, or the error it stands for."""
    try:
        body = resp.json()
    except ValueError:
        body = None
    err = body.get("error") if isinstance(body, dict) else None
    message = err.get("message") if isinstance(err, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    if resp.status_code == 404:
        raise APIError(
            f"{root} has no /emulator/assets: it is not a seedance-nb emulator",
            status_code=404,
            code=code,
            provider="emulator",
            body=body,
        )
    if resp.status_code == 401:
        raise AuthenticationError(
            message or "the emulator wants its API key",
            status_code=401,
            code=code,
            provider="emulator",
        )
    if resp.status_code != 200:
        raise APIError(
            message or resp.text[:200],
            status_code=resp.status_code,
            code=code,
            provider="emulator",
            body=body,
        )
    if not (
        isinstance(body, dict)
        and isinstance(body.get("id"), str)
        and body.get("url") == f"asset://{body['id']}"
    ):
        raise BadResponseError(f"the emulator answered an asset upload with {resp.text[:200]!r}")
    return body
