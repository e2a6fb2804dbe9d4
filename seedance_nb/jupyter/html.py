"""HTML for a job: plain strings, no IPython import, so ``Job._repr_html_`` stays cheap."""

from __future__ import annotations

import base64
import html
import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..job import Job

DISPLAY_MODES = ("relative", "embed")

_STATUS_COLOUR = {
    "queued": "#888",
    "running": "#1f6feb",
    "succeeded": "#1a7f37",
    "failed": "#cf222e",
    "cancelled": "#9a6700",
    "expired": "#9a6700",
}


def video_src(job: Job, display: str = "relative") -> str | None:
    """Where a ``<video>`` finds the job's MP4.

    ``relative``: a path relative to the current folder (the notebook's), served by
    jupyter-server; ``None`` when the file lies outside it. ``embed``: a base64 data URL that
    travels with the notebook (nbconvert, Colab, VS Code).
    """
    path = job.video_path
    if path is None or not path.exists():
        return None
    if display == "embed":
        return "data:video/mp4;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    try:
        rel = os.path.relpath(path, os.getcwd()).replace(os.sep, "/")
    except ValueError:
        return None
    return None if rel.startswith("..") else rel


def metadata(job: Job) -> dict[str, Any]:
    """What the output records about the job (``display(..., metadata=...)``)."""
    return {
        "seedance": {
            "job_id": job.id,
            "provider": job.provider,
            "model": job.model,
            "task_id": job.task_id,
            "seed": job.seed,
            "status": job.status,
        }
    }


def error_line(message: str, kind: str = "InvalidRequest") -> str:
    """A short, styled one-line error (no traceback)."""
    return (
        '<div class="seedance-error" style="color:#cf222e;font-family:monospace">'
        f"✗ <b>{html.escape(kind)}</b>: {html.escape(message)}</div>"
    )


def done_summary(job: Job) -> str:
    """One line: model, resolution, duration, seed, tokens, wall time."""
    r = job.request
    w, h = r.size
    parts = [job.model, f"{r.resolution} {w}×{h}", f"{r.duration}s"]
    if job.seed is not None:
        parts.append(f"seed {job.seed}")
    tokens = job.tokens or job.estimated_tokens
    parts.append(f"{tokens:,} tokens" + ("" if job.tokens else " (est.)"))
    parts.append(f"{job.elapsed:.1f}s wall")
    return " · ".join(parts)


def progress_html(job: Job) -> str:
    colour = _STATUS_COLOUR.get(job.status, "#888")
    phase = job.phase if job.phase in ("creating", "downloading") else job.status
    bar = (
        f'<progress value="{job.progress:.2f}" max="1" style="width:12em"></progress>'
        if job.progress is not None
        else '<progress style="width:12em"></progress>'
    )
    return (
        f'<div class="seedance-job" style="font-family:monospace">'
        f"<b>{html.escape(job.model)}</b> · "
        f'<span style="color:{colour}">{html.escape(phase)}</span> {bar} '
        f"{job.elapsed:.1f}s · <small>{html.escape(job.id)}</small></div>"
    )


def job_html(job: Job, display: str = "relative", *, autoplay: bool = True) -> str:
    """The job as HTML: progress while running, the video and a summary when done."""
    if not job.done:
        return progress_html(job)
    if job.status == "succeeded":
        src = video_src(job, display)
        summary = html.escape(done_summary(job))
        if src is None:
            where = html.escape(str(job.video_path))
            return f'<div class="seedance-job"><code>{summary}</code><br><code>{where}</code></div>'
        auto = " autoplay" if autoplay else ""
        return (
            f'<div class="seedance-job"><video src="{html.escape(src)}" controls loop muted '
            f'playsinline{auto} style="max-width:100%"></video>'
            f"<div><code>{summary}</code></div></div>"
        )
    err = job.error
    message = f"{err.code}: {err.message}" if err else job.status
    return (
        f'<div class="seedance-job"><code>{html.escape(job.summary())}</code>'
        + error_line(message, f"job {job.status}")
        + "</div>"
    )
