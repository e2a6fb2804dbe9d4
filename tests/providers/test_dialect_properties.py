"""Property tests: whatever a provider sends, a parser returns a task or a SeedanceError.

Bodies are drawn both from arbitrary JSON and from the documented shapes with hostile values
in each field (huge integers, NaN, wrong types, file: URLs, ids with slashes), so the parsers
are exercised past their first ``expect_dict``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedance_nb import errors
from seedance_nb.catalog import PROVIDERS
from seedance_nb.providers import dialect_for
from seedance_nb.providers.base import Dialect
from seedance_nb.providers.task import STATUSES, TaskState

DIALECTS = ("ark", "volcengine", "orcarouter", "cometapi", "evolink", "seedance2ink")

EDGE_NUMBERS = st.sampled_from([10**400, -(10**400), math.nan, math.inf, -math.inf, 2**63, -1])
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | EDGE_NUMBERS
)
JSON = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
IDS = st.sampled_from(["t1", "task_abc123", "req_1", "../x", "a/b", "", "x" * 300, "a b"]) | LEAVES
URLS = (
    st.sampled_from(
        [
            "https://cdn.example.com/v.mp4",
            "http://h/v.mp4",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "",
            "ftp://h/v",
        ]
    )
    | LEAVES
)
PROGRESS = st.sampled_from(["50%", "100%", "abc%", "%", "1e999%", "nan"]) | LEAVES
NUMBERS = EDGE_NUMBERS | LEAVES


def statuses(*names: str) -> st.SearchStrategy[Any]:
    return st.sampled_from([*names, "bogus", "", "SUCCESS", "completed"]) | LEAVES


def shaped(fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """A dict with any subset of the documented keys, each holding a plausible or hostile value."""
    return st.fixed_dictionaries({}, optional={k: v | JSON for k, v in fields.items()})


ERROR_OBJ = shaped(
    {"code": st.text(max_size=20), "message": st.text(max_size=20), "type": st.text(max_size=10)}
)

ARK_TASK = shaped(
    {
        "id": IDS,
        "model": LEAVES,
        "status": statuses("queued", "running", "succeeded", "failed", "cancelled", "expired"),
        "content": shaped({"video_url": URLS, "last_frame_url": URLS}),
        "usage": shaped({"completion_tokens": NUMBERS, "total_tokens": NUMBERS}),
        "created_at": NUMBERS,
        "updated_at": NUMBERS,
        "seed": NUMBERS,
        "resolution": LEAVES,
        "ratio": LEAVES,
        "duration": NUMBERS,
        "error": ERROR_OBJ | LEAVES,
    }
)
ARK = ARK_TASK | shaped({"items": st.lists(ARK_TASK | JSON, max_size=4), "total": NUMBERS})

SHAPES: dict[str, st.SearchStrategy[Any]] = {
    "ark": ARK,
    "volcengine": ARK,
    "orcarouter": shaped(
        {
            "code": st.sampled_from(["success", "task_not_exist", "error"]),
            "message": st.text(max_size=10),
            "data": shaped(
                {
                    "task_id": IDS,
                    "status": statuses("NOT_START", "SUBMITTED", "IN_PROGRESS", "FAILURE"),
                    "progress": PROGRESS,
                    "result_url": URLS,
                    "submit_time": NUMBERS,
                    "start_time": NUMBERS,
                    "finish_time": NUMBERS,
                    "fail_reason": LEAVES,
                    "last_frame_url": URLS,
                    "usage": shaped({"completion_tokens": NUMBERS, "total_tokens": NUMBERS}),
                }
            ),
            "id": IDS,
            "task_id": IDS,
            "status": statuses("queued"),
            "progress": PROGRESS,
            "created_at": NUMBERS,
        }
    ),
    "cometapi": shaped(
        {
            "id": IDS,
            "task_id": IDS,
            "status": statuses("SUBMITTED", "IN_PROGRESS", "FAILED", "ERROR"),
            "progress": PROGRESS,
            "created_at": NUMBERS,
            "completed_at": NUMBERS,
            "video_url": URLS,
            "error": ERROR_OBJ | LEAVES,
            "fail_reason": LEAVES,
        }
    ),
    "evolink": shaped(
        {
            "id": IDS,
            "status": statuses("pending", "processing", "failed"),
            "progress": PROGRESS,
            "results": st.lists(URLS, max_size=3),
            "created": NUMBERS,
            "usage": shaped({"credits_reserved": NUMBERS, "credits_used": NUMBERS}),
            "error": ERROR_OBJ | LEAVES,
            "task_info": JSON,
        }
    ),
    "seedance2ink": shaped(
        {
            "success": st.booleans(),
            "requestId": IDS,
            "status": statuses("queued", "processing", "succeeded", "failed", "cancelled"),
            "output": shaped({"type": st.just("video"), "url": URLS}),
            "error": ERROR_OBJ | LEAVES,
            "creditsCharged": NUMBERS,
            "progress": PROGRESS,
            "createdAt": NUMBERS,
        }
    ),
}

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def dialect(name: str) -> Dialect:
    return dialect_for(PROVIDERS[name])


def check_state(state: TaskState) -> None:
    """What every consumer may rely on once a parser has returned."""
    assert isinstance(state, TaskState)
    assert state.status in STATUSES
    assert isinstance(state.task_id, str) and "/" not in state.task_id and state.task_id
    assert state.progress is None or 0.0 <= state.progress <= 1.0
    for url in (state.video_url, state.last_frame_url):
        assert url is None or url.lower().startswith(("http://", "https://"))
    for stamp in (state.created_at, state.updated_at):
        assert stamp is None or math.isfinite(stamp)
    assert isinstance(state.raw, dict)


def outcome(parse: Callable[[], TaskState | None]) -> None:
    try:
        state = parse()
    except errors.SeedanceError:
        return
    if state is not None:
        check_state(state)


@pytest.mark.parametrize("name", DIALECTS)
@PROPERTY
@given(data=st.data())
def test_parsers_return_a_task_or_a_seedance_error(name: str, data: st.DataObject) -> None:
    body = data.draw(SHAPES[name] | JSON, label="body")
    d = dialect(name)
    outcome(lambda: d.parse_created(body))
    outcome(lambda: d.parse_task(body))
    outcome(lambda: d.parse_callback(body))
    outcome(lambda: d.parse_cancel("req_1", body))
    if d.batch_size:  # the batched status read and the reconcile listing
        try:
            for state in d.parse_list(body):
                check_state(state)
            tasks, _more = d.parse_reconcile(body)
            for state in tasks:
                check_state(state)
        except errors.SeedanceError:
            pass


@pytest.mark.parametrize("name", DIALECTS)
@PROPERTY
@given(
    status=st.integers(min_value=100, max_value=599),
    body=JSON
    | shaped(
        {"error": ERROR_OBJ | LEAVES, "code": LEAVES, "message": LEAVES, "success": st.booleans()}
    ),
    retry_after=st.none() | st.text(max_size=12) | st.sampled_from(["3", "1e999", "nan", "-4"]),
)
def test_parse_error_always_returns_an_api_error(
    name: str, status: int, body: Any, retry_after: str | None
) -> None:
    headers = {} if retry_after is None else {"retry-after": retry_after}
    err = dialect(name).parse_error(status, body, headers)
    assert isinstance(err, errors.APIError)
    assert err.status_code == status
    assert err.provider == name
    str(err)  # the message renders
