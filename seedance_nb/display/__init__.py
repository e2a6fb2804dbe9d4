"""HTML and text for a job: plain strings, no IPython import, so ``Job._repr_html_`` stays cheap.

It sits in the engine layer, next to :mod:`seedance_nb.engine.job`, so a job can show itself without
importing the Jupyter face; the Jupyter views use it too.

Parts: :mod:`.style` (colours that pass contrast in both JupyterLab themes, the error and
notice lines), :mod:`.files` (poster frame, frame size, paths), :mod:`.words` (the text view,
money, ETA), :mod:`.job_view` (the job's HTML), :mod:`.spend` (a workdir's spend).
"""

from __future__ import annotations

from .files import (
    DISPLAY_MODES,
    POSTER_QUALITY,
    POSTER_WIDTH,
    delivered_size,
    metadata,
    poster,
    probe_size,
    shown_path,
    video_src,
)
from .job_view import job_html, progress_html, reuse_html, submitting_html
from .spend import spend_html, spend_text
from .style import (
    _STATUS as _STATUS,  # tests/display/test_html_style.py checks every status colour's contrast
)
from .style import (
    FONT,
    MONO,
    PALETTE,
    VIDEO_STYLE,
    button_style,
    error_line,
    notice_line,
)
from .words import (
    cost_words,
    done_summary,
    eta_seconds,
    job_text,
    money,
    price_hint,
    seconds,
    settings_text,
    short_prompt,
    storage_text,
    typical_seconds,
)

__all__ = [
    "DISPLAY_MODES",
    "FONT",
    "MONO",
    "PALETTE",
    "POSTER_QUALITY",
    "POSTER_WIDTH",
    "VIDEO_STYLE",
    "button_style",
    "cost_words",
    "delivered_size",
    "done_summary",
    "error_line",
    "eta_seconds",
    "job_html",
    "job_text",
    "metadata",
    "money",
    "notice_line",
    "poster",
    "price_hint",
    "probe_size",
    "progress_html",
    "reuse_html",
    "seconds",
    "settings_text",
    "short_prompt",
    "shown_path",
    "spend_html",
    "spend_text",
    "storage_text",
    "submitting_html",
    "typical_seconds",
    "video_src",
]
