"""Wire dialects the emulator speaks, mounted by path prefix.

To add a dialect (say ``orcarouter``):

1. write ``dialects/orcarouter.py`` with a class that subclasses :class:`DialectRoutes`
   (import it from ``.base``, not from this package, which imports the dialects) and set
   ``DIALECT = ThatClass`` at module level;
2. add one line to :data:`REGISTRY`: ``"orcarouter": "orcarouter"`` (provider name →
   module name). The mount prefix is ``catalog.PROVIDERS[provider].emulator_prefix``.

The class is built once per mount with ``(service, provider)`` and answers every request under
its prefix through :meth:`DialectRoutes.handle`, getting a :class:`~..http_types.Request` whose
``path`` is relative to the prefix and returning a :class:`~..http_types.Response` (use
``json_response``). It speaks its own error envelope. Shared helpers on the
:class:`~..service.Service`: ``check_bearer``, ``rate_limited``, ``create_task`` (stores the
task, applies ``[[trigger]]`` markers, starts the render), ``get``/``tasks``/``cancel``/
``delete``, ``resolve_media`` (data:/asset:///loopback URLs → stored blobs, others → a
placeholder chip), ``signed_url`` (the MP4 / last-frame URL to hand back). A task's status,
progress and error come from :class:`~..store.TaskRecord` (``state``, ``progress``,
``error``); map them to the dialect's own vocabulary.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ... import catalog
from .base import DialectRoutes

if TYPE_CHECKING:
    from ..service import Service

__all__ = ["REGISTRY", "DialectRoutes", "mount_all"]

# provider name (catalog.PROVIDERS) → module in this package
REGISTRY: dict[str, str] = {
    "ark": "ark",
    "volcengine": "ark",
    "orcarouter": "orcarouter",
    "cometapi": "cometapi",
    "evolink": "evolink",
    "seedance2ink": "seedance2ink",
}


def mount_all(service: Service) -> list[tuple[str, DialectRoutes]]:
    """Instantiate every registered dialect; longest prefix first so nested mounts win."""
    mounts: list[tuple[str, DialectRoutes]] = []
    for provider_name, module_name in REGISTRY.items():
        provider = catalog.PROVIDERS[provider_name]
        module = importlib.import_module(f"{__name__}.{module_name}")
        mounts.append((provider.emulator_prefix.rstrip("/"), module.DIALECT(service, provider)))
    mounts.sort(key=lambda m: len(m[0]), reverse=True)
    return mounts
