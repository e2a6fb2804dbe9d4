"""The normalized task: what every dialect's status payload becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["queued", "running", "succeeded", "failed", "cancelled", "expired"]
STATUSES: tuple[Status, ...] = ("queued", "running", "succeeded", "failed", "cancelled", "expired")
TERMINAL: frozenset[str] = frozenset({"succeeded", "failed", "cancelled", "expired"})


@dataclass(frozen=True)
class TaskError:
    """The provider's own code and message for a task that did not succeed."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class Usage:
    """Tokens billed (Ark counts video by tokens; gateways may report credits instead)."""

    completion_tokens: int | None = None
    total_tokens: int | None = None
    credits: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


@dataclass(frozen=True)
class TaskState:
    """One reading of a provider task, whatever the dialect."""

    task_id: str
    status: Status
    progress: float | None = None  # 0.0-1.0 when the provider tells
    video_url: str | None = None
    last_frame_url: str | None = None
    usage: Usage | None = None
    seed: int | None = None
    error: TaskError | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    created_at: float | None = None  # unix seconds, provider clock
    updated_at: float | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL
