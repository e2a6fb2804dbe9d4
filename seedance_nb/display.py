"""HTML and text for a job: plain strings, no IPython import, so ``Job._repr_html_`` stays cheap.

It sits in the engine layer, next to :mod:`seedance_nb.job`, so a job can show itself without
importing the Jupyter face; :mod:`seedance_nb.jupyter.html` re-exports it for the views.

Every colour is a JupyterLab CSS variable with a light-theme fallback (``var(--jp-…, #…)``),
chosen so text passes WCAG AA (4.5:1) on ``--jp-layout-color0`` in both the light and the dark
theme (tests/test_html_style.py checks it against the installed theme CSS). Styles are inline
attributes: they survive ipywidgets.HTML, nbconvert and other renderers that drop ``<style>``.
Warnings carry their colour on a border (a non-text mark needs 3:1; no ``--jp-warn-color``
reaches 4.5:1 as text on white), their words stay in the text colour.
"""

from __future__ import annotations

import base64
import html
import inspect
import io
import os
import textwrap
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import catalog

if TYPE_CHECKING:
    from .job import Job

__all__ = [
    "DISPLAY_MODES",
    "FONT",
    "MONO",
    "PALETTE",
    "POSTER_QUALITY",
    "POSTER_WIDTH",
    "VIDEO_STYLE",
    "button_style",
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
    "probe_size",
    "progress_html",
    "reuse_html",
    "seconds",
    "settings_text",
    "short_prompt",
    "shown_path",
    "submitting_html",
    "typical_seconds",
    "video_src",
]

DISPLAY_MODES = ("relative", "embed")

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
VIDEO_STYLE = "display:block;max-width:100%;max-height:480px;max-height:min(70vh,480px)"
POSTER_WIDTH = 320
POSTER_QUALITY = 70
_CACHE_SIZE = 256
_posters: OrderedDict[tuple[str, int, int], str | None] = OrderedDict()
_sizes: OrderedDict[tuple[str, int, int], tuple[int, int] | None] = OrderedDict()


