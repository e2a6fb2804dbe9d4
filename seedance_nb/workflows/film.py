"""Shots end to end as one MP4, with PyAV only (no ffmpeg binary).

Every shot is re-encoded to one size (the first shot's; another aspect is letterboxed), one
frame rate (frames repeated or dropped by their time) and H.264; sound becomes one AAC track
where any shot has sound, with silence for the shots that have none. Each shot keeps its own
length (its video's), and its sound is cut or padded to that length, so picture and sound
stay in step across the joins.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from .. import catalog
from ..display import FONT, PALETTE, VIDEO_STYLE, shown_path
from ..errors import SeedanceError

SAMPLE_RATE = 48_000
AUDIO_CHUNK = 1024  # samples per AAC frame


@dataclass(frozen=True)
class Film:
    """The one MP4 of a storyboard; shows itself as a player in Jupyter."""

    path: Path
    duration: float
    width: int
    height: int
    fps: int
    has_audio: bool
    shots: int

    def html(self, autoplay: bool = True) -> str:
        """A player for the film (relative to the notebook's folder), with a one-line summary."""
        src = _relative(self.path)
        what = (
            f"{self.shots} shots · {self.duration:.1f} s · {self.width}×{self.height} · "
            f"{self.fps} fps · {'with sound' if self.has_audio else 'silent'}"
        )
        if src is None:
            player = f'<div style="color:{PALETTE["muted"]}">{html.escape(str(self.path))}</div>'
        else:
            auto = " autoplay" if autoplay else ""
            player = (
                f'<video src="{html.escape(src)}" controls loop muted playsinline{auto} '
                f'preload="metadata" style="{VIDEO_STYLE}"></video>'
            )
        name = html.escape(shown_path(self.path) or self.path.name)
        return (
            f'<div class="seedance-film" style="{FONT};line-height:1.6">'
            f"<div><b>Film</b> · {html.escape(what)}</div>{player}"
            f'<div style="color:{PALETTE["muted"]}">{name}</div></div>'
        )

    def _repr_html_(self) -> str:
        return self.html()

    def __repr__(self) -> str:
        return f"<Film {self}>"

    def __str__(self) -> str:
        sound = "with sound" if self.has_audio else "silent"
        return (
            f"{self.path.name}: {self.shots} shots, {self.duration:.1f} s, "
            f"{self.width}×{self.height} at {self.fps} fps, {sound}"
        )


def _relative(path: Path) -> str | None:
    try:
        rel = os.path.relpath(path, os.getcwd()).replace(os.sep, "/")
    except ValueError:
        return None
    return None if rel.startswith("..") else rel


@dataclass(frozen=True)
class _Clip:
    path: Path
    width: int
    height: int
    seconds: float  # the video stream's length
    has_audio: bool


def _probe(path: Path) -> _Clip:
    import av

    if not path.exists():
        raise SeedanceError(f"{path} is missing: the film needs every shot's video")
    with av.open(str(path)) as c:
        if not c.streams.video:
            raise SeedanceError(f"{path.name} has no video stream")
        v = c.streams.video[0]
        if v.duration and v.time_base:
            seconds = float(v.duration * v.time_base)
        elif c.duration:
            seconds = c.duration / 1_000_000
        else:
            seconds = sum(1 for _ in c.decode(v)) / float(v.average_rate or catalog.FPS)
        ctx = v.codec_context
        return _Clip(path, ctx.width, ctx.height, seconds, bool(c.streams.audio))


def concat(videos: Sequence[Path], dest: Path, *, fps: int = catalog.FPS) -> Film:
    """Write ``videos`` one after another into ``dest`` (atomically) and describe the result."""
    import av

    if not videos:
        raise SeedanceError("no shots to put in a film")
    clips = [_probe(Path(v)) for v in videos]
    width, height = clips[0].width // 2 * 2, clips[0].height // 2 * 2
    sound = any(c.has_audio for c in clips)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    frames = 0
    try:
        with av.open(str(part), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            vs = out.add_stream("libx264", rate=fps)
            vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
            vs.options = {"preset": "veryfast", "crf": "20"}
            audio = _AudioOut(out) if sound else None
            for clip in clips:
                frames = _add_clip(out, vs, audio, clip, frames, fps)
            for packet in vs.encode(None):
                out.mux(packet)
            if audio is not None:
                audio.flush()
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)
    return Film(dest, frames / fps, width, height, fps, sound, len(clips))


def _add_clip(out: Any, vs: Any, audio: _AudioOut | None, clip: _Clip, start: int, fps: int) -> int:
    """Encode one clip's pictures (and its sound in step); returns the frames written so far."""
    count = max(1, round(clip.seconds * fps))
    if audio is not None:
        audio.load(clip, count / fps)
    index = start
    tick = Fraction(1, fps)
    for frame in _frames(clip, count, fps, vs.width, vs.height):
        frame.pts, frame.time_base = index, tick
        for packet in vs.encode(frame):
            out.mux(packet)
        index += 1
        if audio is not None:
            audio.feed_until(index / fps)
    return index


def _frames(clip: _Clip, count: int, fps: int, width: int, height: int) -> Iterator[Any]:
    """``count`` frames at ``fps`` of ``clip``, each the picture showing at its time."""
    import av

    shown = 0
    current = None
    with av.open(str(clip.path)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        start = None
        for frame in c.decode(stream):
            t = frame.time or 0.0
            start = t if start is None else start
            while current is not None and shown < count and shown / fps < t - start - 1e-6:
                yield current
                shown += 1
            current = _fit(frame, width, height)
    while current is not None and shown < count:
        yield current
        shown += 1


def _fit(frame: Any, width: int, height: int) -> Any:
    """The frame at the film's size: scaled, or letterboxed where the aspect differs."""
    import av

    if frame.width * height == frame.height * width:
        return frame.reformat(width=width, height=height, format="yuv420p")
    from PIL import Image

    image = frame.to_image()
    image.thumbnail((width, height))
    canvas = Image.new("RGB", (width, height))
    canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
    return av.VideoFrame.from_image(canvas).reformat(format="yuv420p")


class _AudioOut:
    """The film's AAC stereo track, fed clip by clip in step with the pictures."""

    def __init__(self, out: Any) -> None:
        import numpy as np

        self.out = out
        self.stream = out.add_stream("aac", rate=SAMPLE_RATE)
        self.stream.layout = "stereo"
        self.stream.bit_rate = 128_000
        self.written = 0  # samples encoded so far, over the whole film
        self.base = 0  # where the current clip's sound starts, in samples of the film
        self.samples: Any = np.zeros((2, 0), np.float32)

    def load(self, clip: _Clip, seconds: float) -> None:
        """The next clip's sound (or silence), cut or padded to exactly ``seconds``."""
        import numpy as np

        self._feed(self.base + self.samples.shape[1])  # the rest of the clip before
        self.base = self.written
        want = round(seconds * SAMPLE_RATE)
        sound = _decode_audio(clip.path) if clip.has_audio else np.zeros((2, 0), np.float32)
        if sound.shape[1] < want:
            sound = np.pad(sound, ((0, 0), (0, want - sound.shape[1])))
        self.samples = np.ascontiguousarray(sound[:, :want], dtype=np.float32)

    def feed_until(self, seconds: float) -> None:
        """Encode the current clip's sound up to ``seconds`` into the film."""
        self._feed(min(self.base + self.samples.shape[1], round(seconds * SAMPLE_RATE)))

    def _feed(self, until: int) -> None:
        import av
        import numpy as np

        while self.written < until:
            lo = self.written - self.base
            chunk = self.samples[:, lo : lo + min(AUDIO_CHUNK, until - self.written)]
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(chunk), format="fltp", layout="stereo"
            )
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self.written
            for packet in self.stream.encode(frame):
                self.out.mux(packet)
            self.written += chunk.shape[1]

    def flush(self) -> None:
        """The last clip's remaining sound, then the encoder's tail."""
        self._feed(self.base + self.samples.shape[1])
        for packet in self.stream.encode(None):
            self.out.mux(packet)


def _decode_audio(path: Path) -> Any:
    """All of a file's sound as float32 stereo at 48 kHz, shape (2, samples)."""
    import av
    import numpy as np

    resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
    parts = []
    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.audio[0]):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray())
    for out in resampler.resample(None):
        parts.append(out.to_ndarray())
    if not parts:
        return np.zeros((2, 0), np.float32)
    return np.concatenate(parts, axis=1).astype(np.float32)
