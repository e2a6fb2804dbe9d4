"""Workflows: several jobs working together, each an ordinary ledger job.

A layer of its own between the engine and the faces: it uses only the engine's public surface
(``submit``, ``validate``, the ledger, jobs) and plain files, so the notebook views, the sync
client and async code share one implementation.

- :mod:`.storyboard`: shots chained by their last frame.
- :mod:`.film`: shots end to end as one MP4 (PyAV, no ffmpeg binary).
"""

from __future__ import annotations

from .film import Film, concat
from .storyboard import Shot, Storyboard

__all__ = ["Film", "Shot", "Storyboard", "concat"]