# files ----------------------------------------------------------------------------------
def _file_key(path: Path) -> tuple[str, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def _remember(cache: OrderedDict[Any, Any], key: Any, value: Any) -> Any:
    cache[key] = value
    while len(cache) > _CACHE_SIZE:
        cache.popitem(last=False)
    return value


def probe_size(path: Path) -> tuple[int, int] | None:
    """The MP4's frame size (PyAV), cached per (path, mtime, size); None if unreadable."""
    key = _file_key(path)
    if key is None:
        return None
    if key in _sizes:
        return _sizes[key]
    size = None
    try:
        import av

        with av.open(str(path)) as container:
            ctx = container.streams.video[0].codec_context
            size = (int(ctx.width), int(ctx.height))
    except Exception:  # a broken or partial file is shown without a size, never raised
        size = None
    return _remember(_sizes, key, size)


def poster(path: Path | None) -> str | None:
    """The MP4's first frame as a small JPEG data URL (≈5 KB), cached per file version.

    A saved notebook keeps it in the ``<video poster=…>``, so the output shows a real frame
    where the MP4 itself is missing (a fresh clone, GitHub).
    """
    if path is None:
        return None
    key = _file_key(path)
    if key is None:
        return None
    if key in _posters:
        return _posters[key]
    url = None
    try:
        import av

        with av.open(str(path)) as container:
            frame = next(container.decode(video=0))
            image = frame.to_image()
        image.thumbnail((POSTER_WIDTH, POSTER_WIDTH))
        buf = io.BytesIO()
        image.convert("RGB").save(buf, format="JPEG", quality=POSTER_QUALITY, optimize=True)
        url = "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
    except Exception:  # no poster is better than a broken display
        url = None
    return _remember(_posters, key, url)


def shown_path(path: Path | None) -> str | None:
    """A path fit to print in a saved notebook: relative to the cwd, else the file name only."""
    if path is None:
        return None
    try:
        rel = os.path.relpath(path, os.getcwd()).replace(os.sep, "/")
    except ValueError:
        return path.name
    return path.name if rel.startswith("..") or os.path.isabs(rel) else rel


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


def delivered_size(job: Job) -> tuple[int, int] | None:
    """The frame size delivered: the MP4 probed, else the provider's answer (ratio and
    resolution), else the request's size unless its ratio is ``adaptive`` (unknown before)."""
    path = job.video_path
    if path is not None:
        size = probe_size(path)
        if size is not None:
            return size
    raw = job.raw
    ratio, res = raw.get("ratio"), raw.get("resolution")
    if (ratio, res) in catalog.PIXELS:
        return catalog.PIXELS[(ratio, res)]
    if job.request.ratio == catalog.ADAPTIVE:
        return None
    return job.request.size


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


# words ----------------------------------------------------------------------------------
def money(usd: float | None) -> str:
    """Dollars to the cent, no float noise (``$0.22``); ``<$0.01`` below a cent."""
    if usd is None:
        return ""
    if 0 < usd < 0.005:
        return "<$0.01"
    return f"${usd:,.2f}"


def seconds(s: float) -> str:
    """``0.8 s``, ``42 s``, ``3 min 20 s``."""
    if s < 10:
        return f"{s:.1f} s"
    if s < 90:
        return f"{s:.0f} s"
    m, r = divmod(round(s), 60)
    return f"{m} min {r} s" if r else f"{m} min"


def short_prompt(prompt: str, width: int = 80) -> str:
    """The prompt on one line, cut at a word near ``width`` characters."""
    return textwrap.shorten(" ".join(prompt.split()), width=width, placeholder=" …")


def _emulated(job: Job) -> bool:
    return bool(getattr(job.client, "emulated", False)) or job.provider == "emulator"


def typical_seconds(job: Job) -> float:
    """How long this job usually takes from submit to video (see catalog.typical_render_seconds);
    on the offline emulator its own queue and render times × ``SEEDANCE_EMULATOR_SPEED``."""
    r = job.request
    if _emulated(job):
        from .emulator import Emulator, speed_factor

        params = inspect.signature(Emulator.__init__).parameters
        base = float(params["queued_seconds"].default) + float(params["running_seconds"].default)
        return base * speed_factor()
    w, h = r.size
    return catalog.typical_render_seconds(r.tier, w, h, r.duration, mode=r.mode)


def eta_seconds(job: Job) -> float | None:
    """Seconds left by the typical render time (negative: later than usual); None when done."""
    if job.done:
        return None
    return typical_seconds(job) - job.elapsed


def _eta_text(job: Job) -> str:
    if job.phase == "downloading":
        return "downloading the video"
    left = eta_seconds(job)
    if left is None:
        return ""
    typical = typical_seconds(job)
    if left <= 0:
        return f"longer than the typical ≈ {seconds(typical)}"
    return f"≈ {seconds(max(left, 1.0))} left"


def settings_text(job: Job) -> str:
    """The request in one line: ratio, resolution, duration, seed, estimated tokens and cost."""
    r = job.request
    dur = "auto" if r.duration < 0 else f"{r.duration}s"
    parts = [f"{r.ratio} {r.resolution}", dur]
    if job.seed is not None:
        parts.append(f"seed {job.seed}")
    est = f"≈ {job.estimated_tokens:,} tokens"
    cost = catalog.estimate_cost(r.tier, job.estimated_tokens)
    if cost is not None:
        est += f" ≈ {money(cost)}"
    parts.append(est)
    return " · ".join(parts)


def done_summary(job: Job) -> str:
    """One line: model, delivered resolution, duration, seed, tokens and cost, wall time."""
    r = job.request
    size = delivered_size(job)
    parts = [job.model, f"{r.resolution} {size[0]}×{size[1]}" if size else f"{r.resolution}"]
    parts.append(f"{r.duration}s" if r.duration > 0 else "auto")
    if job.seed is not None:
        parts.append(f"seed {job.seed}")
    tokens = job.tokens or job.estimated_tokens
    cost = job.cost
    parts.append(
        f"{tokens:,} tokens"
        + ("" if job.tokens else " (est.)")
        + (f" ≈ {money(cost)}" if cost is not None else "")
    )
    parts.append(f"{job.elapsed:.1f}s wall")
    return " · ".join(parts)


def job_text(job: Job, *, force_hint: str = "force=True") -> str:
    """The job as text/plain: no absolute machine paths (relative to the cwd, or the name)."""
    status = job.status
    lines: list[str] = []
    if job.reused:
        lines.append(job.reuse_note(force_hint))
    if job.done and status == "succeeded":
        lines.append(done_summary(job))
        where = shown_path(job.video_path)
        if where:
            lines.append(where)
    elif job.done:
        lines.append(f"{job.model}: {status} after {job.elapsed:.1f}s · {settings_text(job)}")
        err = job.error
        if err is not None:
            lines.append(f"{err.code}: {err.message}")
    else:
        phase = job.phase if job.phase in ("creating", "downloading") else status
        eta = _eta_text(job)
        lines.append(
            f"{job.model}: {phase} {job.elapsed:.1f}s"
            + (f" · {eta}" if eta else "")
            + f" · {job.id}"
        )
        lines.append(f"{short_prompt(job.request.prompt)} · {settings_text(job)}")
    return "\n".join(lines)


# html pieces ------------------------------------------------------------------------------
def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _status_span(status: str) -> str:
    role, glyph = _STATUS.get(status, ("text", "•"))
    return (
        f'<span class="seedance-status seedance-status-{_esc(status)}" '
        f'style="color:{PALETTE[role]};font-weight:600">{glyph} {_esc(status)}</span>'
    )


def error_line(message: str, kind: str = "InvalidRequest", *, hint: str | None = None) -> str:
    """The one error style (magic, form, compare, history): ✗ kind: message, no traceback;
    ``hint`` is the way out, on a second, muted line."""
    way_out = (
        f'<div style="color:{PALETTE["text"]};margin-top:2px">{_esc(hint)}</div>' if hint else ""
    )
    return (
        f'<div class="seedance-error" style="{FONT};color:{PALETTE["error"]};'
        f'border-left:3px solid {PALETTE["error_mark"]};padding:2px 0 2px 8px;margin:2px 0">'
        f"✗ <b>{_esc(kind)}</b>: {_esc(message)}{way_out}</div>"
    )


def notice_line(text: str, *, kind: str = "info") -> str:
    """A one-line notice: ``info`` muted, ``warning`` with an orange mark (words in the text
    colour, which is what passes contrast in both themes)."""
    if kind == "warning":
        return (
            f'<div class="seedance-notice seedance-warning" style="{FONT};color:{PALETTE["text"]};'
            f'border-left:3px solid {PALETTE["warn_mark"]};padding:2px 0 2px 8px;margin:2px 0">'
            f"⚠ {_esc(text)}</div>"
        )
    return (
        f'<div class="seedance-notice" style="{FONT};color:{PALETTE["muted"]};margin:2px 0">'
        f"ℹ {_esc(text)}</div>"
    )


def button_style() -> str:
    """Inline style of a Jupyter widget button (ipywidgets' look, from JupyterLab's variables)."""
    return (
        f"{FONT};background:{PALETTE['surface']};color:{PALETTE['text']};border:0;"
        "border-radius:2px;padding:0 10px;height:28px;line-height:28px;cursor:pointer;"
        "margin:2px 4px 2px 0"
    )


def _copy_button(prompt: str) -> str:
    js = (
        "navigator.clipboard&&navigator.clipboard.writeText(this.dataset.prompt)"
        ".then(()=>{this.textContent='✓ Copied'})"
    )
    return (
        f'<button class="seedance-copy jupyter-button" title="Copy the prompt" '
        f'data-prompt="{_esc(prompt)}" onclick="{_esc(js)}" style="{button_style()}">'
        "Copy prompt</button>"
    )


def _prompt_details(prompt: str) -> str:
    return (
        f'<details style="display:inline-block;vertical-align:top;color:{PALETTE["text"]}">'
        f'<summary style="cursor:pointer">prompt</summary>'
        f'<pre style="white-space:pre-wrap;margin:4px 0;{MONO}">{_esc(prompt)}</pre></details>'
    )


def reuse_html(job: Job, force_hint: str = "force=True") -> str:
    """A job returned from the ledger says so, in one line (nothing was charged)."""
    return (
        f'<div class="seedance-reused" style="color:{PALETTE["muted"]};margin:2px 0">'
        f"↺ {_esc(job.reuse_note(force_hint))}</div>"
    )


def submitting_html(label: str) -> str:
    """What a view shows before the job exists (the create is on its way)."""
    return (
        f'<div class="seedance-job" style="{FONT}"><b>{_esc(label)}</b> · '
        f"{_status_span('submitting')}</div>"
    )


def progress_html(job: Job, *, force_hint: str = "force=True") -> str:
    """The live view: model, state, progress, elapsed and ETA; the prompt (shortened) and the
    settings with the estimated tokens and cost underneath."""
    phase = job.phase if job.phase in ("creating", "downloading") else job.status
    bar = (
        f'<progress value="{job.progress:.2f}" max="1" style="width:10em;vertical-align:middle">'
        "</progress>"
        if job.progress
        else '<progress style="width:10em;vertical-align:middle"></progress>'
    )
    eta = _eta_text(job)
    reused = reuse_html(job, force_hint) if job.reused else ""
    return (
        f'<div class="seedance-job" style="{FONT};line-height:1.6">'
        f"<div><b>{_esc(job.model)}</b> · {_status_span(phase)} {bar} "
        f"{job.elapsed:.1f} s" + (f" · {_esc(eta)}" if eta else "") + "</div>"
        f'<div style="color:{PALETTE["muted"]}">'
        f'<span title="{_esc(job.request.prompt)}">{_esc(short_prompt(job.request.prompt))}</span>'
        f" · {_esc(settings_text(job))} · "
        f'<span style="{MONO}">{_esc(job.id)}</span></div>{reused}</div>'
    )


def _unknown_hint(job: Job) -> str:
    return (
        f"Ways out: look for the task in {job.provider}'s console; to send it again anyway (it "
        f"may pay twice): client.resubmit(job), seedance-nb generate … --force, or "
        f"%seedance resubmit {job.id}."
    )


def _final_line(job: Job) -> str:
    """The final state, first: clear even when the job finished before any repaint."""
    verb = "in" if job.status == "succeeded" else "after"
    return (
        f"<div>{_status_span(job.status)} {verb} {job.elapsed:.1f} s · <b>{_esc(job.model)}</b> "
        f'<span style="color:{PALETTE["muted"]};{MONO}">{_esc(job.id)}</span></div>'
    )


def job_html(
    job: Job,
    display: str = "relative",
    *,
    autoplay: bool = True,
    force_hint: str = "force=True",
    show_poster: bool = True,
) -> str:
    """The job as HTML: the live view while it runs; when done the final state, the video
    (with a poster frame) and a summary with cost, a link to the file and copy-prompt."""
    if not job.done:
        return progress_html(job, force_hint=force_hint)
    reused = reuse_html(job, force_hint) if job.reused else ""
    prompt = job.request.prompt
    if job.status == "succeeded":
        src = video_src(job, display)
        still = poster(job.video_path) if show_poster else None
        cost_title = "estimate at catalog list price; your contract may differ" + (
            " (the emulator charges nothing)" if _emulated(job) else ""
        )
        summary = (
            f'<div style="color:{PALETTE["text"]}" title="{_esc(cost_title)}">'
            f'<span style="{MONO}">{_esc(done_summary(job))}</span></div>'
        )
        name = shown_path(job.video_path) or ""
        if src is not None:
            auto = " autoplay" if autoplay else ""
            poster_attr = f' poster="{still}"' if still else ""
            media = (
                f'<video src="{_esc(src)}"{poster_attr} controls loop muted playsinline{auto} '
                f'preload="metadata" style="{VIDEO_STYLE}"></video>'
            )
            href = src if display == "relative" else None
        else:
            media = (
                f'<img src="{still}" alt="first frame of {_esc(name)}" style="{VIDEO_STYLE}">'
                if still
                else ""
            )
            href = None
            if job.video_path is None or not job.video_path.exists():
                name = f"{name} (file not found)" if name else "no video file"
        link = (
            f'<a href="{_esc(href)}" target="_blank" style="color:{PALETTE["running"]}">'
            f"{_esc(name)}</a>"
            if href
            else f'<span style="{MONO}">{_esc(name)}</span>'
        )
        actions = (
            f'<div style="margin-top:2px">{link} · {_copy_button(prompt)}{_prompt_details(prompt)}'
            "</div>"
        )
        return (
            f'<div class="seedance-job" style="{FONT};line-height:1.6">{_final_line(job)}'
            f"{media}{summary}{actions}{reused}</div>"
        )
    err = job.error
    settings = (
        f'<div style="color:{PALETTE["muted"]}">{_esc(short_prompt(prompt))} · '
        f"{_esc(settings_text(job))}</div>"
    )
    if job.status == "unknown":
        message = err.message if err else "the create's fate could not be told"
        problem = notice_line(f"unknown outcome: {message}. {_unknown_hint(job)}", kind="warning")
    elif job.status == "cancelled":
        problem = notice_line("cancelled: no video" + (f" ({err.message})" if err else ""))
    else:
        problem = error_line(err.message if err else job.status, err.code if err else job.status)
    return (
        f'<div class="seedance-job" style="{FONT};line-height:1.6">{_final_line(job)}'
        f"{problem}{settings}{_copy_button(prompt)}{_prompt_details(prompt)}{reused}</div>"
    )
