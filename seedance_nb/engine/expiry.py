"""How long a finished video's signed URL lasts: 24 h from when the provider finished.

Ark's guide says to copy ``content.video_url`` to your own storage within 24 h; the gateways
sign theirs for a day or less. A job whose video is on disk does not care; a job that
succeeded upstream but whose video is not on disk yet (its process died mid-download, or the
download keeps failing) does, so its views show the time left, and ``client.resume()`` (or
``seedance-nb resume``) fetches it.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from .. import catalog
from ..errors import SeedanceError
from ..providers import dialect_for

if TYPE_CHECKING:
    from .job import Job

URL_LIFETIME_SECONDS = 24 * 3600.0


def provider_finished_at(job: Job) -> float | None:
    """When the provider finished the task (its own clock, from its payload); else when the
    ledger recorded the success (the row's last write, a poll interval later at most)."""
    spec = catalog.PROVIDERS.get(job.provider)
    stamp = None
    if spec is not None and job.raw:
        try:
            stamp = dialect_for(spec).parse_task(job.raw).updated_at
        except (SeedanceError, ValueError, TypeError, KeyError):
            stamp = None
    if stamp is not None and stamp > 1e11:  # milliseconds
        stamp /= 1000
    if stamp is None or stamp <= 0:
        updated = job.row.get("updated_at")
        stamp = float(updated) if updated is not None else None
    return stamp


def url_expires_at(job: Job) -> float | None:
    """When the video URL of a job that succeeded upstream, video not on disk yet, expires;
    None for every other job (running, settled, or with its video on disk)."""
    if job.phase != "downloading":
        return None
    finished = provider_finished_at(job)
    return None if finished is None else finished + URL_LIFETIME_SECONDS


def _span(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{max(minutes, 1)} min"


def expiry_text(job: Job, now: float | None = None) -> str:
    """``video URL expires in 23 h 59 min`` (or that it expired); "" when it does not apply."""
    at = url_expires_at(job)
    if at is None:
        return ""
    left = at - (time.time() if now is None else now)
    if left <= 0:
        return f"video URL expired {_span(-left)} ago; the provider may not serve it any more"
    return f"video URL expires in {_span(left)}"


__all__ = ["URL_LIFETIME_SECONDS", "expiry_text", "provider_finished_at", "url_expires_at"]
