"""``[Image N]`` / ``[Video N]`` / ``[Audio N]`` references in prompts: parse and lint.

Seedance numbers references 1-based, per kind, in the order of the request's content array.
A reference that points at nothing is an error (the model would silently ignore it and you
would pay for a video that misses the point); attached media the prompt never names is only
a warning, because the model still sees it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

REFERENCE_PATTERN = re.compile(r"\[\s*(image|video|audio)\s*(\d+)\s*\]", re.IGNORECASE)
KIND_LABEL = {"image": "Image", "video": "Video", "audio": "Audio"}


@dataclass(frozen=True)
class PromptReference:
    kind: Literal["image", "video", "audio"]
    index: int  # 1-based, as written
    start: int
    end: int
    text: str

    @property
    def label(self) -> str:
        return f"[{KIND_LABEL[self.kind]} {self.index}]"


@dataclass(frozen=True)
class LintIssue:
    severity: Literal["error", "warning"]
    kind: str
    index: int | None
    message: str


def parse_references(prompt: str) -> list[PromptReference]:
    """Every reference in the prompt, in order of appearance."""
    return [
        PromptReference(
            kind=m.group(1).lower(),  # type: ignore[arg-type]
            index=int(m.group(2)),
            start=m.start(),
            end=m.end(),
            text=m.group(0),
        )
        for m in REFERENCE_PATTERN.finditer(prompt)
    ]


def lint_references(
    prompt: str, counts: dict[str, int], *, require_named: bool = True
) -> list[LintIssue]:
    """Check references against how many media of each kind are attached.

    ``counts`` maps kind to attached count. Errors: a reference to a missing item or to
    index 0. Warnings (when ``require_named``): attached media never named in the prompt.
    """
    issues: list[LintIssue] = []
    named: dict[str, set[int]] = {"image": set(), "video": set(), "audio": set()}
    for ref in parse_references(prompt):
        have = counts.get(ref.kind, 0)
        named[ref.kind].add(ref.index)
        if ref.index < 1:
            issues.append(
                LintIssue(
                    "error",
                    ref.kind,
                    ref.index,
                    f"{ref.text} is out of range: references count from 1",
                )
            )
        elif ref.index > have:
            attached = f"{have} {ref.kind}{'s' if have != 1 else ''} attached"
            issues.append(
                LintIssue(
                    "error",
                    ref.kind,
                    ref.index,
                    f"{ref.text} points at nothing: {attached}"
                    + (f" ({_labels(ref.kind, have)})" if have else ""),
                )
            )
    if require_named:
        for kind, have in counts.items():
            for i in range(1, have + 1):
                if i not in named.get(kind, set()):
                    issues.append(
                        LintIssue(
                            "warning",
                            kind,
                            i,
                            f"[{KIND_LABEL[kind]} {i}] is attached but the prompt never names it",
                        )
                    )
    return issues


def _labels(kind: str, count: int) -> str:
    return ", ".join(f"[{KIND_LABEL[kind]} {i}]" for i in range(1, count + 1))


def normalize_prompt(prompt: str) -> str:
    """The prompt as it is sent and hashed: newlines unified, outer whitespace trimmed."""
    return prompt.replace("\r\n", "\n").replace("\r", "\n").strip()
