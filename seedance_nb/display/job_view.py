"""A job as HTML: the live view while it runs, then the final state with the video."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .files import poster, shown_path, video_src
from .style import (
    FONT,
    MONO,
    PALETTE,
    VIDEO_STYLE,
    button_style,
    error_line,
    esc,
    notice_line,
    status_span,
)
from .words import (
    done_summary,
    emulated,
    eta_text,
    price_hint,
    settings_text,
    short_prompt,
    storage_text,
)

if TYPE_CHECKING:
    from ..engine.job import Job


def _copy_button() -> str:
    """Copies the prompt from the ``<details>`` right after it, so a saved output holds it once."""
    js = (
        "navigator.clipboard.writeText("
        "this.nextSibling.lastChild.textContent)"
        ".then(()=>{this.textContent='✓ Copied'})"
    )
    return (
        f'<button class="seedance-copy jupyter-button" '
        f'onclick="{esc(js)}" style="{button_style()}">Copy prompt</button>'
    )


def _prompt_details(prompt: str) -> str:
    return (
        '<details style="display:inline-block;vertical-align:top">'
        f'<summary style="cursor:pointer">prompt</summary>'
        f'<pre style="white-space:pre-wrap;margin:4px 0;{MONO}">{esc(prompt)}</pre></details>'
    )


def reuse_html(job: Job, force_hint: str = "force=True") -> str:
    """A job returned from the ledger says so, in one line (nothing was charged)."""
    return (
        f'<div class="seedance-reused" style="color:{PALETTE["muted"]};margin:2px 0">'
        f"↺ {esc(job.reuse_note(force_hint))}</div>"
    )


def submitting_html(label: str) -> str:
    """What a view shows before the job exists (the create is on its way)."""
    return (
        f'<div class="seedance-job" style="{FONT}"><b>{esc(label)}</b> · '
        f"{status_span('submitting')}</div>"
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
    eta = eta_text(job)
    reused = reuse_html(job, force_hint) if job.reused else ""
    return (
        f'<div class="seedance-job" style="{FONT};line-height:1.6">'
        f"<div><b>{esc(job.model)}</b> · {status_span(phase)} {bar} "
        f"{job.elapsed:.1f} s" + (f" · {esc(eta)}" if eta else "") + "</div>"
        f'<div style="color:{PALETTE["muted"]}">'
        f'<span title="{esc(job.request.prompt)}">{esc(short_prompt(job.request.prompt))}</span>'
        f" · {esc(settings_text(job))} · "
        f'<span style="{MONO}">{esc(job.id)}</span></div>{reused}</div>'
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
        f"<div>{status_span(job.status)} {verb} {job.elapsed:.1f} s · <b>{esc(job.model)}</b> "
        f'<span style="color:{PALETTE["muted"]};{MONO}">{esc(job.id)}</span></div>'
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
    if job.status == "succeeded":
        return _succeeded_html(job, display, autoplay, show_poster, reused)
    return _ended_html(job, reused)


def _succeeded_html(job: Job, display: str, autoplay: bool, show_poster: bool, reused: str) -> str:
    """The final line, the video (or its poster), the summary, the file link and the prompt."""
    prompt = job.request.prompt
    src = video_src(job, display)
    still = poster(job.video_path) if show_poster else None
    cost_title = price_hint(job.request.tier) + (
        "; the emulator charges nothing" if emulated(job) else ""
    )
    summary = (
        f'<div style="color:{PALETTE["text"]};{MONO}" title="{esc(cost_title)}">'
        f"{esc(done_summary(job))}</div>"
    )
    name = shown_path(job.video_path) or ""
    if src is not None:
        # autoplay loads the video anyway; without it, only its size and first frame
        auto = " autoplay" if autoplay else ' preload="metadata"'
        poster_attr = f' poster="{still}"' if still else ""
        media = (
            f'<video src="{esc(src)}"{poster_attr} controls loop muted playsinline{auto} '
            f'style="{VIDEO_STYLE}"></video>'
        )
        href = src if display == "relative" else None
    else:
        media = (
            f'<img src="{still}" alt="first frame of {esc(name)}" style="{VIDEO_STYLE}">'
            if still
            else ""
        )
        href = None
        if job.video_path is None or not job.video_path.exists():
            name = f"{name} (file not found)" if name else "no video file"
    link = (
        f'<a href="{esc(href)}" target="_blank">{esc(name)}</a>'
        if href
        else f'<span style="{MONO}">{esc(name)}</span>'
    )
    actions = (
        f'<div style="margin-top:2px">{link} · {_copy_button()}{_prompt_details(prompt)}</div>'
    )
    return (
        f'<div class="seedance-job" style="{FONT};line-height:1.6">{_final_line(job)}'
        f"{media}{summary}{_stored_html(job)}{actions}{reused}</div>"
    )


def _stored_html(job: Job) -> str:
    """Where the video lives besides this machine (nothing when no store was asked for)."""
    text = storage_text(job)
    if text is None:
        return ""
    if job.store_error:
        return notice_line(text, kind="warning")
    return (
        f'<div class="seedance-stored" style="color:{PALETTE["muted"]}">stored at '
        f'<span style="{MONO}">{esc(job.stored_url)}</span></div>'
    )


def _ended_html(job: Job, reused: str) -> str:
    """A job that ended without a video: why, the settings, and the prompt to copy."""
    prompt = job.request.prompt
    err = job.error
    settings = (
        f'<div style="color:{PALETTE["muted"]}">{esc(short_prompt(prompt))} · '
        f"{esc(settings_text(job))}</div>"
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
        f"{problem}{settings}{_copy_button()}{_prompt_details(prompt)}{reused}</div>"
    )
