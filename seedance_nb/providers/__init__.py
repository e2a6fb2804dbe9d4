"""Wire dialects, one module per provider family; loaded on first use."""

from __future__ import annotations

import importlib

from ..catalog import Provider
from .base import Dialect, HttpCall

# dialect name (catalog.Provider.dialect) → module defining ``DIALECT``, a Dialect subclass
_MODULES = {
    "ark": "ark",
    "orcarouter": "orcarouter",
    "cometapi": "cometapi",
    "evolink": "evolink",
    "seedance2ink": "seedance2ink",
}


def dialect_for(provider: Provider) -> Dialect:
    """The dialect object that speaks ``provider``'s wire format."""
    module_name = _MODULES.get(provider.dialect)
    if module_name is None:
        raise KeyError(f"no dialect module for {provider.dialect!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    cls: type[Dialect] = module.DIALECT
    return cls(provider)


__all__ = ["Dialect", "HttpCall", "dialect_for"]
