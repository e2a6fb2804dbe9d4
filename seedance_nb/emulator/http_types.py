"""The emulator's request/response model, shared by the server, the dialects and the faults.

It lives apart from :mod:`.server` so that the dialects and the fault plan can build answers
without importing the HTTP layer that imports them (no ``server`` ⇄ ``faults``/``dialects``
cycle). Standard library only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path
from typing import Any

__all__ = ["Request", "Response", "file_response", "json_response"]

_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass
class Request:
    """One parsed HTTP request, as dialects see it (``path`` is relative to the mount)."""

    method: str
    full_path: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    base_url: str  # how the client reached us: for URLs we hand back
    route: str = ""  # a dialect sets a template relative to its mount, for stats ("/tasks/{id}")

    def arg(self, name: str) -> str | None:
        """The last value of query parameter ``name``, as most web frameworks read it."""
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        """The JSON body; raises ValueError on malformed JSON.

        Nesting too deep for the parser's stack is malformed too (a ``RecursionError`` would
        otherwise escape as a 500), and a lone ``\\ud800`` escape becomes U+FFFD, as many
        JSON decoders do: such a string cannot be stored or echoed as UTF-8."""
        text = self.body.decode("utf-8") if self.body else ""
        try:
            data = json.loads(text)
        except RecursionError:
            raise ValueError("the JSON body is nested too deeply") from None
        return _scrub_surrogates(data) if "\\u" in text else data


@dataclass
class Response:
    """One answer: a body in memory, or a file the server streams with Range support."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    file: Path | None = None  # streamed with Range support instead of body


def _scrub_surrogates(value: Any) -> Any:
    """``value`` with every lone UTF-16 surrogate in its strings replaced by U+FFFD."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)  # json.loads already joined the valid pairs
    if isinstance(value, list):
        return [_scrub_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_scrub_surrogates(k): _scrub_surrogates(v) for k, v in value.items()}
    return value


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact UTF-8 JSON answer; a lone surrogate (echoed from a path or header) goes out
    as its JSON escape rather than failing the encode with a 500."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8", "backslashreplace"
    )
    return Response(status=status, body=body, headers=dict(headers or {}))


def file_response(path: Path, content_type: str) -> Response:
    """A file answer the server streams (privately cacheable: signed URLs are per-task)."""
    return Response(
        status=200,
        file=path,
        content_type=content_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )
