"""The validated request, its parameter fields generated from :data:`schema.PARAMS`.

:class:`RequestBase` carries what every request has (provider, tier, model, prompt) and the
methods; :func:`make_request_model` adds one field per schema parameter, so a new parameter is
stored, hashed and read back from the ledger without an edit here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict, create_model

from .. import catalog
from . import schema
from .media import MediaRef


class RequestBase(BaseModel):
    """A request that passed validation; immutable, hashable, and free of secrets."""

    model_config = ConfigDict(frozen=True)

    provider: str
    tier: str | None
    model: str
    model_id: str
    prompt: str

    @property
    def mode(self) -> str:
        if self.first_frame is not None:
            return "first_last" if self.last_frame is not None else "first_frame"
        if self.images or self.videos or self.audios:
            return "reference"
        return "text"

    @property
    def media(self) -> tuple[MediaRef, ...]:
        """Every attached medium in content-array order (frames, images, videos, audios)."""
        frames = tuple(m for m in (self.first_frame, self.last_frame) if m is not None)
        return frames + self.images + self.videos + self.audios

    @property
    def size(self) -> tuple[int, int]:
        return catalog.pixel_size(self.ratio, self.resolution)

    @property
    def estimated_tokens(self) -> int:
        w, h = self.size
        seconds = self.duration if self.duration > 0 else 10
        return catalog.estimate_tokens(w, h, seconds)

    @property
    def estimated_cost(self) -> float | None:
        return catalog.estimate_cost(self.tier, self.estimated_tokens)

    def canonical(self) -> dict[str, Any]:
        """The request as plain data with media by identity (never bytes), for hashing/storage."""
        media_fields = {p.name for p in schema.PARAMS if p.kind in ("media", "media_list")}
        data = self.model_dump(exclude=media_fields)
        data["media"] = [{"kind": m.kind, "role": m.role, "id": m.identity} for m in self.media]
        return data

    def digest(self, route: str) -> str:
        """Same request on the same route → same hash → same job (never pay twice).

        The callback URL is delivery, not content: a receiver restarted on a new port or token
        must not turn a re-run into a second paid task."""
        content = {k: v for k, v in self.canonical().items() if k != "callback_url"}
        payload = json.dumps(
            {"route": route, **content}, sort_keys=True, separators=(",", ":"), default=str
        )
        return hashlib.sha256(payload.encode()).hexdigest()

    def describe(self) -> str:
        w, h = self.size
        dur = "auto" if self.duration == -1 else f"{self.duration}s"
        label = catalog.MODE_LABELS[self.mode]
        name = self.tier or self.model_id
        return f"{name} · {label} · {self.ratio} {self.resolution} ({w}×{h}) · {dur}"


def field_of(param: schema.Param) -> tuple[Any, Any]:
    """The type and default a validated request stores for ``param``.

    ``build_request`` always fills a closed or numeric parameter every offer takes (ratio,
    resolution, duration), so those are required; the rest stay None (or empty) when unset."""
    if param.kind == "media":
        return MediaRef | None, None
    if param.kind == "media_list":
        return tuple[MediaRef, ...], ()
    if param.kind == "mapping":
        return dict[str, Any], {}
    python_type = {"choice": str, "int": int, "bool": bool, "text": str}[param.kind]
    if param.kind in ("choice", "int") and not param.optional_param:
        return python_type, ...
    return python_type | None, None


def make_request_model(params: tuple[schema.Param, ...] | None = None) -> type[RequestBase]:
    """``VideoRequest``: the base plus one field per parameter (``model`` is the base's)."""
    fields = {p.name: field_of(p) for p in (params or schema.PARAMS) if p.name != "model"}
    made: type[RequestBase] = create_model(  # type: ignore[call-overload]
        "VideoRequest", __base__=RequestBase, __module__=__name__, **fields
    )
    made.__doc__ = RequestBase.__doc__
    return made


VideoRequest = make_request_model()
