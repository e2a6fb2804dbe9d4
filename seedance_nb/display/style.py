"""The look: JupyterLab colour roles, fonts, status glyphs, and the one-line error/notice styles.

Every colour is a JupyterLab CSS variable with a light-theme fallback (``var(--jp-…, #…)``),
chosen so text passes WCAG AA (4.5:1) on ``--jp-layout-color0`` in both the light and the dark
theme (tests/display/test_html_style.py checks it against the installed theme CSS). Styles are inline
attributes: they survive ipywidgets.HTML, nbconvert and other renderers that drop ``<style>``.
Warnings carry their colour on a border (a non-text mark needs 3:1; no ``--jp-warn-color``
reaches 4.5:1 as text on white), their words stay in the text colour.
"""

from __future__ import annotations

import html
from typing import Any

# Roles → CSS values. Text roles pass 4.5:1 in both JupyterLab themes; "warn_mark" and
# "border" are for borders only.
PALETTE: dict[str, str] = {
    "text": "var(--jp-ui-font-color1,rgba(0,0,0,.87))",
    "muted": "var(--jp-ui-font-color2,#616161)",
    "error": "var(--jp-error-color1,#c62828)",
    "success": "var(--jp-success-color0,#1b5e20)",
    "running": "var(--jp-brand-color1,#1565c0)",
    "warn_mark": "var(--jp-warn-color0,#e65100)",
    "error_mark": "var(--jp-error-color1,#c62828)",
    "surface": "var(--jp-layout-color2,#eeeeee)",
}
FONT = "font-family:var(--jp-ui-font-family,system-ui,sans-serif);font-size:var(--jp-ui-font-size1,13px)"
MONO = "font-family:var(--jp-code-font-family,monospace)"
# JupyterLab typesets $…$ in HTML outputs as TeX: text with two dollar amounts (a budget
# refusal, the spend) carries MathJax's ignore classes (3 and 2)
NO_MATH = "mathjax_ignore tex2jax_ignore"
# status → (text role, glyph). "cancelled" is a user's own act: neutral, not red.
_STATUS: dict[str, tuple[str, str]] = {
    "submitting": ("muted", "…"),
    "creating": ("muted", "…"),
    "queued": ("muted", "○"),
    "running": ("running", "◐"),
    "downloading": ("running", "↓"),
    "succeeded": ("success", "✓"),
    "failed": ("error", "✗"),
    "expired": ("error", "✗"),
    "cancelled": ("muted", "■"),
    "unknown": ("text", "⚠"),
}
# Videos fit the viewport: a 9:16 720p clip is 1280 px tall, a 1000 px window shows ~700.
VIDEO_STYLE = "display:block;max-width:100%;max-height:min(70vh,480px)"


# html pieces ------------------------------------------------------------------------------
def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def status_span(status: str) -> str:
    role, glyph = _STATUS.get(status, ("text", "•"))
    return (
        f'<span class="seedance-status seedance-status-{esc(status)}" '
        f'style="color:{PALETTE[role]};font-weight:600">{glyph} {esc(status)}</span>'
    )


def error_line(message: str, kind: str = "InvalidRequest", *, hint: str | None = None) -> str:
    """The one error style (magic, form, compare, history): ✗ kind: message, no traceback;
    ``hint`` is the way out, on a second, muted line."""
    way_out = (
        f'<div style="color:{PALETTE["text"]};margin-top:2px">{esc(hint)}</div>' if hint else ""
    )
    text = f"✗ <b>{esc(kind)}</b>: {esc(message)}"
    if "$" in message:  # dollar amounts (a budget refusal) are not TeX
        text = f'<span class="{NO_MATH}">{text}</span>'
    return (
        f'<div class="seedance-error" style="{FONT};color:{PALETTE["error"]};'
        f'border-left:3px solid {PALETTE["error_mark"]};padding:2px 0 2px 8px;margin:2px 0">'
        f"{text}{way_out}</div>"
    )


def notice_line(text: str, *, kind: str = "info") -> str:
    """A one-line notice: ``info`` muted, ``warning`` with an orange mark (words in the text
    colour, which is what passes contrast in both themes)."""
    if kind == "warning":
        return (
            f'<div class="seedance-notice seedance-warning" style="{FONT};color:{PALETTE["text"]};'
            f'border-left:3px solid {PALETTE["warn_mark"]};padding:2px 0 2px 8px;margin:2px 0">'
            f"⚠ {esc(text)}</div>"
        )
    return (
        f'<div class="seedance-notice" style="{FONT};color:{PALETTE["muted"]};margin:2px 0">'
        f"ℹ {esc(text)}</div>"
    )


def button_style() -> str:
    """Inline style of a Jupyter widget button (ipywidgets' look, from JupyterLab's variables).
    Font and colour come from the view around it, which every caller sets."""
    return (
        f"font:inherit;background:{PALETTE['surface']};color:inherit;border:0;"
        "border-radius:2px;padding:0 10px;height:28px;cursor:pointer;margin:2px 4px 2px 0"
    )
