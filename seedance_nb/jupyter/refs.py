"""The prompt with every ``[Image N]``/``[Video N]``/``[Audio N]`` shown as a labelled chip.

Seeing which attachment each reference points at (a thumbnail for local images) catches the
off-by-one before a paid render does; references that point at nothing are drawn in red and
listed with the lint's warnings underneath.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .. import display as h
from ..request.prompt import KIND_LABEL, lint_references, parse_references

# The kind shows as the chip's border (a non-text mark: 3:1 in both JupyterLab themes); the
# chip's words stay in the theme's text colour on its surface colour.
_MARKS = {
    "image": "var(--jp-brand-color1,#1565c0)",
    "video": "var(--jp-info-color1,#00838f)",
    "audio": "var(--jp-success-color1,#2e7d32)",
}
_CHIP = "border-radius:4px;padding:0 4px;white-space:nowrap"


class ReferencePreview:
    """Rendered by Jupyter as HTML; ``issues`` holds the lint result for code."""

    def __init__(self, prompt: str, media: dict[str, list[Any]]) -> None:
        self.prompt = prompt
        self.media = media
        counts = {kind: len(items) for kind, items in media.items()}
        self.issues = lint_references(prompt, counts, require_named=any(counts.values()))

    def _chip(self, kind: str, index: int, text: str) -> str:
        items = self.media.get(kind, [])
        if not 1 <= index <= len(items):
            return (
                f'<span class="seedance-ref seedance-ref-missing" style="{_CHIP};'
                f"color:{h.PALETTE['error']};border:1px dashed {h.PALETTE['error_mark']};"
                f'font-weight:600" title="points at nothing">✗ {html.escape(text)}</span>'
            )
        item = items[index - 1]
        thumb = _thumbnail(item) if kind == "image" else None
        image = (
            f'<img src="{thumb}" alt="" style="height:1.6em;vertical-align:middle;margin-right:3px">'
            if thumb
            else ""
        )
        return (
            f'<span class="seedance-ref" style="{_CHIP};background:{h.PALETTE["surface"]};'
            f'color:{h.PALETTE["text"]};border:1px solid {_MARKS[kind]}" '
            f'title="{html.escape(_describe(item))}">{image}{KIND_LABEL[kind]} {index}</span>'
        )

    def _repr_html_(self) -> str:
        parts, last = [], 0
        for ref in parse_references(self.prompt):
            parts.append(html.escape(self.prompt[last : ref.start]))
            parts.append(self._chip(ref.kind, ref.index, ref.text))
            last = ref.end
        parts.append(html.escape(self.prompt[last:]))
        notes = "".join(
            f'<li style="color:{h.PALETTE["error"]}">✗ error: {html.escape(i.message)}</li>'
            if i.severity == "error"
            else f'<li style="color:{h.PALETTE["text"]}">⚠ {html.escape(i.severity)}: '
            f"{html.escape(i.message)}</li>"
            for i in self.issues
        )
        body = "".join(parts).replace("\n", "<br>")
        listing = f'<ul style="margin:4px 0;padding-left:1.4em">{notes}</ul>' if notes else ""
        return (
            f'<div class="seedance-prompt" style="{h.FONT};line-height:1.9">{body}</div>{listing}'
        )

    def __repr__(self) -> str:
        return f"<ReferencePreview {len(parse_references(self.prompt))} references, {len(self.issues)} issues>"


def _describe(item: Any) -> str:
    if isinstance(item, (str, Path)):
        return str(item)
    return type(item).__name__


def _thumbnail(item: Any) -> str | None:
    """A small PNG data URL for a local image path or a Pillow image; None for URLs."""
    try:
        from PIL import Image

        if isinstance(item, (str, Path)) and Path(item).is_file():
            image = Image.open(item)
        elif hasattr(item, "thumbnail") and hasattr(item, "save"):
            image = item.copy()
        else:
            return None
        image.thumbnail((64, 64))
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="PNG")
        return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    except (OSError, ValueError):
        return None


def show_references(
    prompt: str, images: Sequence[Any] = (), videos: Sequence[Any] = (), audios: Sequence[Any] = ()
) -> ReferencePreview:
    """Preview a prompt's references against what is attached (first/last frames count as images)."""
    return ReferencePreview(
        prompt, {"image": list(images), "video": list(videos), "audio": list(audios)}
    )
