"""A finished job's last frame, as the image the next shot starts from.

The provider's own last frame is used where it returned one (``return_last_frame`` on Ark,
Volcengine and OrcaRouter; the downloader saved it as ``<job>.last-frame.png``). Otherwise the
final frame is decoded from the downloaded MP4 with PyAV and saved once, beside the video, as
``<job>.video-last-frame.png``. The next shot's request is hashed by these bytes, so they must
never change: the file is written once (atomically) and read back on every re-run, and
extracting it again from the same MP4 gives the same bytes (tested).

``job.extend(prompt, **changes)`` lives here too: a new job whose first frame is this one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import catalog
from ..errors import InvalidRequest, SeedanceError
from ..request.schema import BY_NAME, params_of

if TYPE_CHECKING:
    from .job import Job

# the media a chained shot does not inherit: its first frame is the last one, and the three
# modes never mix (a reference-mode job extended becomes a first-frame job)
MEDIA_PARAMS = tuple(p.name for p in BY_NAME.values() if p.kind in ("media", "media_list"))
LOCAL_FRAME_HOW = {
    "data_url": "as a data: URL",
    "upload_first_frame": "as an uploaded file part",
}


def extract_last_frame(video: Path, dest: Path) -> Path:
    """Decode ``video`` to its final frame and save it as a PNG at ``dest`` (atomically)."""
    import av

    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame threads: faster, and bit-exact all the same
        last = None
        for frame in container.decode(stream):
            last = frame
        if last is None:
            raise SeedanceError(f"{video.name} has no video frame to continue from")
        image = last.to_image()
    part = dest.with_name(dest.name + ".part")
    image.save(part, format="PNG")  # no timestamp or metadata: the same pixels, the same bytes
    os.replace(part, dest)
    return dest


def frame_file(video: Path, provided: Path | None) -> Path:
    """The image a continuation starts from: the provider's last frame, else the MP4's own
    final frame (extracted once and kept beside the video)."""
    if provided is not None and provided.exists():
        return provided
    if not video.exists():
        raise SeedanceError(f"{video} is missing: the last frame cannot be taken from it")
    stem = video.name.removesuffix(".mp4")
    dest = video.with_name(f"{stem}.video-last-frame.png")
    return dest if dest.exists() else extract_last_frame(video, dest)


def placeholder(size: tuple[int, int], workdir: Path) -> Path:
    """A plain PNG of ``size`` that stands in for a last frame not rendered yet, so a chained
    shot is validated (mode, image limits) before anything is sent; written once per size."""
    from PIL import Image

    width, height = size
    path = workdir / "inputs" / f"placeholder-{width}x{height}.png"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        part = path.with_name(path.name + ".part")
        Image.new("RGB", size, (128, 128, 128)).save(part, format="PNG")
        os.replace(part, path)
    return path


def last_frame(job: Job) -> Path:
    """``job``'s last frame as a local PNG (see the module docstring); the job must have
    succeeded with its video on disk."""
    if job.status != "succeeded" or job.video_path is None:
        raise SeedanceError(f"job {job.id} is {job.status}: it has no last frame to continue from")
    return frame_file(job.video_path, job.last_frame_path)


def refuse_url_only(provider: catalog.Provider, what: str) -> None:
    """Refuse, before any request, a chain on a provider that takes media as public URLs only:
    the last frame is a file on this machine, and that provider cannot receive one."""
    if provider.local_media in LOCAL_FRAME_HOW:
        return
    takers = [
        f"{p.name} ({LOCAL_FRAME_HOW[p.local_media]})"
        for p in catalog.PROVIDERS.values()
        if p.local_media in LOCAL_FRAME_HOW and p.name != "emulator"
    ]
    raise InvalidRequest(
        f"{what} needs the last frame, a local image, as the next first frame, but "
        f"{provider.label} takes media only as public URLs its servers can fetch; nothing was "
        f"sent. Use a provider that takes a local first frame: {', '.join(takers)}; or chain "
        "by hand: upload the last frame (sd.last_frame(job)) and pass its https:// URL as "
        "first_frame=.",
        field="first_frame",
        value="<last frame>",
        allowed="https:// URLs on " + provider.name,
        provider=provider.name,
    )


def ask_last_frame(params: dict[str, Any], offer: catalog.Offer | None) -> dict[str, Any]:
    """``params`` asking for the provider's last frame where the offer returns one (unless the
    caller said otherwise): a continuation then needs no decoding."""
    if params.get("return_last_frame") is None and offer is not None:
        if "return_last_frame" in offer.params:
            return {**params, "return_last_frame": True}
    return params


def with_first_frame(
    params: dict[str, Any], frame: Any, offer: catalog.Offer | None
) -> dict[str, Any]:
    """``params`` for a shot that starts from ``frame`` (and returns its own last frame)."""
    return ask_last_frame({**params, "first_frame": frame}, offer)


async def extend(job: Job, prompt: str, *, force: bool = False, **changes: Any) -> Job:
    """A new job that starts from ``job``'s last frame, with ``job``'s parameters (its media
    aside: the modes never mix) and ``changes``; waits for ``job`` first. The same call again
    reuses the same new job."""
    import asyncio

    client = job.client
    if "first_frame" in changes:
        raise TypeError("extend starts from the job's last frame; first_frame cannot be given")
    refuse_url_only(client.provider, "job.extend")
    inherited = {
        k: v
        for k, v in params_of(job.request).items()
        if k not in MEDIA_PARAMS and v is not None and v != {}
    }
    params = {**inherited, **changes}
    model = params.get("model") or catalog.DEFAULT_TIER
    offer = catalog.resolve_tier(client.provider, str(model))[1]
    stand_in = placeholder(job.request.size, client.workdir)
    client.validate(prompt, **with_first_frame(params, stand_in, offer))  # before any waiting
    done = await job.wait_async()
    frame = await asyncio.to_thread(last_frame, done)
    return await client.submit(prompt, force=force, **with_first_frame(params, frame, offer))
