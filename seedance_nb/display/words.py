"""A job in words: money, durations, the settings line, the ETA and the text/plain view."""

from __future__ import annotations

import inspect
import textwrap
from typing import TYPE_CHECKING

from .. import catalog
from .files import delivered_size, shown_path

if TYPE_CHECKING:
    from ..engine.job import Job


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


def emulated(job: Job) -> bool:
    return bool(getattr(job.client, "emulated", False)) or job.provider == "emulator"


def typical_seconds(job: Job) -> float:
    """How long this job usually takes from submit to video (see catalog.typical_render_seconds);
    on the offline emulator its own queue and render times × ``SEEDANCE_EMULATOR_SPEED``."""
    r = job.request
    if emulated(job):
        from ..emulator import Emulator, speed_factor

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


def eta_text(job: Job) -> str:
    if job.phase == "downloading":
        from ..engine.expiry import expiry_text

        expiry = expiry_text(job)
        return "downloading the video" + (f" · {expiry}" if expiry else "")
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
        est += f" · est. {money(cost)}"
    parts.append(est)
    return " · ".join(parts)


def price_hint(tier: str | None) -> str:
    """Where a cost comes from, short enough for a tooltip saved with every video: the price in
    force for ``tier`` and the day it was read (its source is in ``seedance-nb models`` and
    ``sd.catalog.price_of``)."""
    price = catalog.price_of(tier)
    if price is None:
        return f"no catalog price for {tier or 'this model'}"
    return (
        f"${price.usd_per_million_tokens:g}/M tokens, catalog price read "
        f"{price.read_on.isoformat()}; your contract may differ"
    )


def cost_words(job: Job) -> str:
    """Tokens and cost: ``40,176 tokens · $0.28`` from the provider's usage, else
    ``≈ 40,176 tokens · est. $0.28``: a cost says "est." until the usage is known."""
    cost = job.cost
    if job.tokens:
        return f"{job.tokens:,} tokens" + (f" · {money(cost)}" if cost is not None else "")
    est = f" · est. {money(cost)}" if cost is not None else ""
    return f"≈ {job.estimated_tokens:,} tokens{est}"


def storage_text(job: Job) -> str | None:
    """Where the video lives besides this machine: the object store's URL, or "stored locally
    only" with why the upload failed; None when no store was asked for."""
    if job.stored_url:
        return f"stored at {job.stored_url}"
    if job.store_error:
        return f"stored locally only ({job.store_error}); client.resume() retries the upload"
    return None


def done_summary(job: Job) -> str:
    """One line: model, delivered resolution, duration, seed, tokens and cost (est. until the
    provider's usage is known), wall time."""
    r = job.request
    size = delivered_size(job)
    parts = [job.model, f"{r.resolution} {size[0]}×{size[1]}" if size else f"{r.resolution}"]
    parts.append(f"{r.duration}s" if r.duration > 0 else "auto")
    if job.seed is not None:
        parts.append(f"seed {job.seed}")
    parts.append(cost_words(job))
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
        stored = storage_text(job)
        if stored:
            lines.append(stored)
    elif job.done:
        lines.append(f"{job.model}: {status} after {job.elapsed:.1f}s · {settings_text(job)}")
        err = job.error
        if err is not None:
            lines.append(f"{err.code}: {err.message}")
    else:
        phase = job.phase if job.phase in ("creating", "downloading") else status
        eta = eta_text(job)
        lines.append(
            f"{job.model}: {phase} {job.elapsed:.1f}s"
            + (f" · {eta}" if eta else "")
            + f" · {job.id}"
        )
        lines.append(f"{short_prompt(job.request.prompt)} · {settings_text(job)}")
    return "\n".join(lines)
