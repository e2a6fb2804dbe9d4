"""The job's files as a page shows them: frame size, poster frame, a path fit to print, the
``<video>`` source; probed with PyAV and cached per file version."""

from __future__ import annotations

import base64
import io
import os
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import catalog

if TYPE_CHECKING:
    from ..engine.job import Job

DISPLAY_MODES = ("relative", "embed")
# A poster stands in for a missing MP4 (a fresh clone, a shared notebook) and is stored in every
# saved output, though it only shows until the video loads: WebP at 160 px keeps it near
# 1-2 KB, where a 320 px JPEG took 5-7 KB.
POSTER_WIDTH = 160
POSTER_QUALITY = 35
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
    """The MP4's first frame as a small WebP data URL (1-2 KB), cached per file version.

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
        image.convert("RGB").save(buf, format="WEBP", quality=POSTER_QUALITY, method=6)
        url = "data:image/webp;base64," + base64.b64encode(buf.getvalue()).decode("ascii")
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
