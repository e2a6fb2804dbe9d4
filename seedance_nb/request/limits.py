"""Checks of one attached medium (and of all of them together) against the catalog's limits,
and of the callback URL: the parts of ``build_request`` that look at references, not parameters.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from .. import catalog
from ..catalog import Provider
from ..errors import InvalidRequest
from .media import MediaRef
from .urls import URL_ALLOWED, url_problem

Fail = Callable[..., InvalidRequest]


def check_media(ref: MediaRef, p: Provider, fail: Fail) -> None:
    """How ``ref`` may travel to ``p`` (local, data:, asset://) and whether its format is sold."""
    field = ref.role
    if ref.is_local or (ref.url or "").startswith("data:"):
        if p.local_media == "none":
            message = (
                f"{p.label} takes media only as public URLs its servers can fetch; "
                f"{ref.short()!r} is local."
            )
            raise fail(message, field, ref.short(), "https:// URLs")
        if p.local_media == "data_url" and ref.kind != "image":
            message = (
                f"{p.label} takes local images as data: URLs, but a local {ref.kind} "
                "cannot travel that way; upload it and pass its URL or asset://ID."
            )
            raise fail(message, field, ref.short(), f"a {ref.kind} URL or asset://ID")
    if ref.url and ref.url.startswith("asset://") and p.dialect != "ark":
        message = "asset:// ids are Ark's asset library; this provider cannot resolve them."
        raise fail(message, field, ref.source, "https:// URLs")
    formats = {
        "image": catalog.IMAGE_FORMATS,
        "video": catalog.VIDEO_FORMATS,
        "audio": catalog.AUDIO_FORMATS,
    }[ref.kind]
    if ref.format and ref.format not in formats:
        message = f"{ref.kind} format {ref.format!r} is not accepted."
        raise fail(message, field, ref.short(), ", ".join(sorted(formats)))
    if not ref.is_local:
        return
    if ref.kind == "image":
        _check_image(ref, fail)
    elif ref.kind == "video":
        _check_video(ref, fail)
    else:
        _check_seconds(ref, catalog.AUDIO_SECONDS, fail)
        _check_size(ref, catalog.AUDIO_MAX_BYTES, fail)


def _check_image(ref: MediaRef, fail: Fail) -> None:
    """A local image: each side, the aspect and the file size."""
    if ref.width is not None and ref.height is not None:
        lo, hi = catalog.IMAGE_SIDE_PX
        if not (lo <= ref.width <= hi and lo <= ref.height <= hi):
            message = f"image is {ref.width}×{ref.height} px."
            raise fail(message, ref.role, ref.short(), f"each side {lo}-{hi} px")
        aspect = ref.width / ref.height
        a_lo, a_hi = catalog.IMAGE_ASPECT
        if not a_lo <= aspect <= a_hi:
            message = f"image aspect (width/height) is {aspect:.2f}."
            raise fail(message, ref.role, ref.short(), f"{a_lo}-{a_hi}")
    _check_size(ref, catalog.IMAGE_MAX_BYTES, fail)


def _check_video(ref: MediaRef, fail: Fail) -> None:
    """A local video: its length, frame rate, pixels per frame and file size."""
    _check_seconds(ref, catalog.VIDEO_SECONDS, fail)
    fps_lo, fps_hi = catalog.VIDEO_FPS
    if ref.fps is not None and not fps_lo - 0.5 <= ref.fps <= fps_hi + 0.5:
        message = f"video frame rate is {ref.fps:.1f} fps."
        raise fail(message, ref.role, ref.short(), f"{fps_lo:.0f}-{fps_hi:.0f} fps")
    if ref.width and ref.height:
        px = ref.width * ref.height
        lo, hi = catalog.VIDEO_PIXELS
        if not lo <= px <= hi:
            message = f"video is {ref.width}×{ref.height} ({px:,} pixels)."
            allowed = f"{lo:,}-{hi:,} pixels per frame (e.g. 640×640 to 2206×946)"
            raise fail(message, ref.role, ref.short(), allowed)
    _check_size(ref, catalog.VIDEO_MAX_BYTES, fail)


def _check_seconds(ref: MediaRef, bounds: tuple[float, float], fail: Fail) -> None:
    if ref.duration is not None and not bounds[0] - 0.05 <= ref.duration <= bounds[1] + 0.05:
        message = f"{ref.kind} lasts {ref.duration:.2f} s."
        raise fail(message, ref.role, ref.short(), f"{bounds[0]:.0f}-{bounds[1]:.0f} s each")


def _check_size(ref: MediaRef, most: int, fail: Fail) -> None:
    if ref.size_bytes is not None and ref.size_bytes > most:
        message = f"file is {ref.size_bytes / 1e6:.1f} MB."
        raise fail(message, ref.role, ref.short(), f"at most {most // (1024 * 1024)} MB")


def check_totals(vids: tuple[MediaRef, ...], auds: tuple[MediaRef, ...], fail: Fail) -> None:
    """The summed length of reference videos, and of reference audio, where it is known."""
    totals = (
        ("videos", vids, catalog.VIDEO_TOTAL_SECONDS),
        ("audios", auds, catalog.AUDIO_TOTAL_SECONDS),
    )
    for name, items, most in totals:
        known = [m.duration for m in items if m.duration is not None]
        if known and sum(known) > most + 0.05:
            message = f"{name} last {sum(known):.1f} s together."
            raise fail(message, name, len(items), f"at most {most:.0f} s in total")


def check_callback(value: Any, p: Provider, fail: Fail) -> str:
    """The callback URL, outer whitespace trimmed, once no server would fail to reach it."""
    if not isinstance(value, str):
        raise fail("the callback must be an http(s) URL.", "callback_url", value, "https://…")
    url = value.strip()
    problem = url_problem(url)
    if problem is not None:
        message = f"the provider could not call this URL back: {problem}."
        raise fail(message, "callback_url", url, URL_ALLOWED)
    if p.name == "evolink":
        _check_evolink_callback(url, fail)
    return url


def _check_evolink_callback(url: str, fail: Fail) -> None:
    """EvoLink's documented rules (https://docs.evolink.ai): https only, ≤ 2048 characters,
    no private or loopback host."""
    parts = urlsplit(url)
    if parts.scheme != "https":
        raise fail("EvoLink calls back over HTTPS only.", "callback_url", url, "https://…")
    if len(url) > 2048:
        message = "the callback URL is too long."
        raise fail(message, "callback_url", url[:40] + "…", "at most 2048 characters")
    host = parts.hostname or ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if host == "localhost" or (ip is not None and (ip.is_private or ip.is_loopback)):
        message = "EvoLink refuses callbacks to private or loopback addresses."
        raise fail(message, "callback_url", url, "a public https:// host")
