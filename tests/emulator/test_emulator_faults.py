"""The emulator's fault plan over real sockets: every fault does what its name says, on cue."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from seedance_nb.emulator import Emulator, main
from seedance_nb.emulator.faults import FAULTS, Fault, FaultPlan

TASKS = "/contents/generations/tasks"
KEY = "sk-fault-test-secret-4242"
M10 = "seedance-1-0-pro-250528"  # 2 s clips: the cheapest real renders
SPEC = "create-drop@0.5*10,status-429@0.3;seed=7,retry-after=1"


def body(prompt: str = "a harbour at dawn", **kw: Any) -> dict[str, Any]:
    """One render spec for the whole module (seed fixed), so the MP4 renders once and is cached."""
    return {
        "model": M10,
        "content": [{"type": "text", "text": prompt}],
        "resolution": "480p",
        "duration": 2,
        "seed": 11,
        **kw,
    }


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(
        tmp_path_factory.mktemp("faults"), queued_seconds=0.2, running_seconds=0.3, faults=None
    ) as e:
        yield e


@pytest.fixture
def ark(emu: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(
        base_url=emu.base_url + "/api/v3", timeout=10, headers={"Authorization": f"Bearer {KEY}"}
    ) as c:
        yield c


@pytest.fixture
def faults(emu: Emulator) -> Iterator[Callable[[str], FaultPlan]]:
    """Switch the module's emulator to a plan for this test; off again afterwards."""

    def use(spec: str) -> FaultPlan:
        emu.set_faults(spec)
        assert emu.faults is not None
        return emu.faults

    yield use
    emu.set_faults(None)


def creates(emu: Emulator) -> int:
    return emu.stats()["tasks_created"]


def create(ark: httpx.Client, **kw: Any) -> str:
    r = ark.post(TASKS, json=body(**kw))
    assert r.status_code == 200, r.text
    return r.json()["id"]


