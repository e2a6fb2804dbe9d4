"""``[Image N]`` / ``[Video N]`` / ``[Audio N]``: parsing and lint."""

from __future__ import annotations

import pytest

from seedance_nb.request.prompt import lint_references, normalize_prompt, parse_references


def test_parse_finds_every_reference_in_order() -> None:
    prompt = "Start on [Image 1], cut to [video 2] with [ AUDIO 1 ] and [Image 10]."
    refs = parse_references(prompt)
    assert [(r.kind, r.index) for r in refs] == [
        ("image", 1),
        ("video", 2),
        ("audio", 1),
        ("image", 10),
    ]
    assert [r.label for r in refs] == ["[Image 1]", "[Video 2]", "[Audio 1]", "[Image 10]"]
    assert all(prompt[r.start : r.end] == r.text for r in refs)
    assert refs[2].text == "[ AUDIO 1 ]"


@pytest.mark.parametrize(
    "text",
    [
        "Image 1",
        "[Image]",
        "[Picture 1]",
        "[Image one]",
        "(Image 1)",
        "[[Image 1",
        "no refs at all",
    ],
)
def test_parse_ignores_lookalikes(text: str) -> None:
    assert parse_references(text) == []


def test_lint_clean_prompt_has_no_issues() -> None:
    counts = {"image": 2, "video": 1, "audio": 1}
    assert lint_references("[Image 1] [Image 2] [Video 1] [Audio 1]", counts) == []


def test_lint_reference_to_missing_media_is_an_error() -> None:
    issues = lint_references(
        "[Image 3] and [Video 1]", {"image": 2, "video": 0, "audio": 0}, require_named=False
    )
    assert [(i.severity, i.kind, i.index) for i in issues] == [
        ("error", "image", 3),
        ("error", "video", 1),
    ]
    assert (
        issues[0].message == "[Image 3] points at nothing: 2 images attached ([Image 1], [Image 2])"
    )
    assert issues[1].message == "[Video 1] points at nothing: 0 videos attached"


def test_lint_one_attached_uses_singular() -> None:
    (issue,) = lint_references("[Audio 2]", {"audio": 1}, require_named=False)
    assert issue.message == "[Audio 2] points at nothing: 1 audio attached ([Audio 1])"


def test_lint_index_zero() -> None:
    (issue,) = lint_references("[Image 0]", {"image": 1}, require_named=False)
    assert issue.severity == "error" and "count from 1" in issue.message


def test_lint_unnamed_media_is_only_a_warning() -> None:
    issues = lint_references("[Image 2] only", {"image": 2, "video": 1, "audio": 0})
    assert [(i.severity, i.kind, i.index) for i in issues] == [
        ("warning", "image", 1),
        ("warning", "video", 1),
    ]
    assert issues[0].message == "[Image 1] is attached but the prompt never names it"
    assert lint_references("[Image 2] only", {"image": 2}, require_named=False) == []


def test_lint_repeated_reference_counts_once() -> None:
    assert lint_references("[Image 1] then again [image 1]", {"image": 1}) == []


def test_normalize_prompt() -> None:
    assert normalize_prompt("  a\r\nb\rc\n\n ") == "a\nb\nc"
    assert normalize_prompt("\t\n") == ""
    assert normalize_prompt("inner  spaces stay") == "inner  spaces stay"
