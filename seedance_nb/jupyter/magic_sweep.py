"""``%%seedance --sweep NAME=V1,V2,…``: the magic's sweep axes, parsed by the schema's kinds.

Each ``--sweep`` is one axis. Its values are split on commas and read as the parameter
itself is read on the command line (``seed`` and ``duration`` as integers, ``--audio``-style
switches as true/false, references as a variable name, a path or a URL); a name that is not a
request parameter is a ``{placeholder}`` of the cell body and takes its values as text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..request import schema

_TRUE = ("true", "yes", "on", "1")
_FALSE = ("false", "no", "off", "0")


def _value(param: schema.Param | None, text: str, ref: Callable[[Any], Any]) -> Any:
    """One value of an axis, as ``param``'s kind reads it."""
    if param is None or param.kind in ("choice", "text"):
        return text
    if param.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"--sweep {param.name}: {text!r} is not a whole number") from None
    if param.kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ValueError(f"--sweep {param.name}: {text!r} is not true or false")
    if param.kind == "media":
        return ref(text)
    if param.kind == "media_list":
        return [ref(text)]
    return dict([schema.parse_option(text)])  # mapping: KEY=VALUE


def parse_axes(
    specs: list[str] | None, ref: Callable[[Any], Any] = lambda v: v
) -> dict[str, list[Any]]:
    """``["seed=1,2,3", "ratio=16:9,9:16"]`` → ``{"seed": [1, 2, 3], "ratio": ["16:9", "9:16"]}``."""
    axes: dict[str, list[Any]] = {}
    for spec in specs or []:
        name, sep, values = spec.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or not name.isidentifier() or not values.strip():
            raise ValueError(f"--sweep takes NAME=V1,V2,… (got {spec!r})")
        if name in axes:
            raise ValueError(f"--sweep {name} is given twice; list all its values in one")
        param = schema.BY_NAME.get(name)
        axes[name] = [_value(param, v.strip(), ref) for v in values.split(",") if v.strip()]
    return axes


def merge(fixed: dict[str, Any], axes: dict[str, list[Any]]) -> dict[str, Any]:
    """The sweep's keywords: the line's options fixed, the ``--sweep`` ones as axes."""
    for name in axes:
        if name in fixed:
            flag = schema.BY_NAME[name].flag if name in schema.BY_NAME else name
            raise ValueError(f"{name} is given both as {flag} and as --sweep {name}=…")
    return {**fixed, **axes}
