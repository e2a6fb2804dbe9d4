"""A preview: the exact create call a request would send, without sending it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..providers import HttpCall
from ..request import VideoRequest
from .bridge import run_now

if TYPE_CHECKING:
    from .client import AsyncClient


def preview_of(client: AsyncClient, request: VideoRequest, notes: list[str]) -> dict[str, Any]:
    """The create call ``client`` would send for ``request`` (data URLs shortened), and its
    estimate; media that would be fetched at submit time is not fetched."""

    async def fetch(url: str) -> bytes:
        return b"<fetched at submit time>"

    call = run_now(
        client.dialect.create_call(request, fetch),
        "preview needs network access for this provider; submit instead",
    )
    return {
        "provider": client.provider_name,
        "emulated": client.emulated,
        "method": call.method,
        "url": client.base_url + call.path,
        "body": _shorten_data_urls(_body_of(call)),
        "estimated_tokens": request.estimated_tokens,
        "estimated_cost_usd": request.estimated_cost,
        "warnings": notes,
        "request": request,
    }


def _body_of(call: HttpCall) -> Any:
    """A create call's body as shown by a preview: JSON, or form fields and file sizes."""
    if call.json is not None:
        return call.json
    files = {name: f"<file {meta[0]}, {len(meta[1]):,} bytes>" for name, meta in (call.files or [])}
    return {**(call.data or {}), **files}


def _shorten_data_urls(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("data:") and len(value) > 60:
        return value[:40] + f"…<{len(value):,} chars>"
    if isinstance(value, dict):
        return {k: _shorten_data_urls(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shorten_data_urls(v) for v in value]
    return value