def wait(ark: httpx.Client, task_id: str, timeout: float = 20.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = ark.get(f"{TASKS}/{task_id}").json()
        if task["status"] not in ("queued", "running"):
            return task
        time.sleep(0.05)
    raise AssertionError(f"task {task_id} did not finish")


@pytest.fixture(scope="module")
def finished(emu: Emulator) -> str:
    """A succeeded task whose MP4 the download tests fetch (fresh signed URL per read)."""
    with httpx.Client(
        base_url=emu.base_url + "/api/v3", timeout=10, headers={"Authorization": f"Bearer {KEY}"}
    ) as c:
        task = wait(c, create(c))
    assert task["status"] == "succeeded"
    return task["id"]


def video_url(ark: httpx.Client, task_id: str) -> str:
    return ark.get(f"{TASKS}/{task_id}").json()["content"]["video_url"]


# ----------------------------------------------------------------------------- the plan itself


def test_fault_names_are_the_documented_set() -> None:
    assert set(FAULTS) == {
        "create-5xx",
        "create-429",
        "create-drop",
        "create-timeout",
        "create-stall",
        "status-429",
        "status-5xx",
        "status-garbage",
        "status-partial",
        "status-reset",
        "status-huge",
        "download-cut",
        "download-trickle",
        "download-expired",
        "download-redirect-file",
        "callback-drop",
        "callback-duplicate",
        "callback-reorder",
        "task-expired",
        "task-moderated",
    }
    assert all(isinstance(v, str) and v for v in FAULTS.values())


def test_parse_round_trips_and_matches_the_mapping_form() -> None:
    plan = FaultPlan.parse(SPEC)
    assert plan.faults == (Fault("create-drop", 0.5, 10), Fault("status-429", 0.3))
    assert (plan.seed, plan.retry_after, plan.stall, plan.burst, plan.trickle) == (
        7,
        1,
        5,
        3,
        262144,
    )
    assert FaultPlan.parse(str(plan)) == plan and str(FaultPlan.parse(str(plan))) == str(plan)
    assert FaultPlan({"create-drop": 0.5, "status-429": 0.3}, seed=7) == FaultPlan.parse(
        "create-drop@0.5,status-429@0.3;seed=7"
    )
    odd = FaultPlan.parse(" status-5xx*2 , download-trickle ; burst=4, trickle=1000, stall=0.25 ")
    assert str(odd) == "status-5xx*2,download-trickle;seed=0,stall=0.25,burst=4,trickle=1000"
    assert FaultPlan.parse(str(odd)) == odd
    assert plan.counts() == {"create-drop": 0, "status-429": 0}


@pytest.mark.parametrize(
    ("spec", "names"),
    [
        ("create-dorp", ["'create-dorp'", "create-drop", "task-moderated"]),
        ("create-drop@1.5", ["'create-drop@1.5'", "0..1"]),
        ("create-drop@x", ["'create-drop@x'"]),
        ("create-drop*-1", ["'create-drop*-1'"]),
        ("create-drop*2.5", ["'create-drop*2.5'"]),
        ("create-drop;speed=2", ["'speed'", "retry-after", "trickle"]),
        ("create-drop;seed=abc", ["'seed=abc'"]),
        ("create-drop;seed=1.5", ["seed=1.5"]),
        ("create-drop;burst=0", ["burst=0"]),
        ("create-drop;stall", ["'stall'", "key=value"]),
        ("create-drop,create-drop", ["twice"]),
    ],
)
def test_bad_specs_name_the_bad_item(spec: str, names: list[str]) -> None:
    with pytest.raises(ValueError) as info:
        FaultPlan.parse(spec)
    for name in names:
        assert name in str(info.value)


def test_seeded_rates_are_deterministic_and_counts_cap() -> None:
    def sequence(spec: str, n: int = 200) -> list[str | None]:
        plan = FaultPlan.parse(spec)
        return [plan.draw("create") for _ in range(n)]

    first = sequence("create-drop@0.3,create-5xx@0.3;seed=5")
    assert first == sequence("create-drop@0.3,create-5xx@0.3;seed=5")
    assert first != sequence("create-drop@0.3,create-5xx@0.3;seed=6")
    assert 0.15 < first.count("create-drop") / len(first) < 0.45
    capped = FaultPlan.parse("create-drop*3,status-429@0")
    assert [capped.draw("create") for _ in range(6)] == ["create-drop"] * 3 + [None] * 3
    assert [capped.draw("status") for _ in range(5)] == [None] * 5
    assert capped.counts() == {"create-drop": 3, "status-429": 0}


# ----------------------------------------------------------------------------- create faults


def test_create_5xx_and_429_refuse_before_the_task_exists(
    emu: Emulator, ark: httpx.Client, faults: Callable[[str], FaultPlan]
) -> None:
    before = creates(emu)
    plan = faults("create-5xx*1,create-429*1;retry-after=2")
    r500, r429 = ark.post(TASKS, json=body()), ark.post(TASKS, json=body())
    assert r500.status_code == 500 and r500.json()["error"]["code"] == "InternalServiceError"
    assert r429.status_code == 429 and r429.headers["Retry-After"] == "2"
    assert r429.json()["error"]["code"] == "RateLimitExceeded.EndpointRPMExceeded"
    assert creates(emu) == before
    assert plan.counts() == {"create-5xx": 1, "create-429": 1} == emu.stats()["faults"]
    assert ark.post(TASKS, json=body()).status_code == 200  # both counts used up
    assert creates(emu) == before + 1


def test_create_drop_makes_the_task_but_sends_nothing(
    emu: Emulator, ark: httpx.Client, faults: Callable[[str], FaultPlan]
) -> None:
    before, known = creates(emu), {t.id for t in emu.service.tasks()}
    faults("create-drop")
    with pytest.raises(httpx.RemoteProtocolError):
        ark.post(TASKS, json=body("dropped answer"))
    assert creates(emu) == before + 1
    new = [t for t in emu.service.tasks() if t.id not in known]
    assert len(new) == 1 and new[0].dialect == "ark"
    assert emu.stats()["faults"] == {"create-drop": 1}


def test_create_timeout_withholds_then_hangs_up(
    emu: Emulator, ark: httpx.Client, faults: Callable[[str], FaultPlan]
) -> None:
    before = creates(emu)
    faults("create-timeout;stall=0.6")
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        ark.post(TASKS, json=body())
    assert time.monotonic() - started >= 0.55
    assert creates(emu) == before + 1
    with pytest.raises(httpx.ReadTimeout):  # a client with a shorter timeout just times out
        ark.post(TASKS, json=body(), timeout=0.2)
    time.sleep(0.1)
    assert creates(emu) == before + 2  # the task was made before the answer was withheld


def test_create_stall_holds_before_handling(
    emu: Emulator, ark: httpx.Client, faults: Callable[[str], FaultPlan]
) -> None:
    before = creates(emu)
    faults("create-stall*1;stall=0.8")
    answer: list[httpx.Response] = []
    poster = threading.Thread(target=lambda: answer.append(ark.post(TASKS, json=body())))
    poster.start()
    time.sleep(0.4)
    assert creates(emu) == before  # still held: nothing stored yet
    poster.join(10)
    assert answer and answer[0].status_code == 200
    assert creates(emu) == before + 1


# ----------------------------------------------------------------------------- status faults


def _is_429(r: httpx.Response) -> None:
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"


def _is_garbage(r: httpx.Response) -> None:
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    with pytest.raises(ValueError):
        r.json()


def _is_partial(r: httpx.Response) -> None:
    assert r.status_code == 200 and "status" not in r.json() and "id" not in r.json()


def _is_huge(r: httpx.Response) -> None:
    assert r.status_code == 200 and len(r.content) >= 16 * 1024 * 1024
    assert int(r.headers["content-length"]) == len(r.content)


@pytest.mark.parametrize(
    ("name", "check"),
    [
        ("status-429", _is_429),
        ("status-garbage", _is_garbage),
        ("status-partial", _is_partial),
        ("status-huge", _is_huge),
    ],
)
def test_status_faults_answer_as_named(
    emu: Emulator,
    ark: httpx.Client,
    finished: str,
    faults: Callable[[str], FaultPlan],
    name: str,
    check: Callable[[httpx.Response], None],
) -> None:
    plan = faults(f"{name}*1")
    check(ark.get(f"{TASKS}/{finished}"))
    assert plan.counts() == {name: 1}
    assert ark.get(f"{TASKS}/{finished}").json()["status"] == "succeeded"


def test_status_reset_closes_without_a_response(
    ark: httpx.Client, finished: str, faults: Callable[[str], FaultPlan]
) -> None:
    faults("status-reset*1")
    with pytest.raises(httpx.RemoteProtocolError):
        ark.get(f"{TASKS}/{finished}")
    assert ark.get(f"{TASKS}/{finished}").status_code == 200


def test_status_5xx_fails_a_burst_of_reads(
    ark: httpx.Client, finished: str, faults: Callable[[str], FaultPlan]
) -> None:
    plan = faults("status-5xx*1;burst=3")
    codes = [ark.get(f"{TASKS}/{finished}").status_code for _ in range(3)]
    codes.append(ark.get(TASKS).status_code)  # Ark's list is a status read too
    codes.append(ark.get(f"{TASKS}/{finished}").status_code)
    assert codes == [503, 503, 503, 200, 200]
    assert plan.counts() == {"status-5xx": 1}  # one firing, three failed reads


def test_only_dialect_requests_are_eligible(
    emu: Emulator, ark: httpx.Client, finished: str, faults: Callable[[str], FaultPlan]
) -> None:
    faults("status-429,create-5xx")
    assert httpx.get(emu.base_url + "/emulator/health").status_code == 200
    assert httpx.get(emu.base_url + "/emulator/stats").status_code == 200
    upload = httpx.post(
        emu.base_url + "/emulator/assets",
        content=b"x" * 10,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert upload.status_code == 200
    health = httpx.get(emu.base_url + "/emulator/health").json()
    assert (
        health["fault_plan"] == "status-429,create-5xx;seed=0" and "status-huge" in health["faults"]
    )
    assert ark.get(f"{TASKS}/{finished}").status_code == 429
    gateway = httpx.get(
        emu.base_url + "/orcarouter/v1/video/generations/nope",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert gateway.status_code == 429
    cancel = httpx.post(
        emu.base_url + "/seedance2ink/api/open/v1/video/generations/nope/cancel",
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert cancel.status_code != 500  # a cancel is not a create
    assert ark.delete(f"{TASKS}/nope").status_code == 404  # nor is a DELETE
    assert emu.faults is not None and emu.faults.counts()["create-5xx"] == 0


# ----------------------------------------------------------------------------- download faults


def test_download_cut_then_range_resume_is_byte_identical(
    ark: httpx.Client, finished: str, faults: Callable[[str], FaultPlan]
) -> None:
    whole = httpx.get(video_url(ark, finished)).content
    faults("download-cut*1")
    url = video_url(ark, finished)
    got = bytearray()
    with pytest.raises(httpx.RemoteProtocolError), httpx.stream("GET", url) as r:
        assert r.status_code == 200 and int(r.headers["content-length"]) == len(whole)
        for chunk in r.iter_raw():
            got += chunk
    assert 0 < len(got) < len(whole)
    rest = httpx.get(url, headers={"Range": f"bytes={len(got)}-"})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes {len(got)}-{len(whole) - 1}/{len(whole)}"
    assert bytes(got) + rest.content == whole


def test_download_cut_also_cuts_a_range(
    ark: httpx.Client, finished: str, faults: Callable[[str], FaultPlan]
) -> None:
    faults("download-cut*1")
    got = bytearray()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", video_url(ark, finished), headers={"Range": "bytes=1000-"}) as r,
    ):
        assert r.status_code == 206
        wanted = int(r.headers["content-length"])
        for chunk in r.iter_raw():
            got += chunk
    assert len(got) < wanted


def test_download_trickle_is_slow_but_complete(
    ark: httpx.Client, finished: str, faults: Callable[[str], FaultPlan]
) -> None:
    normal = float("inf")  # the quickest of three plain downloads: a busy machine slows some
    for _ in range(3):
        started = time.monotonic()
        whole = httpx.get(video_url(ark, finished)).content
        normal = min(normal, time.monotonic() - started)
    rate = len(whole) * 2  # half a second of trickle
    faults(f"download-trickle;trickle={rate}")
    started = time.monotonic()
    slow = httpx.get(video_url(ark, finished)).content
    trickled = time.monotonic() - started
    assert slow == whole
    assert trickled >= 0.45 and trickled > 3 * normal


def test_download_expired_then_a_fresh_url_works(
    ark: httpx.Client, finished: str, faults: Callable[[str], FaultPlan]
) -> None:
    faults("download-expired*1")
    r = httpx.get(video_url(ark, finished))
    assert r.status_code == 403
    assert r.json()["error"] == {"code": "AccessDenied", "message": "Request has expired."}
    assert httpx.get(video_url(ark, finished)).status_code == 200


def test_download_redirect_to_a_file_url(
    ark: httpx.Client, finished: str, faults: Callable[[str], FaultPlan]
) -> None:
    plan = faults("download-redirect-file")
    url = video_url(ark, finished)
    assert httpx.head(url).status_code == 200  # only a GET is a download
    r = httpx.get(url)
    assert r.status_code == 302 and r.headers["location"].startswith("file:")
    assert plan.counts() == {"download-redirect-file": 1}


# ----------------------------------------------------------------------------- callbacks


def callbacks_for(emu: Emulator, ark: httpx.Client, url: str) -> str:
    """Create a task with a callback and wait until its terminal callback was handled."""
    task_id = create(ark, callback_url=url)
    assert wait(ark, task_id)["status"] == "succeeded"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        task = emu.service.get(task_id)
        if task is not None and task.fields.get("notified") == "succeeded":
            return task_id
        time.sleep(0.05)
    raise AssertionError("the terminal callback was never handled")


def test_callback_drop_sends_nothing(
    emu: Emulator,
    ark: httpx.Client,
    hook: tuple[str, list[dict[str, Any]]],
    faults: Callable[[str], FaultPlan],
) -> None:
    url, received = hook
    dropped = emu.stats()["callbacks"].get("dropped by fault", 0)
    plan = faults("callback-drop")
    callbacks_for(emu, ark, url)
    time.sleep(0.2)
    assert received == []
    fired = plan.counts()["callback-drop"]
    assert fired >= 1 and emu.stats()["callbacks"]["dropped by fault"] == dropped + fired


def test_callback_duplicate_sends_each_twice(
    emu: Emulator,
    ark: httpx.Client,
    hook: tuple[str, list[dict[str, Any]]],
    faults: Callable[[str], FaultPlan],
) -> None:
    url, received = hook
    faults("callback-duplicate")
    task_id = callbacks_for(emu, ark, url)
    statuses = [r["status"] for r in received]
    assert statuses[-2:] == ["succeeded", "succeeded"] and len(statuses) % 2 == 0
    assert statuses[::2] == statuses[1::2] and {r["id"] for r in received} == {task_id}


def test_callback_reorder_sends_a_stale_running_after_the_terminal(
    emu: Emulator,
    ark: httpx.Client,
    hook: tuple[str, list[dict[str, Any]]],
    faults: Callable[[str], FaultPlan],
) -> None:
    url, received = hook
    plan = faults("callback-reorder")
    task_id = callbacks_for(emu, ark, url)
    time.sleep(0.2)
    statuses = [r["status"] for r in received]
    assert statuses[-2:] == ["succeeded", "running"]
    assert statuses.count("succeeded") == 1 and "content" not in received[-1]
    assert received[-1]["id"] == task_id and plan.counts() == {"callback-reorder": 1}


# ----------------------------------------------------------------------------- task outcomes


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("task-expired", "expired", "TaskExpired"),
        ("task-moderated", "failed", "OutputVideoSensitiveContentDetected"),
    ],
)
def test_task_faults_decide_the_outcome(
    ark: httpx.Client, faults: Callable[[str], FaultPlan], name: str, status: str, code: str
) -> None:
    plan = faults(f"{name}*1")
    task = wait(ark, create(ark, prompt=f"decided by {name}"))
    assert task["status"] == status and task["error"]["code"] == code
    assert plan.counts() == {name: 1}
    assert wait(ark, create(ark))["status"] == "succeeded"  # count used up


def test_a_prompt_trigger_wins_over_a_task_fault(
    ark: httpx.Client, faults: Callable[[str], FaultPlan]
) -> None:
    plan = faults("task-expired")
    task = wait(ark, create(ark, prompt="[[fail]] a storm"))
    assert task["status"] == "failed" and task["error"]["code"] == "InternalServiceError"
    assert plan.counts() == {"task-expired": 0}


# ----------------------------------------------------------------------------- switching


def test_set_faults_switches_at_runtime(emu: Emulator, ark: httpx.Client, finished: str) -> None:
    emu.set_faults(FaultPlan({"status-429": 1.0}))
    try:
        assert ark.get(f"{TASKS}/{finished}").status_code == 429
        assert emu.stats()["faults"] == {"status-429": 1}
        emu.set_faults("status-partial")
        assert ark.get(f"{TASKS}/{finished}").json() == {}
        assert emu.stats()["faults"] == {"status-partial": 1}
    finally:
        emu.set_faults(None)
    assert emu.faults is None and emu.stats()["faults"] == {}
    assert ark.get(f"{TASKS}/{finished}").json()["status"] == "succeeded"


def test_seeded_plan_fires_the_same_sequence_over_http(
    emu: Emulator, ark: httpx.Client, faults: Callable[[str], FaultPlan]
) -> None:
    def run() -> list[int]:
        faults("status-429@0.5;seed=3")
        return [ark.get(TASKS, params={"page_size": 1}).status_code for _ in range(16)]

    first = run()
    assert first == run() and {200, 429} == set(first)


def test_env_var_is_read_unless_faults_are_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDANCE_EMULATOR_FAULTS", "status-429;retry-after=3")
    with Emulator(tmp_path / "env") as e:
        assert e.faults == FaultPlan.parse("status-429;retry-after=3")
        r = httpx.get(e.base_url + "/api/v3" + TASKS, headers={"Authorization": "Bearer k"})
        assert r.status_code == 429 and r.headers["Retry-After"] == "3"
    assert Emulator(tmp_path / "off", faults=None).faults is None
    assert Emulator(tmp_path / "own", faults="create-drop").faults == FaultPlan.parse("create-drop")
    monkeypatch.setenv("SEEDANCE_EMULATOR_FAULTS", "status-42")
    with pytest.raises(ValueError, match="status-42"):
        Emulator(tmp_path / "bad")


def test_cli_takes_a_fault_plan(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--faults", "create-drop@7", "--state-dir", str(tmp_path)])
    assert "create-drop@7" in capsys.readouterr().err
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("SEEDANCE_EMULATOR_FAULTS", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seedance_nb.emulator",
            "--port",
            "0",
            "--state-dir",
            str(tmp_path),
            "--faults",
            "status-reset*2",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().split()[3]
        proc.stdout.readline()
        assert proc.stdout.readline().strip() == "faults: status-reset*2;seed=0"
        health = httpx.get(url + "/emulator/health", timeout=10).json()
        assert health["fault_plan"] == "status-reset*2;seed=0" and health["faults"] == FAULTS
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_hang_ups_are_quiet_and_never_log_the_key(
    ark: httpx.Client,
    finished: str,
    faults: Callable[[str], FaultPlan],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG, logger="seedance_nb.emulator")
    faults("status-reset*1,create-drop*1,download-cut*1")
    with pytest.raises(httpx.RemoteProtocolError):
        ark.get(f"{TASKS}/{finished}")
    with pytest.raises(httpx.RemoteProtocolError):
        ark.post(TASKS, json=body())
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(video_url(ark, finished))
    time.sleep(0.1)
    assert "hung up (fault status-reset)" in caplog.text
    assert KEY not in caplog.text
    err = capfd.readouterr().err
    assert "Traceback" not in err and KEY not in err
