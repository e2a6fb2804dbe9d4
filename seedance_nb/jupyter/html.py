"""HTML for a job: plain strings, no IPython import, so ``Job._repr_html_`` stays cheap."""

from __future__ import annotations

import html
import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..job import Job


def video_src(job: Job) -> str | None:
    """A relative URL when the video is under the current folder (jupyter-server serves it)."""
    if job.video_path is None:
        return None
    try:
        return os.path.relpath(job.video_path, os.getcwd()).replace(os.sep, "/")
    except ValueError:
        return None


def job_html(job: Job) -> str:
    summary = html.escape(job.summary())
    src = video_src(job)
    if job.status == "succeeded" and src and not src.startswith(".."):
        return (
            f'<div class="seedance-job"><video src="{html.escape(src)}" controls loop muted '
            f'playsinline style="max-width:100%"></video><div><code>{summary}</code></div></div>'
        )
    error = f"<br><b>{html.escape(str(job.error))}</b>" if job.error else ""
    return f'<div class="seedance-job"><code>{summary}</code>{error}</div>'
