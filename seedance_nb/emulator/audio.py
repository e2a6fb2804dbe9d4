"""The sound of a render: a synthetic chord, fed to the AAC stream in step with the video."""

from __future__ import annotations

import hashlib
from typing import Any

import av
import numpy as np

SAMPLE_RATE = 48_000


def tone(seconds_samples: int, seed_text: str) -> np.ndarray:
    """A soft major chord with a slow swell: pleasant, obviously synthetic, exact length."""
    n = seconds_samples
    t = np.arange(n, dtype=np.float64) / SAMPLE_RATE
    roots = (220.0, 246.94, 261.63, 293.66, 329.63)
    root = roots[int(hashlib.sha256(seed_text.encode()).hexdigest()[:2], 16) % len(roots)]
    sig = np.zeros(n)
    for ratio, amp in ((1.0, 0.5), (1.25, 0.32), (1.5, 0.28), (2.0, 0.15)):
        sig += amp * np.sin(2 * np.pi * root * ratio * t)
    swell = 0.75 + 0.25 * np.sin(2 * np.pi * 0.5 * t)
    fade = np.minimum(1.0, np.minimum(t / 0.05, (n / SAMPLE_RATE - t) / 0.15))
    sig *= 0.22 * swell * np.clip(fade, 0, 1)
    left = sig
    right = sig * (0.9 + 0.1 * np.sin(2 * np.pi * 0.25 * t))
    return np.stack([left, right]).astype(np.float32)


class AudioTrack:
    """An AAC stereo stream in container ``c`` carrying ``tone`` for ``seconds`` of video."""

    def __init__(self, c: Any, seconds: float, seed_text: str) -> None:
        self.c = c
        self.stream = c.add_stream("aac", rate=SAMPLE_RATE)
        self.stream.layout = "stereo"
        self.stream.bit_rate = 96_000
        self.samples = tone(round(seconds * SAMPLE_RATE), seed_text)
        self.pos = 0

    def feed_until(self, seconds: float) -> None:
        """Encode and mux the samples up to ``seconds`` (in chunks of 1024)."""
        until = min(self.samples.shape[1], round(seconds * SAMPLE_RATE))
        while self.pos < until:
            chunk = self.samples[:, self.pos : min(until, self.pos + 1024)]
            af = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(chunk), format="fltp", layout="stereo"
            )
            af.sample_rate = SAMPLE_RATE
            af.pts = self.pos
            for packet in self.stream.encode(af):
                self.c.mux(packet)
            self.pos += chunk.shape[1]

    def flush(self) -> None:
        """Drain the encoder at the end of the file."""
        for packet in self.stream.encode(None):
            self.c.mux(packet)
