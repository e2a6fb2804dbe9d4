"""The form and the task view's buttons, driven the way ipykernel 7 drives widget callbacks.

In JupyterLab 4.6 a widget's comm message may be handled on a kernel *subshell*: another
thread with its own running event loop. :class:`LoopThread` plays both parts here, the
kernel's main loop (where cells run and the form's client lives) and a subshell's loop (where
the button's click handler runs), so the tests reproduce the real condition without a browser.
"""

from __future__ import annotations

import asyncio
import datetime
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from seedance_nb.emulator import Emulator
from seedance_nb.jupyter import runner
from seedance_nb.jupyter.form import Form, form
from seedance_nb.request import schema as P

T = TypeVar("T")


class LoopThread:
    """An event loop running forever in a daemon thread (a kernel's main loop or a subshell's)."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def call(self, fn: Callable[[], T], timeout: float = 30) -> T:
        """Run ``fn()`` inside a coroutine on this loop (as ipykernel runs a comm handler)."""

        async def go() -> T:
            return fn()

        return asyncio.run_coroutine_threadsafe(go(), self.loop).result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def slow_queue_emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Jobs stay queued long enough to click Cancel, and ``[[slow]]`` ones run for 3 s."""
    emu = Emulator(
        state_dir=tmp_path_factory.mktemp("emulator"), queued_seconds=1.5, running_seconds=0.6
    ).start()
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture()
def kernel(
    slow_queue_emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[LoopThread]:
    """The kernel's main loop, in a thread; the form's client lives on it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", slow_queue_emulator.base_url)
    main = LoopThread("kernel-main")
    try:
        yield main
    finally:
        for client in list(runner._clients.values()):
            if client.loop is main.loop:
                asyncio.run_coroutine_threadsafe(client.aclose(), main.loop).result(10)
        runner._clients.clear()
        main.stop()


@pytest.fixture()
def subshell() -> Iterator[LoopThread]:
    """Another thread with its own running loop, where ipykernel 7 may run a widget callback."""
    sub = LoopThread("subshell")
    try:
        yield sub
    finally:
        sub.stop()


def wait_until(check: Callable[[], bool], timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(0.02)


def new_form(kernel: LoopThread, **kwargs: Any) -> Form:
    f = kernel.call(lambda: form(model="seedance-2.0-fast", **kwargs))
    f.resolution.value, f.duration.value = "480p", 4
    return f


# ---------------------------------------------------------------------------- defect 1


@pytest.mark.parametrize("bound", [False, True], ids=["fresh-client", "client-in-use"])
def test_submit_clicked_on_a_subshell_runs_on_the_clients_loop(
    kernel: LoopThread, subshell: LoopThread, bound: bool
) -> None:
    f = new_form(kernel)
    if bound:  # the client has already been used from a cell, so it is bound to the kernel loop
        asyncio.run_coroutine_threadsafe(f.client.jobs(limit=1), kernel.loop).result(10)
        assert f.client.loop is kernel.loop
    f.prompt.value = f"A red kite over the dunes ({'bound' if bound else 'fresh'})"
    subshell.call(f.submit_button.click)
    assert f.last is not None
    # a cell waits for it on the kernel's own loop: the very loop the job needs
    job = kernel.call(lambda: f.last.wait(60), timeout=90)
    assert job.status == "succeeded"
    assert f.client.loop is kernel.loop
    assert job.video_path is not None and job.video_path.exists()
    view = f.views[-1]
    wait_until(lambda: "<video" in view.html, what="the finished view")
    assert "submit failed" not in view.html and "RuntimeError" not in view.html


def video_html(view: Any) -> str:
    """What the form's view shows: the HTML of the one output in its Output widget."""
    (output,) = view.widget.outputs
    return str(output["data"]["text/html"])


def test_the_finished_video_is_an_ordinary_output_inside_the_widget(
    kernel: LoopThread, subshell: LoopThread
) -> None:
    # an Output widget renders through JupyterLab's rendermime, which resolves the relative
    # src against the notebook's folder (an ipywidgets.HTML leaves it to the page URL)
    f = new_form(kernel)
    f.prompt.value = "A lantern drifting on a lake"
    subshell.call(f.submit_button.click)
    assert f.last is not None
    job = f.last.wait(60)
    view = f.views[-1]
    wait_until(lambda: "<video" in video_html(view), what="the video")
    assert f'<video src="seedance-output/videos/{job.video_path.name}"' in video_html(view)
    (output,) = view.widget.outputs
    assert output["output_type"] == "display_data"
    assert job.video_path.name in output["data"]["text/plain"]


# ---------------------------------------------------------------------------- defect 3


def test_cancel_on_a_running_ark_job_says_why_and_retires_the_button(
    kernel: LoopThread, subshell: LoopThread
) -> None:
    f = new_form(kernel)
    f.prompt.value = "A long tracking shot through a forest [[slow]]"
    subshell.call(f.submit_button.click)
    view = f.views[-1]
    wait_until(lambda: view.job is not None and view.job.status == "running", what="running")
    subshell.call(view._button.click)
    wait_until(lambda: view._button.description == "Cannot cancel", what="the refusal")
    assert "cannot stop a running task; it will finish and be billed" in view.note
    assert view._button.disabled
    assert "cannot stop a running task" in view._button.tooltip
    wait_until(lambda: "cannot stop a running task" in video_html(view), what="the reason shown")
    job = f.last.wait(60)
    assert job.status == "succeeded"  # Ark lets it finish
    wait_until(lambda: "<video" in video_html(view), what="the video")
    assert "cannot stop a running task" in video_html(view)  # the reason stays on screen
    assert view._button.description == "New take" and not view._button.disabled


def test_cancel_while_queued_is_shown_as_the_users_act_not_a_failure(
    kernel: LoopThread, subshell: LoopThread
) -> None:
    f = new_form(kernel)
    f.prompt.value = "A kite that never flies"
    subshell.call(f.submit_button.click)
    view = f.views[-1]
    wait_until(lambda: view.job is not None and view.job.task_id is not None, what="created")
    assert view.job.status == "queued"
    subshell.call(view._button.click)
    wait_until(lambda: view.job.done, what="the cancel")
    assert view.job.status == "cancelled"
    wait_until(lambda: "Cancelled at your request" in video_html(view), what="the note")
    shown = video_html(view)
    assert "seedance-error" not in shown and "✗" not in shown
    assert "submit failed" not in shown
    assert view._button.description == "New take"


# ---------------------------------------------------------------------------- new take


def test_new_take_sends_the_same_request_again_into_a_view_below(
    kernel: LoopThread, subshell: LoopThread
) -> None:
    f = new_form(kernel)
    f.prompt.value = "A paper crane unfolding"
    f.seed.value = "41"
    subshell.call(f.submit_button.click)
    first = f.last.wait(60)
    view = f.views[-1]
    wait_until(lambda: view._button.description == "New take", what="the New take button")
    subshell.call(view._button.click)
    (take,) = view.takes
    again = take.wait(60)
    assert again.id != first.id and not again.reused  # force=True: a new task, not the ledger's
    assert again.request.prompt == first.request.prompt
    assert again.request.model_dump(exclude={"prompt"}) == first.request.model_dump(
        exclude={"prompt"}
    )
    (box,) = view._takes_box.children
    assert box in view.box.children[-1].children  # below the first take, inside its view


def test_the_magics_view_turns_cancel_into_new_take(
    kernel: LoopThread, subshell: LoopThread
) -> None:
    from seedance_nb.jupyter.view import TaskView, launch

    f = new_form(kernel)

    def start() -> Any:
        view = TaskView("seedance-2.0-fast").show()
        return view, launch(f.client, "A comet over a harbour", f.params(), view)

    view, pending = kernel.call(start)
    assert view._button.description == "Cancel"
    pending.wait(60)
    wait_until(lambda: view._button.description == "New take", what="the New take button")
    subshell.call(view._button.click)
    (take,) = view.takes
    assert take.wait(60).id != pending.job.id
    assert len(view._takes_box.children) == 1


# ---------------------------------------------------------------------------- the widgets


def test_every_request_parameter_has_a_widget(kernel: LoopThread) -> None:
    import ipywidgets as w

    f = new_form(kernel)
    assert set(f.widgets) == set(P.NAMES)
    for p in P.PARAMS:
        widget = f.widgets[p.name]
        assert isinstance(widget, w.DOMWidget), p.name
        if p.name == "model":
            assert isinstance(widget, w.Dropdown) and "seedance-2.0" in widget.options
        elif p.kind in ("media", "media_list"):
            assert isinstance(widget, w.FileUpload) and widget.multiple == (p.kind == "media_list")
            assert isinstance(f.refs[p.name], w.Text)
        elif p.kind == "choice":
            assert isinstance(widget, w.Dropdown), p.name
        elif p.kind == "bool":
            assert isinstance(widget, (w.Checkbox, w.Dropdown)), p.name
        elif p.kind in ("text", "mapping"):
            assert isinstance(widget, w.Text), p.name
    # every widget is on screen: in the form or under "More parameters"
    shown: set[int] = set()

    def walk(widget: Any) -> None:
        shown.add(id(widget))
        for child in getattr(widget, "children", ()):
            walk(child)

    walk(f.widget)
    assert all(id(f.widgets[n]) in shown for n in P.NAMES)
    assert all(id(t) in shown for t in f.refs.values())


def test_widgets_follow_the_offer_and_say_what_it_does_not_take(
    kernel: LoopThread, slow_queue_emulator: Emulator
) -> None:
    f = kernel.call(lambda: form(provider="cometapi", model="seedance-1.0-pro"))
    offer = f.offer
    for p in P.PARAMS:
        widget = f.widgets[p.name]
        assert widget.disabled == (not p.applies(offer)), p.name
        if not p.applies(offer):
            assert widget.tooltip == f"seedance-1.0-pro on CometAPI does not take {p.name}"
    assert f.seed.disabled and f.images.disabled and f.refs["images"].disabled
    assert "seed" not in f.params() and "generate_audio" not in f.params()
    # Ark's 2.0 tiers take the reference media and -1 (auto) as a duration; flex is 1.x only
    g = new_form(kernel)
    st = g.widgets["service_tier"]
    assert [v for _, v in st.options] == [None, "default"]
    assert -1 in g.duration.options and not g.images.disabled
    g.model.value = "seedance-1.5-pro"
    assert [v for _, v in st.options] == [None, "default", "flex"]
    assert -1 not in g.duration.options


def test_every_widget_reaches_the_request(kernel: LoopThread, tmp_path: Path) -> None:
    f = new_form(kernel)
    f.model.value = "seedance-1.0-pro"  # takes camera_fixed
    f.prompt.value = "A heron lands"
    f.ratio.value, f.resolution.value, f.duration.value = "9:16", "720p", 6
    f.seed.value = "77"
    ws = f.widgets
    ws["watermark"].value, ws["camera_fixed"].value, ws["return_last_frame"].value = (
        True,
        False,
        True,
    )
    ws["service_tier"].value = "flex"
    ws["callback_url"].value = "https://hooks.example.test/seedance"
    ws["options"].value = 'priority=3 safety_identifier="user 7"'
    got = f.params()
    assert got == {
        "model": "seedance-1.0-pro", "ratio": "9:16", "resolution": "720p", "duration": 6,
        "seed": 77, "watermark": True, "camera_fixed": False, "return_last_frame": True,
        "service_tier": "flex", "callback_url": "https://hooks.example.test/seedance",
        "options": {"priority": 3, "safety_identifier": "user 7"},
    }  # fmt: skip
    body = f.client.preview(f.prompt.value, **got)["body"]  # nothing sent
    assert body["seed"] == 77 and body["watermark"] is True and body["camera_fixed"] is False
    assert body["service_tier"] == "flex" and body["priority"] == 3
    # media: an upload and a path both count, and the prompt lint sees them
    frame = tmp_path / "first.png"
    from PIL import Image

    Image.new("RGB", (640, 480), "teal").save(frame)
    f.model.value = "seedance-2.0-fast"
    f.prompt.value = "The boat in [Image 1] and [Image 2] sails"
    assert "seedance-error" in f.lint.value and f.submit_button.disabled
    f.images.value = ({"name": "a.png", "type": "image/png", "size": frame.stat().st_size,
                       "content": memoryview(frame.read_bytes()),
                       "last_modified": datetime.datetime.now(datetime.timezone.utc)},)  # fmt: skip
    f.refs["images"].value = str(frame)
    assert f.lint.value == "" and not f.submit_button.disabled
    images = f.params()["images"]
    assert len(images) == 2 and Path(images[0]).read_bytes() == frame.read_bytes()
    assert images[1] == str(frame)
    f.seed.value = "seven"
    assert f.submit_button.disabled and "seed must be a whole number" in f.estimate.value


# ---------------------------------------------------------------------------- defect 6


def test_a_tiers_audio_default_returns_unless_the_user_set_it(kernel: LoopThread) -> None:
    f = new_form(kernel)
    assert f.audio.value is True and not f.audio.disabled  # Ark: audio on by default
    f.model.value = "seedance-1.0-pro"  # no audio
    assert f.audio.disabled and f.audio.value is False
    f.model.value = "seedance-2.0-fast"
    assert f.audio.value is True and not f.audio.disabled
    f.audio.value = False  # the user's choice survives a visit elsewhere
    f.model.value = "seedance-1.0-pro"
    f.model.value = "seedance-2.0-fast"
    assert f.audio.value is False
    # the same for choices: 1080p returns after a tier that lacks it
    f.model.value = "seedance-1.0-pro"
    f.resolution.value = "1080p"
    f.model.value = "seedance-2.0-fast"
    assert f.resolution.value == "480p"
    f.model.value = "seedance-1.0-pro"
    assert f.resolution.value == "1080p"


def test_cancel_refusal_follows_the_catalog() -> None:
    from types import SimpleNamespace

    from seedance_nb.jupyter.view import cancel_refusal

    def refusal(provider: str, status: str) -> str | None:
        return cancel_refusal(SimpleNamespace(provider=provider, status=status))  # type: ignore[arg-type]

    assert refusal("ark", "queued") is None  # Ark cancels a queued task
    assert refusal("ark", "running") == (
        "Ark cannot stop a running task; it will finish and be billed."
    )
    assert "bills nothing" in (refusal("emulator", "running") or "")
    assert refusal("seedance2ink", "running") is None  # it documents a cancel endpoint
    assert refusal("cometapi", "queued") == (
        "CometAPI cannot cancel a task: CometAPI documents no cancel endpoint. "
        "It will finish and be billed."
    )
