"""Create and reconcile on their own: :class:`~seedance_nb.engine.creator.Creator` against a
scripted Ark (one dialect over ``httpx.MockTransport``), with no client, scheduler or poller.

Each test scripts what the provider answers to the create and to each read of its task
listing, then checks the one thing reconciling promises: a create whose answer was lost is
adopted as soon as its task shows, sent again only once the listing has proved (past the
sender's deadline) that nothing was made, and otherwise left "unknown", never sent twice.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import engine_support
import httpx
import pytest
from engine_support import BASE

from seedance_nb import errors
from seedance_nb.engine.creator import Creator
from seedance_nb.engine.job import Job, Phase
from seedance_nb.engine.settings import resolve
from seedance_nb.request import VideoRequest, build_request

TIMEOUT = 0.8  # the sender's timeout: how long an unanswered create stays in doubt
Answer = Callable[[httpx.Request], httpx.Response]


def task(task_id: str, request: VideoRequest, **over: Any) -> dict[str, Any]:
    """A listed Ark task as the provider shows it (made just now, with the request's output)."""
    item = {
        "id": task_id,
        "model": request.model_id,
        "status": "queued",
        "created_at": int(time.time()),
        "resolution": request.resolution,
        "ratio": request.ratio,
        "duration": request.duration,
        "seed": request.seed,
    }
    item.update(over)
    return item


class ScriptedArk:
    """Answers the create with ``create`` and the n-th listing read with ``listing(n)``;
    records when each arrived."""

    def __init__(self, create: Answer, listing: Callable[[int], Any]) -> None:
        self.create = create
        self.listing = listing
        self.creates: list[float] = []
        self.lists: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            self.creates.append(time.monotonic())
            return self.create(request)
        self.lists.append(time.monotonic())
        answer = self.listing(len(self.lists))
        if isinstance(answer, httpx.Response):
            return answer
        return httpx.Response(200, json={"items": answer, "total": len(answer)})


def created(task_id: str) -> Answer:
    return lambda _request: httpx.Response(200, json={"id": task_id})


def cut(request: httpx.Request) -> httpx.Response:
    """The create left, and its answer was lost on the way back."""
    raise httpx.ReadError("connection reset by peer", request=request)


class Rig(engine_support.Rig):
    """A Creator over the rig, and the jobs it hands on to be tracked."""

    def __init__(self, tmp_path: Path, ark: ScriptedArk, provider: str = "ark") -> None:
        super().__init__(tmp_path, ark, provider, request_timeout=TIMEOUT)
        self.tracked: list[Job] = []
        self.creator = Creator(self.state, self.leases, self.tracked.append)


def fox(seed: int = 7, prompt: str = "A red fox in the snow") -> VideoRequest:
    request, _ = build_request(
        resolve("ark", "sk-unit-test-key", BASE, None).provider,
        prompt,
        model="seedance-2.0-fast",
        duration=4,
        resolution="480p",
        ratio="16:9",
        seed=seed,
        warn=False,
    )
    return request


def run(rig: Rig, job: Job) -> float:
    """Submit ``job``'s create on a loop of its own; seconds it took."""

    async def submit() -> None:
        rig.state.loop = asyncio.get_running_loop()
        try:
            await rig.creator.submit(job)
        finally:
            await rig.aclose()

    started = time.monotonic()
    asyncio.run(submit())
    return time.monotonic() - started


def test_an_answered_create_is_adopted_without_reading_the_listing(tmp_path: Path) -> None:
    ark = ScriptedArk(created("cgt-1"), lambda n: [])
    rig = Rig(tmp_path, ark)
    job = rig.claim(fox())
    run(rig, job)
    assert (len(ark.creates), len(ark.lists)) == (1, 0)
    assert job.task_id == "cgt-1" and job.phase == Phase.TRACKING
    assert rig.tracked == [job] and rig.ledger.get(job.id)["task_id"] == "cgt-1"


def test_a_lost_answer_is_adopted_as_soon_as_the_listing_shows_the_task(
    tmp_path: Path,
) -> None:
    request = fox()
    # the task shows on the third read of the listing (it took the provider a moment)
    ark = ScriptedArk(cut, lambda n: [task("cgt-late", request)] if n >= 3 else [])
    rig = Rig(tmp_path, ark)
    job = rig.claim(request)
    seconds = run(rig, job)
    assert len(ark.creates) == 1 and len(ark.lists) == 3  # no resend, no read after it showed
    assert job.task_id == "cgt-late" and rig.tracked == [job]
    assert seconds < TIMEOUT  # adopted before the sender's deadline, not after it
    assert [step for _, step, _ in rig.state.recoveries] == ["create"]


def test_an_empty_listing_proves_nothing_until_the_senders_deadline(
    tmp_path: Path,
) -> None:
    request = fox()
    answers = iter([cut, created("cgt-second")])
    ark = ScriptedArk(lambda r: next(answers)(r), lambda n: [])
    rig = Rig(tmp_path, ark)
    job = rig.claim(request)
    run(rig, job)
    first, second = ark.creates
    # sent again only after the listing was read past the first send's deadline
    assert second - first >= TIMEOUT
    assert any(read - first >= TIMEOUT for read in ark.lists)
    assert job.task_id == "cgt-second" and job.phase == Phase.TRACKING


def test_a_5xx_answer_waits_a_short_grace_not_the_whole_timeout(tmp_path: Path) -> None:
    request = fox()
    answers = iter([lambda r: httpx.Response(503, json={"error": {"code": "Busy"}}), created("b")])
    ark = ScriptedArk(lambda r: next(answers)(r), lambda n: [])
    rig = Rig(tmp_path, ark)
    rig.state.request_timeout = 30.0  # a no-answer create would hold the resend for 30 s
    job = rig.claim(request)
    seconds = run(rig, job)
    assert len(ark.creates) == 2 and job.task_id == "b"
    assert seconds < 5.0  # the server answered: it is done with the request after ~1 s


def test_two_tasks_that_could_be_it_leave_the_job_unknown_and_unsent(
    tmp_path: Path,
) -> None:
    request = fox()
    twins = [task("cgt-a", request), task("cgt-b", request)]
    ark = ScriptedArk(cut, lambda n: twins)
    rig = Rig(tmp_path, ark)
    job = rig.claim(request)
    with pytest.raises(errors.UnknownOutcomeError, match="2 listed tasks could be it"):
        run(rig, job)
    assert len(ark.creates) == 1 and job.task_id is None
    assert job.phase == Phase.UNKNOWN and job.status == "unknown"
    assert rig.ledger.get(job.id)["status"] == "unknown"


def test_other_requests_tasks_are_not_taken(tmp_path: Path) -> None:
    request = fox(seed=7)
    others = [
        task("cgt-other-seed", request, seed=8),
        task("cgt-other-res", request, resolution="720p"),
    ]
    answers = iter([cut, created("cgt-ours")])
    ark = ScriptedArk(lambda r: next(answers)(r), lambda n: others)
    rig = Rig(tmp_path, ark)
    job = rig.claim(request)
    run(rig, job)
    assert job.task_id == "cgt-ours" and len(ark.creates) == 2


def test_a_task_a_sibling_may_own_waits_for_the_deadline(tmp_path: Path) -> None:
    """Two unanswered creates that a listing cannot tell apart: the task is not taken while
    the sibling's own answer may still come and claim it, only once the deadline has passed."""
    request = fox(prompt="A red fox in the snow")
    sibling_request = fox(prompt="A grey wolf in the snow")  # same output fields: same listing
    ark = ScriptedArk(cut, lambda n: [task("cgt-whose", request)])
    rig = Rig(tmp_path, ark)
    sibling = rig.claim(sibling_request)
    rig.ledger.update(sibling.id, create_sent_at=time.time())
    job = rig.claim(request)
    seconds = run(rig, job)
    assert seconds >= TIMEOUT * 0.9 and len(ark.lists) >= 3  # read, held, read again
    assert job.task_id == "cgt-whose" and len(ark.creates) == 1


def test_an_uncontested_task_is_taken_at_once(tmp_path: Path) -> None:
    """The same listing without the sibling: adopted on the first read."""
    request = fox(prompt="A red fox in the snow")
    ark = ScriptedArk(cut, lambda n: [task("cgt-whose", request)])
    rig = Rig(tmp_path, ark)
    job = rig.claim(request)
    seconds = run(rig, job)
    assert seconds < TIMEOUT / 2 and len(ark.lists) == 1 and job.task_id == "cgt-whose"


def test_an_unreadable_listing_leaves_the_job_unknown(tmp_path: Path) -> None:
    ark = ScriptedArk(cut, lambda n: httpx.Response(500, json={"error": {"code": "Oops"}}))
    rig = Rig(tmp_path, ark)
    job = rig.claim(fox())
    with pytest.raises(errors.UnknownOutcomeError, match="listing could not be read"):
        run(rig, job)
    assert len(ark.creates) == 1 and len(ark.lists) >= 2  # read until the deadline, then told
    assert job.phase == Phase.UNKNOWN


def test_without_a_listing_a_lost_answer_is_unknown_at_once(tmp_path: Path) -> None:
    def evolink(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("connection reset by peer", request=request)

    rig = Rig(tmp_path, ScriptedArk(evolink, lambda n: []), provider="evolink")
    request, _ = build_request(
        rig.state.provider, "A red fox", model="seedance-2.0-fast", duration=4, warn=False
    )
    job = rig.claim(request)
    with pytest.raises(errors.UnknownOutcomeError, match="no task listing"):
        run(rig, job)
    assert job.phase == Phase.UNKNOWN


def test_a_create_that_never_left_is_rejected_not_unknown(tmp_path: Path) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    ark = ScriptedArk(refused, lambda n: [])
    rig = Rig(tmp_path, ark)
    job = rig.claim(fox())
    with pytest.raises(errors.NotSentError):
        run(rig, job)
    assert ark.lists == [] and job.phase == Phase.REJECTED
    assert json.loads(rig.ledger.get(job.id)["error_json"])["code"] == "NotSent"


def test_a_rate_limited_create_is_sent_again_after_retry_after(tmp_path: Path) -> None:
    answers = iter(
        [lambda r: httpx.Response(429, headers={"Retry-After": "0.3"}, json={}), created("c")]
    )
    ark = ScriptedArk(lambda r: next(answers)(r), lambda n: [])
    rig = Rig(tmp_path, ark)
    job = rig.claim(fox())
    run(rig, job)
    first, second = ark.creates
    assert second - first >= 0.3 and ark.lists == [] and job.task_id == "c"


def test_the_wire_seed_is_drawn_and_kept_before_a_reconcilable_send(tmp_path: Path) -> None:
    """A random seed is fixed in the ledger before sending, so a listing can tell this task
    from a sibling's that differs only in prompt."""

    sent: list[dict[str, Any]] = []

    def create(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        return httpx.Response(200, json={"id": "cgt-s"})

    rig = Rig(tmp_path, ScriptedArk(create, lambda n: []))
    request, _ = build_request(
        rig.state.provider, "A fox", model="seedance-2.0-fast", duration=4, warn=False
    )
    assert request.seed is None
    job = rig.claim(request)
    run(rig, job)
    assert isinstance(job.row["seed"], int) and sent[0]["seed"] == job.row["seed"]
