"""Jobs and HTML for display tests: real :class:`~seedance_nb.Job` objects over hand-made
ledger rows (each state drawn without a render), and a parser for what a page shows."""

from __future__ import annotations

import json
import time
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from seedance_nb import catalog
from seedance_nb.engine.job import Job
from seedance_nb.request import build_request

PROMPT = (
    "A paper boat drifts down a rain-soaked street at dusk, neon reflections in the puddles, "
    "slow dolly, <b>bold</b> & 'quoted'"
)


class _Runtime:
    """What a Job reads from its runtime for display: the loop and whether it is emulated."""

    def __init__(self, emulated: bool = False) -> None:
        self.emulated = emulated
        self.loop = None


def make_job(
    *,
    status: str = "succeeded",
    phase: str | None = None,
    video: Path | None = None,
    ratio: str = "16:9",
    resolution: str = "480p",
    duration: int = 4,
    model: str = "seedance-2.0-fast",
    provider: str = "ark",
    tokens: int | None = 40_176,
    elapsed: float = 3.2,
    raw: dict[str, Any] | None = None,
    error: dict[str, str] | None = None,
    emulated: bool = False,
    progress: float | None = None,
    prompt: str = PROMPT,
) -> Job:
    request, _ = build_request(
        catalog.get_provider(provider),
        prompt,
        model=model,
        ratio=ratio,
        resolution=resolution,
        duration=duration,
        seed=42,
        warn=False,
    )
    done = status in ("succeeded", "failed", "cancelled", "expired")
    now = time.time()
    row: dict[str, Any] = {
        "id": "job_0123456789ab",
        "provider": provider,
        "status": status if status != "unknown" else "queued",
        "phase": phase or ("unknown" if status == "unknown" else "done" if done else "tracking"),
        "task_id": "cgt-1",
        "created_at": now - elapsed,
        "finished_at": now if done else None,
        "seed": 42,
        "progress": progress,
        "video_path": str(video) if video else None,
        "usage_json": json.dumps({"total_tokens": tokens}) if tokens else None,
        "raw_json": json.dumps(raw) if raw else None,
        "error_json": json.dumps(error) if error else None,
    }
    return Job(_Runtime(emulated), row, request)  # type: ignore[arg-type]


class Tags(HTMLParser):
    """Every start tag with its attributes, and the visible text."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def find(self, tag: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags if t == tag]

    @property
    def visible(self) -> str:
        return " ".join("".join(self.text).split())
