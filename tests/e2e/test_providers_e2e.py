"""Every provider end to end: the real client against one emulator over a real socket.

For each provider in ``catalog.PROVIDERS`` the client submits every mode the provider's
seedance-2.0 offer sells, waits, downloads the MP4 and PyAV decodes it; cancels where the
provider can (and gets the clear "cannot cancel" error where it cannot); and refuses locally,
before any request, what the provider does not sell. Gateway media that must be URLs come
from a tiny loopback file server; Ark-dialect and OrcaRouter media travel as data: URLs and
CometAPI's first frame as an uploaded file part. A second block talks raw HTTP to each gateway
mount and checks its own error envelopes, codes and status vocabulary, and that the client's
dialect reads them as the right error class.
"""

from __future__ import annotations

import functools
import io
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from PIL import Image

import seedance_nb as sd
from seedance_nb import catalog, errors
from seedance_nb.emulator import Emulator
from seedance_nb.emulator.dialects import REGISTRY
from seedance_nb.providers import dialect_for

PROVIDERS = list(catalog.PROVIDERS)
TIER = "seedance-2.0"
WIDTH, HEIGHT = catalog.PIXELS[("16:9", "480p")]
SECONDS = 4


def png(size: tuple[int, int], color: tuple[int, int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two PNGs on disk and the same files behind a loopback HTTP server."""
    root = tmp_path_factory.mktemp("media")
    (root / "red.png").write_bytes(png((640, 360), (220, 30, 30)))
    (root / "blue.png").write_bytes(png((640, 360), (30, 60, 220)))
    (root / "green.png").write_bytes(png((480, 480), (30, 200, 60)))
    handler = functools.partial(_Quiet, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    yield {"dir": root, "url": base}
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    e = Emulator(state_dir=tmp_path_factory.mktemp("emu"), queued_seconds=0.2,
                 running_seconds=0.4).start()  # fmt: skip
    yield e
    e.stop()


@pytest.fixture(scope="module")
def slow_emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """Tasks stay queued a minute: room to cancel one deterministically."""
    e = Emulator(state_dir=tmp_path_factory.mktemp("slow"), queued_seconds=60,
                 running_seconds=60).start()  # fmt: skip
    yield e
    e.stop()


def client(name: str, e: Emulator, workdir: Path) -> sd.Client:
    base = e.base_url + catalog.PROVIDERS[name].emulator_prefix
    return sd.Client(provider=name, base_url=base, api_key="k", workdir=workdir)


def media(name: str, files: dict[str, Any], which: str) -> Any:
    """A medium the way this provider takes it: a local file, or a loopback URL."""
    if catalog.PROVIDERS[name].local_media == "none":
        return f"{files['url']}/{which}.png"
    return files["dir"] / f"{which}.png"


def mode_params(name: str, mode: str, files: dict[str, Any]) -> dict[str, Any]:
    if mode == "text":
        return {}
    if mode == "first_frame":
        return {"first_frame": media(name, files, "red")}
    if mode == "first_last":
        return {"first_frame": media(name, files, "red"),
                "last_frame": media(name, files, "blue")}  # fmt: skip
    # three images: seedance2.ink's role-less mediaUrls read one or two images as frames
    return {"images": [media(name, files, w) for w in ("red", "green", "blue")]}


def common(name: str) -> dict[str, Any]:
    offer = catalog.PROVIDERS[name].offers[TIER]
    params: dict[str, Any] = {"model": TIER, "resolution": "480p", "duration": SECONDS,
                              "ratio": "16:9"}  # fmt: skip
    if offer.audio:
        params["generate_audio"] = False  # silent: cheaper renders
    return params


def probe(path: Path) -> dict[str, Any]:
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        frames = sum(1 for _ in c.decode(video=0))
        return {"width": v.codec_context.width, "height": v.codec_context.height,
                "fps": float(v.average_rate), "frames": frames,
                "seconds": float(c.duration) / av.time_base if c.duration else 0.0}  # fmt: skip


def mount_owner(name: str) -> str:
    """The provider whose emulator mount serves ``name``'s prefix."""
    prefix = catalog.PROVIDERS[name].emulator_prefix
    return next(n for n in REGISTRY if catalog.PROVIDERS[n].emulator_prefix == prefix)


def post_count(e: Emulator) -> int:
    return sum(n for route, n in e.stats()["requests"].items() if route.startswith("POST"))


CASES = [(name, mode) for name in PROVIDERS for mode in catalog.MODES
         if mode in catalog.PROVIDERS[name].offers[TIER].modes]  # fmt: skip


def test_every_provider_has_an_emulator_mount(emu: Emulator) -> None:
    mounts = httpx.get(emu.base_url + "/emulator/health").json()["mounts"]
    for p in catalog.PROVIDERS.values():
        assert p.emulator_prefix.rstrip("/") in mounts, p.name


@pytest.mark.parametrize(("name", "mode"), CASES, ids=[f"{n}-{m}" for n, m in CASES])
def test_generate_and_decode(name: str, mode: str, emu: Emulator, files: dict[str, Any],
                             tmp_path: Path) -> None:  # fmt: skip
    before = emu.stats()["creates_by_provider"].get(mount_owner(name), 0)
    with client(name, emu, tmp_path) as c:
        names = " with [Image 1], [Image 2] and [Image 3]" if mode == "reference" else ""
        job = c.generate(f"{name} {mode}: a paper boat drifts{names}", timeout=120,
                         **common(name), **mode_params(name, mode, files))  # fmt: skip
        assert job.status == "succeeded", (job.status, job.error)
        assert job.video_path is not None and job.video_path.exists()
        info = probe(job.video_path)
        task = emu.service.get(job.task_id or "")
    assert (info["width"], info["height"]) == (WIDTH, HEIGHT)
    assert info["fps"] == pytest.approx(catalog.FPS)
    assert info["frames"] == SECONDS * catalog.FPS
    assert info["seconds"] == pytest.approx(SECONDS, abs=0.1)
    mount = mount_owner(name)  # "emulator" is the client's name for the /api/v3 mount
    assert emu.stats()["creates_by_provider"].get(mount, 0) == before + 1
    # the emulator stored the task under this provider's own mount, in the expected mode
    assert task is not None and task.provider == mount
    assert task.dialect == catalog.PROVIDERS[name].dialect
    if task.dialect != "ark":
        assert task.fields["mode"] == mode


def test_no_key_starts_the_emulator_for_a_gateway(tmp_path: Path) -> None:
    with sd.Client(provider="seedance2ink", workdir=tmp_path) as c:
        assert c.emulated
        assert c.base_url.endswith(catalog.PROVIDERS["seedance2ink"].emulator_prefix)
        job = c.generate("a kite over the dunes", duration=4, resolution="480p", timeout=120)
        assert job.status == "succeeded"
        assert probe(job.video_path)["frames"] == 4 * catalog.FPS  # type: ignore[arg-type]


@pytest.mark.parametrize("name", PROVIDERS)
def test_cancel(name: str, slow_emu: Emulator, tmp_path: Path) -> None:
    provider = catalog.PROVIDERS[name]
    with client(name, slow_emu, tmp_path) as c:
        job = c.submit(f"{name}: a slow sunrise", **common(name))
        assert job.task_id and job.status == "queued"
        if provider.can_cancel:
            job.cancel()
            assert job.status == "cancelled"
            assert job.done
            task = slow_emu.service.get(job.task_id)
            assert task is not None and task.status() == "cancelled"
        else:
            with pytest.raises(sd.SeedanceError, match="cannot cancel"):
                job.cancel()
            task = slow_emu.service.get(job.task_id)
            assert task is not None and task.status() == "queued"


def _unsupported(name: str, files: dict[str, Any]) -> list[dict[str, Any]]:
    local = files["dir"] / "red.png"
    url = f"{files['url']}/red.png"
    return {
        "ark": [{"model": "seedance-2.0-mini"}, {"model": "seedance-2.0-fast",
                                                 "resolution": "1080p"}],
        "volcengine": [{"model": "seedance-2.0-mini"}, {"camera_fixed": True}],
        "emulator": [{"model": "seedance-2.0-mini"}, {"duration": 3}],
        "orcarouter": [{"model": "seedance-2.0-fast"}, {"camera_fixed": True},
                       {"resolution": "4k"}],
        "cometapi": [{"first_frame": local, "last_frame": local}, {"images": [local]},
                     {"generate_audio": True}, {"first_frame": local, "ratio": "adaptive"}],
        "evolink": [{"first_frame": local}, {"model": "seedance-2.0-fast", "resolution": "1080p"},
                    {"model": "seedance-1.5-pro"}],
        "seedance2ink": [{"ratio": "4:3"}, {"images": [url] * 6}, {"first_frame": local},
                         {"model": "seedance-1.5-pro", "duration": 6}],
    }[name]  # fmt: skip


@pytest.mark.parametrize("name", PROVIDERS)
def test_refuses_locally_what_it_does_not_sell(name: str, emu: Emulator, files: dict[str, Any],
                                               tmp_path: Path) -> None:  # fmt: skip
    cases = _unsupported(name, files)
    creates, posts = emu.stats()["tasks_created"], post_count(emu)
    with client(name, emu, tmp_path) as c:
        for params in cases:
            with pytest.raises(sd.InvalidRequest):
                c.submit("a lighthouse in fog", **params)
    assert emu.stats()["tasks_created"] == creates
    assert post_count(emu) == posts  # nothing was sent at all


# ----------------------------------------------------------------------------- raw wire


def _http(e: Emulator, name: str) -> httpx.Client:
    base = e.base_url + catalog.PROVIDERS[name].emulator_prefix
    return httpx.Client(base_url=base, headers={"Authorization": "Bearer k"}, timeout=30,
                        trust_env=False)  # fmt: skip


def _as_error(name: str, r: httpx.Response) -> errors.APIError:
    return dialect_for(catalog.PROVIDERS[name]).parse_error(r.status_code, r.json(), r.headers)


def _poll_statuses(http: httpx.Client, path: str, pick: Any, done: set[str]) -> list[Any]:
    seen: list[Any] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        value = pick(http.get(path).json())
        if not seen or seen[-1] != value:
            seen.append(value)
        if value in done:
            return seen
        time.sleep(0.03)
    raise AssertionError(f"never finished: {seen}")


def test_orcarouter_wire(emu: Emulator, files: dict[str, Any]) -> None:
    model = catalog.PROVIDERS["orcarouter"].offers[TIER].model_id
    with _http(emu, "orcarouter") as h:
        r = h.post("/v1/video/generations", json={
            "model": model, "prompt": "fox [[slow]]", "metadata": {
                "content": [{"type": "text", "text": "ignored"},
                            {"type": "image_url", "image_url": {"url": f"{files['url']}/red.png"},
                             "role": "first_frame"}],
                "ratio": "16:9", "duration": 4, "resolution": "480p", "return_last_frame": True}})  # fmt: skip
        assert r.status_code == 200, r.text
        created = r.json()
        assert created["status"] == "queued" and created["progress"] == 0
        assert created["id"] == created["task_id"] and created["object"] == "video"
        path = f"/v1/video/generations/{created['id']}"
        seen = _poll_statuses(h, path, lambda b: b["data"]["status"], {"SUCCESS", "FAILURE"})
        assert seen[-1] == "SUCCESS" and "IN_PROGRESS" in seen
        assert set(seen) <= {"NOT_START", "SUBMITTED", "IN_PROGRESS", "SUCCESS"}
        body = h.get(path).json()
        assert body["code"] == "success" and body["data"]["progress"] == "100%"
        assert body["data"]["result_url"].startswith(emu.base_url + "/emulator/files/")
        assert body["data"]["last_frame_url"]
        assert h.get(body["data"]["result_url"]).status_code == 200

        r = h.get("/v1/video/generations/task_nope")
        assert r.status_code == 404 and r.json()["code"] == "task_not_exist"
        assert isinstance(_as_error("orcarouter", r), errors.NotFoundError)
        bad = [
            ({"model": "byteplus/seedance-1-0-pro-250528", "prompt": "x"}, "model_not_available"),
            ({"model": model, "prompt": "x", "metadata": {"content": [
                {"type": "image_url", "image_url": {"url": f"{files['url']}/red.png"},
                 "role": "first_frame"},
                {"type": "image_url", "image_url": {"url": f"{files['url']}/blue.png"},
                 "role": "last_frame"}]}}, "invalid_request"),  # OrcaRouter says end_frame
            ({"model": model, "prompt": "x", "metadata": {"camera_fixed": True}},
             "invalid_request"),
            ({"model": model, "prompt": "x", "metadata": {"resolution": "4k"}},
             "invalid_request"),
        ]  # fmt: skip
        for payload, code in bad:
            r = h.post("/v1/video/generations", json=payload)
            assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text
        r = h.post("/v1/video/generations", json={"model": model, "prompt": "x"},
                   headers={"Authorization": ""})  # fmt: skip
        assert r.status_code == 401
        assert isinstance(_as_error("orcarouter", r), errors.AuthenticationError)
        assert h.delete(path).status_code == 405


def test_cometapi_wire(emu: Emulator) -> None:
    image = png((640, 360), (200, 40, 40))
    form = {"prompt": "a tram", "model": "doubao-seedance-2-0-fast", "seconds": "4",
            "size": "16:9", "resolution": "480p"}  # fmt: skip
    with _http(emu, "cometapi") as h:
        r = h.post("/v1/videos", data=form,
                   files={"input_reference": ("frame.png", image, "image/png")})  # fmt: skip
        assert r.status_code == 200, r.text
        created = r.json()
        assert created["status"] == "SUBMITTED" and created["progress"] == 0
        path = f"/v1/videos/{created['id']}"
        seen = _poll_statuses(h, path, lambda b: b["status"], {"SUCCESS", "FAILED", "ERROR"})
        assert seen[-1] == "SUCCESS"
        assert set(seen) <= {"SUBMITTED", "IN_PROGRESS", "SUCCESS"}
        body = h.get(path).json()
        assert body["progress"] == 100 and body["video_url"] and body["completed_at"]
        task = emu.service.get(created["id"])
        assert task is not None and task.fields["mode"] == "first_frame"

        r = h.get("/v1/videos/task_nope")
        assert r.status_code == 400 and r.json()["code"] == "task_not_exist"
        assert isinstance(_as_error("cometapi", r), errors.NotFoundError)
        r = h.post("/v1/videos", data={**form, "model": "doubao-seedance-1-5-pro"},
                   files={"input_reference": ("frame.png", image, "image/png")})  # fmt: skip
        assert r.status_code == 400 and "r2v does not support" in r.json()["message"]
        r = h.post("/v1/videos", data={**form, "input_reference": "https://x/y.png"})
        assert r.status_code == 400 and r.json()["code"] == "InvalidParameter"
        r = h.post("/v1/videos", data={**form},
                   files={"input_reference": ("frame.gif", b"GIF89a....", "image/gif")})  # fmt: skip
        assert r.status_code == 400
        for field, value in (("seconds", "16"), ("size", "adaptive"), ("resolution", "1080p")):
            r = h.post("/v1/videos", data={**form, field: value})
            assert r.status_code == 400 and r.json()["code"] == "InvalidParameter", field
        assert h.post("/v1/videos", json=form).status_code == 400  # multipart only
        r = h.post("/v1/videos", data=form, headers={"Authorization": "Basic x"})
        assert r.status_code == 401
        assert isinstance(_as_error("cometapi", r), errors.AuthenticationError)


def test_evolink_wire(emu: Emulator, files: dict[str, Any]) -> None:
    red, blue = f"{files['url']}/red.png", f"{files['url']}/blue.png"
    with _http(emu, "evolink") as h:
        r = h.post("/v1/videos/generations", json={
            "model": "seedance-2.0-mini-image-to-video", "prompt": "a swing",
            "image_urls": [red, blue], "duration": 4, "quality": "480p",
            "generate_audio": False})  # fmt: skip
        assert r.status_code == 200, r.text
        created = r.json()
        assert created["status"] == "pending" and created["object"] == "video.generation.task"
        assert created["task_info"]["can_cancel"] is False
        assert created["usage"]["credits_reserved"] > 0
        path = f"/v1/tasks/{created['id']}"
        seen = _poll_statuses(h, path, lambda b: b["status"], {"completed", "failed"})
        assert seen[-1] == "completed" and set(seen) <= {"pending", "processing", "completed"}
        body = h.get(path).json()
        assert len(body["results"]) == 1 and body["progress"] == 100
        task = emu.service.get(created["id"])
        assert task is not None and task.fields["mode"] == "first_last"
        assert task.fields["generate_audio"] is False

        r = h.post("/v1/videos/generations", json={
            "model": "seedance-2.0-text-to-video", "prompt": "x"})  # fmt: skip
        task = emu.service.get(r.json()["id"])
        assert task is not None and task.fields["generate_audio"] is True  # EvoLink's default

        r = h.post("/v1/videos/generations",
                   json={"model": "seedance-2.0-text-to-video", "prompt": "gold [[quota]]"})  # fmt: skip
        assert r.status_code == 402 and r.json()["error"]["code"] == "insufficient_quota"
        assert isinstance(_as_error("evolink", r), errors.InsufficientQuotaError)
        r = h.post("/v1/videos/generations",
                   json={"model": "seedance-1.5-pro-text-to-video", "prompt": "x"})  # fmt: skip
        assert r.status_code == 403 and r.json()["error"]["code"] == "model_access_denied"
        assert isinstance(_as_error("evolink", r), errors.PermissionDeniedError)
        bad = [
            {"model": "seedance-2.0-text-to-video", "prompt": "x", "image_urls": [red]},
            {"model": "seedance-2.0-image-to-video", "prompt": "x", "image_urls": [red],
             "video_urls": [red]},
            {"model": "seedance-2.0-image-to-video", "prompt": "x", "image_urls": [red] * 3},
            {"model": "seedance-2.0-reference-to-video", "prompt": "x", "audio_urls": [red]},
            {"model": "seedance-2.0-fast-text-to-video", "prompt": "x", "quality": "1080p"},
            {"model": "seedance-2.0-mini-text-to-video", "prompt": "x",
             "model_params": {"web_search": True}},
            {"model": "seedance-2.0-text-to-video", "prompt": "x", "duration": 3},
            {"model": "seedance-2.0-text-to-video", "prompt": "x",
             "callback_url": "http://insecure.example/hook"},
            {"model": "seedance-2.0-image-to-video", "prompt": "x",
             "image_urls": ["data:image/png;base64,AAAA"]},
            {"model": "seedance-2-text", "prompt": "x"},
        ]  # fmt: skip
        for payload in bad:
            r = h.post("/v1/videos/generations", json=payload)
            assert r.status_code == 400, payload
            assert r.json()["error"]["code"] == "invalid_request"
            assert r.json()["error"]["type"] == "invalid_request_error"
        r = h.get("/v1/tasks/task-unified-nope")
        assert r.status_code == 404
        assert isinstance(_as_error("evolink", r), errors.NotFoundError)
        r = h.get(path, headers={"Authorization": ""})
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"


def test_seedance2ink_wire(emu: Emulator, slow_emu: Emulator, files: dict[str, Any]) -> None:
    red = f"{files['url']}/red.png"
    with _http(emu, "seedance2ink") as h:
        r = h.post("/video/generations", json={
            "model": "seedance-2.0-fast", "prompt": "a comet", "mediaUrls": [red],
            "aspectRatio": "9:16", "duration": 4, "resolution": "480p",
            "metadata": {"order": 7}})  # fmt: skip
        assert r.status_code == 200, r.text
        created = r.json()
        assert created["success"] is True and created["status"] == "queued"
        assert created["creditsCharged"] > 0
        path = f"/video/generations/{created['requestId']}"
        seen = _poll_statuses(h, path, lambda b: b["status"], {"succeeded", "failed"})
        assert seen[-1] == "succeeded" and set(seen) <= {"queued", "processing", "succeeded"}
        body = h.get(path).json()
        assert body["output"]["type"] == "video" and body["output"]["url"]
        assert body["aspectRatio"] == "9:16" and body["metadata"] == {"order": 7}
        assert body["error"] is None
        r = h.post(path + "/cancel")
        assert r.status_code == 400 and r.json()["error"]["code"] == "INVALID_STATUS"
        r = h.get("/video/generations/req_nope")
        assert r.status_code == 404 and r.json()["success"] is False
        assert isinstance(_as_error("seedance2ink", r), errors.NotFoundError)
        bad = [
            {"model": "seedance-2.0", "prompt": "x", "aspectRatio": "4:3"},
            {"model": "seedance-2.0", "prompt": "x", "mediaUrls": [red] * 6},
            {"model": "seedance-1.5-pro", "prompt": "x", "duration": 6},
            {"model": "seedance-2.0", "prompt": "x", "mediaUrls": ["data:image/png;base64,AA"]},
            {"model": "seedance-2.0-mini", "prompt": "x"},
            {"model": "seedance-2.0", "prompt": ""},
        ]
        for payload in bad:
            r = h.post("/video/generations", json=payload)
            assert r.status_code == 400, payload
            assert r.json() == {"success": False, "error": r.json()["error"]}
            assert r.json()["error"]["code"] == "INVALID_REQUEST"
    with _http(slow_emu, "seedance2ink") as h:
        r = h.post("/video/generations", json={"model": "seedance-2.0", "prompt": "x",
                                               "resolution": "480p", "duration": 4})  # fmt: skip
        rid = r.json()["requestId"]
        r = h.post(f"/video/generations/{rid}/cancel")
        assert r.json() == {"success": True, "requestId": rid, "status": "cancelled"}
        body = h.get(f"/video/generations/{rid}").json()
        assert body["status"] == "cancelled" and body["output"] is None


def test_task_ids_do_not_leak_across_mounts(emu: Emulator) -> None:
    with _http(emu, "seedance2ink") as ink, _http(emu, "evolink") as evo:
        rid = ink.post("/video/generations", json={"model": "seedance-2.0", "prompt": "x",
                                                   "resolution": "480p", "duration": 4}).json()  # fmt: skip
        assert evo.get(f"/v1/tasks/{rid['requestId']}").status_code == 404


GATEWAYS = [n for n in PROVIDERS if catalog.PROVIDERS[n].dialect != "ark"]


@pytest.mark.parametrize("name", GATEWAYS)
def test_failed_task_reaches_the_client(name: str, emu: Emulator, tmp_path: Path) -> None:
    """``[[moderation]]``: each gateway reports the failure its own way; the client reads it."""
    with client(name, emu, tmp_path) as c:
        job = c.submit("a crowded market [[moderation]]", **common(name))
        with pytest.raises(errors.JobFailed):
            job.wait(60)
    assert job.status == "failed"
    assert job.error is not None
    text = f"{job.error.code} {job.error.message}"
    assert "OutputVideoSensitiveContentDetected" in text or "sensitive" in text.lower()
    assert job.video_path is None
