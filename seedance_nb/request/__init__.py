"""The request layer: the parameter schema, the validated request, its checks, media, prompt.

``build_request`` is the single gate between user input and money (see :mod:`.checks`).
Its names load on first use: ``request.schema`` (what the magic's options are built from)
comes without pydantic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .checks import SeedanceWarning, build_request
    from .model import VideoRequest

_LAZY = {"SeedanceWarning": ".checks", "build_request": ".checks", "VideoRequest": ".model"}


def __getattr__(name: str) -> Any:
    where = _LAZY.get(name)
    if where is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(where, __name__), name)
    globals()[name] = value
    return value


__all__ = ["SeedanceWarning", "VideoRequest", "build_request"]
