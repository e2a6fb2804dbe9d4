"""Storyboards: shots chained by their last frame, one film, and ``job.extend``.

Unit parts first (the last frame taken from an MP4 is the same bytes every time; a film has
the sum of its shots' lengths, a picture and a sound track, and decodes), then the real client
against the emulator over a socket: a three-shot board whose second and third shots start
from the frames before them, run again with nothing sent; the fallback where the provider
returns no last frame (CometAPI, its first frame an uploaded file part); refusals before any
request (a URL-only provider, a shot a tier cannot do, the budget hook), and ``job.extend``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

import seedance_nb as sd
from seedance_nb import catalog
from seedance_nb.emulator import Emulator
from seedance_nb.engine.frames import extract_last_frame, frame_file
from seedance_nb.workflows import concat

SHOTS = ["A fox wakes at dawn", "The fox trots into the forest", "The fox curls up to sleep"]
PARAMS: dict[str, Any] = {"model": "seedance-2.0-fast", "duration": 4, "resolution": "480p"}


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def requests_seen(e: Emulator) -> int:
    return sum(e.stats()["requests"].values())


def creates(e: Emulator) -> int:
    return sum(e.stats()["creates_by_provider"].values())


def clip(path: Path, seconds: float, size: tuple[int, int], *, fps: int = 24,
         tone: float | None = None, colour: int = 0) -> Path:  # fmt: skip
    """A real H.264 MP4 whose frame i is grey level colour+i (and an AAC tone if asked)."""
    w, h = size
    with av.open(str(path), "w") as c:
        vs = c.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        aus = c.add_stream("aac", rate=48_000) if tone else None
        if aus is not None:
            aus.layout = "stereo"
        n = round(seconds * fps)
        for i in range(n):
            frame = av.VideoFrame.from_ndarray(
                np.full((h, w, 3), (colour + i * 3) % 256, np.uint8), format="rgb24"
            )
            frame.pts = i
            for p in vs.encode(frame):
                c.mux(p)
        for p in vs.encode(None):
            c.mux(p)
        if aus is not None and tone is not None:
            t = np.arange(round(seconds * 48_000)) / 48_000
            wave = (0.2 * np.sin(2 * np.pi * tone * t)).astype(np.float32)
            samples = np.stack([wave, wave])
            for start in range(0, samples.shape[1], 1024):
                af = av.AudioFrame.from_ndarray(
                    np.ascontiguousarray(samples[:, start : start + 1024]),
                    format="fltp",
                    layout="stereo",
                )
                af.sample_rate, af.pts = 48_000, start
                for p in aus.encode(af):
                    c.mux(p)
            for p in aus.encode(None):
                c.mux(p)
    return path


# --- the last frame ----------------------------------------------------------------------------


def test_the_last_frame_of_an_mp4_is_the_same_bytes_every_time(tmp_path: Path) -> None:
    video = clip(tmp_path / "job_x.mp4", 2.0, (640, 360), colour=10)
    one = extract_last_frame(video, tmp_path / "one.png")
    two = extract_last_frame(video, tmp_path / "two.png")
    assert one.read_bytes() == two.read_bytes()
    with Image.open(one) as im:
        assert im.size == (640, 360) and im.format == "PNG"
        level = np.asarray(im.convert("L"), dtype=float).mean()
    assert level == pytest.approx(10 + 47 * 3, abs=3)  # the 48th frame, not the first
    # frame_file keeps it beside the video and reads it back; deleted, it comes back identical
    kept = frame_file(video, None)
    assert kept == tmp_path / "job_x.video-last-frame.png"
    first = kept.read_bytes()
    stamp = kept.stat().st_mtime_ns
    assert frame_file(video, None) == kept and kept.stat().st_mtime_ns == stamp
    kept.unlink()
    assert frame_file(video, None).read_bytes() == first
    # the provider's own last frame wins where there is one
    provided = tmp_path / "job_x.last-frame.png"
    Image.new("RGB", (640, 360), (1, 2, 3)).save(provided)
    assert frame_file(video, provided) == provided


# --- the film ----------------------------------------------------------------------------------


def test_the_film_has_every_shot_with_sound_where_any_has_it(tmp_path: Path) -> None:
    shots = [
        clip(tmp_path / "a.mp4", 2.0, (864, 496), tone=440.0),
        clip(tmp_path / "b.mp4", 1.5, (864, 496)),  # silent: silence in the film
        clip(tmp_path / "c.mp4", 1.0, (640, 640), fps=30, tone=660.0),  # letterboxed, 24 fps
    ]
    film = concat(shots, tmp_path / "out" / "film.mp4")
    assert film.path.exists() and not (tmp_path / "out" / "film.mp4.part").exists()
    assert (film.width, film.height, film.fps, film.shots) == (864, 496, 24, 3)
    assert film.has_audio and film.duration == pytest.approx(4.5)
    with av.open(str(film.path)) as c:
        assert [s.type for s in c.streams] == ["video", "audio"]
        assert c.streams.audio[0].codec_context.name == "aac"
        frames = [f for f in c.decode(video=0)]
    assert len(frames) == 48 + 36 + 24
    assert (frames[0].width, frames[0].height) == (864, 496)
    with av.open(str(film.path)) as c:
        sound = np.concatenate([f.to_ndarray() for f in c.decode(audio=0)], axis=1)
    assert sound.shape[1] / 48_000 == pytest.approx(4.5, abs=0.05)
    loud = np.abs(sound[0])
    # a's tone, b's silence, c's tone, in that order (AAC's priming aside)
    assert loud[48_000:90_000].max() > 0.1
    assert loud[int(2.2 * 48_000) : int(3.3 * 48_000)].max() < 0.01
    assert loud[int(3.7 * 48_000) : int(4.4 * 48_000)].max() > 0.1
    assert frames[-1].time == pytest.approx(4.5 - 1 / 24, abs=0.02)


def test_a_silent_board_makes_a_silent_film(tmp_path: Path) -> None:
    shots = [clip(tmp_path / f"{i}.mp4", 1.0, (640, 360), colour=i * 60) for i in range(2)]
    film = concat(shots, tmp_path / "film.mp4")
    assert not film.has_audio and film.duration == pytest.approx(2.0)
    with av.open(str(film.path)) as c:
        assert [s.type for s in c.streams] == ["video"]
    assert "2 shots, 2.0 s, 640×360 at 24 fps, silent" in str(film)


# --- end to end, over a socket -----------------------------------------------------------------


def client(e: Emulator, workdir: Path, provider: str = "emulator") -> sd.Client:
    base = e.base_url + catalog.PROVIDERS[provider].emulator_prefix
    return sd.Client(provider=provider, base_url=base, api_key="k", workdir=workdir)


def test_three_shots_chain_and_a_rerun_sends_nothing(emu: Emulator, tmp_path: Path) -> None:
    with client(emu, tmp_path / "w") as c:
        board = c.storyboard(SHOTS, **PARAMS)
        jobs = board.wait(timeout=120)
        film = board.concat(tmp_path / "film.mp4")
    assert [j.status for j in jobs] == ["succeeded"] * 3
    assert creates(emu) == 3
    for before, after in itertools.pairwise(jobs):
        # the emulator returned each shot's last frame (return_last_frame was asked for), and
        # the next shot was sent with exactly those bytes as its first frame
        assert before.request.return_last_frame is True
        assert before.last_frame_path is not None and before.last_frame_path.exists()
        first = after.request.first_frame
        assert first is not None and first.role == "first_frame"
        assert first.sha256 == sha(before.last_frame_path)
        task = emu.service.get(after.task_id or "")
        assert task is not None and task.fields["mode"] == "first_frame"
    assert jobs[0].request.first_frame is None
    assert film.duration == pytest.approx(12.0) and film.shots == 3
    with av.open(str(film.path)) as f:
        assert {s.type for s in f.streams} == {"video", "audio"}  # 2.0-fast has sound (Ark)
        assert sum(1 for _ in f.decode(video=0)) == 3 * 4 * 24

    posts = _posts(emu)
    with client(emu, tmp_path / "w") as c:  # a new process on the same workdir: the cell again
        again = c.storyboard(SHOTS, **PARAMS)
        assert all(s.known for s in again.shots)  # every frame found before anything runs
        assert [r.digest(c.async_client.route) for r in again.requests] == [
            j.request.digest(c.async_client.route) for j in jobs
        ]
        rerun = again.wait(timeout=60)
    assert [j.id for j in rerun] == [j.id for j in jobs]
    assert all(j.reused for j in rerun)
    assert creates(emu) == 3
    assert _posts(emu) == posts  # not one POST more


def _posts(e: Emulator) -> int:
    return sum(n for route, n in e.stats()["requests"].items() if route.startswith("POST"))


def test_without_a_provider_last_frame_the_mp4s_final_frame_is_used(
    emu: Emulator, tmp_path: Path
) -> None:
    """CometAPI returns no last frame and takes the first frame as an uploaded file part."""
    shots = SHOTS[:2]
    params = {"model": "seedance-2.0-fast", "duration": 4, "resolution": "480p"}
    with client(emu, tmp_path / "w", "cometapi") as c:
        first, second = c.storyboard(shots, **params).wait(timeout=120)
    assert first.last_frame_path is None
    extracted = first.video_path.with_name(f"{first.id}.video-last-frame.png")  # type: ignore[union-attr]
    assert second.request.first_frame is not None
    assert second.request.first_frame.sha256 == sha(extracted)
    task = emu.service.get(second.task_id or "")
    assert task is not None and task.fields["mode"] == "first_frame"
    made = creates(emu)
    extracted.unlink()  # taken from the MP4 again: the same bytes, so the same request
    with client(emu, tmp_path / "w", "cometapi") as c:
        rerun = c.storyboard(shots, **params).wait(timeout=60)
    assert [j.id for j in rerun] == [first.id, second.id] and all(j.reused for j in rerun)
    assert creates(emu) == made


def test_orcarouter_chains_through_its_own_last_frame(emu: Emulator, tmp_path: Path) -> None:
    """OrcaRouter returns a last frame (only seedance-2.0 is provisioned there); the next shot
    takes it as a data: URL inside its metadata.content."""
    params = {"model": "seedance-2.0", "duration": 4, "resolution": "480p"}
    with client(emu, tmp_path / "w", "orcarouter") as c:
        first, second = c.storyboard(SHOTS[:2], **params).wait(timeout=120)
    assert first.last_frame_path is not None and first.last_frame_path.exists()
    assert second.request.first_frame is not None
    assert second.request.first_frame.sha256 == sha(first.last_frame_path)
    task = emu.service.get(second.task_id or "")
    assert task is not None and task.fields["mode"] == "first_frame"


@pytest.mark.parametrize("provider", ["evolink", "seedance2ink"])
def test_url_only_providers_are_refused_before_any_request(
    provider: str, emu: Emulator, tmp_path: Path
) -> None:
    seen = requests_seen(emu)
    with client(emu, tmp_path / "w", provider) as c:
        with pytest.raises(sd.InvalidRequest) as caught:
            c.storyboard(SHOTS, model="seedance-2.0-fast", duration=4, resolution="480p")
    text = str(caught.value)
    assert "public URLs" in text and "nothing was sent" in text
    assert "ark (as a data: URL)" in text and "cometapi (as an uploaded file part)" in text
    assert requests_seen(emu) == seen
    assert caught.value.provider == provider


def test_the_whole_board_is_checked_before_anything_is_sent(emu: Emulator, tmp_path: Path) -> None:
    with client(emu, tmp_path / "w") as c:
        with pytest.raises(sd.InvalidRequest, match=r"shot 3 of 3 .*duration=20"):
            c.storyboard([*SHOTS[:2], {"prompt": SHOTS[2], "duration": 20}], **PARAMS)
        # a text-only tier cannot start from a frame: shot 2 is refused, shot 1 never sent
        with pytest.raises(sd.InvalidRequest) as caught:
            c.storyboard(SHOTS[:2], model="seedance-1.0-lite-t2v", duration=4, resolution="480p")
        assert "shot 2 of 2 (starts from shot 1's last frame)" in str(caught.value)
        assert "first-frame image-to-video is not supported" in str(caught.value)
        with pytest.raises(sd.InvalidRequest, match="leave first_frame out"):
            c.storyboard([SHOTS[0], {"prompt": SHOTS[1], "first_frame": b"x"}], **PARAMS)
        with pytest.raises(TypeError, match="durration"):
            c.storyboard(SHOTS, durration=4)

        # the budget's pre-check sees every shot's request before anything is sent
        checked: list[list[Any]] = []

        def check_budget(requests: list[Any], force: bool = False) -> None:
            checked.append(requests)
            raise sd.InvalidRequest("over budget")

        c.async_client.check_budget = check_budget  # type: ignore[attr-defined]
        with pytest.raises(sd.InvalidRequest, match="over budget"):
            c.storyboard(SHOTS, **PARAMS)
    assert [len(r) for r in checked] == [3]
    assert checked[0][1].first_frame is not None  # shot 2 planned with a stand-in frame
    assert checked[0][1].first_frame.width == 864 and checked[0][1].first_frame.height == 496
    assert requests_seen(emu) == 0


def test_job_extend_starts_from_the_last_frame(emu: Emulator, tmp_path: Path) -> None:
    with client(emu, tmp_path / "w") as c:
        job = c.submit(SHOTS[0], seed=7, **PARAMS)  # extend waits for it
        more = job.extend(SHOTS[1], duration=5)
        more.wait(timeout=120)
        again = job.extend(SHOTS[1], duration=5)
        assert job.last_frame_path is None  # not asked for: taken from the MP4
        frame = job.video_path.with_name(f"{job.id}.video-last-frame.png")  # type: ignore[union-attr]
        assert more.request.first_frame is not None
        assert more.request.first_frame.sha256 == sha(frame)
        assert (more.request.duration, more.request.seed, more.request.model) == (
            5,
            7,
            "seedance-2.0-fast",
        )
        assert more.request.return_last_frame is True  # so a further extend needs no decoding
        assert again.id == more.id and again.reused
        assert creates(emu) == 2
        with pytest.raises(TypeError, match="first_frame"):
            job.extend("x", first_frame=frame)
    with client(emu, tmp_path / "e", "evolink") as c:
        done = c.generate(SHOTS[0], **PARAMS, timeout=120)
        seen = requests_seen(emu)
        with pytest.raises(sd.InvalidRequest, match="public URLs"):
            done.extend(SHOTS[1])
        assert requests_seen(emu) == seen


def test_a_failed_shot_blocks_the_rest_and_says_so(emu: Emulator, tmp_path: Path) -> None:
    with client(emu, tmp_path / "w") as c:
        board = c.storyboard([SHOTS[0], SHOTS[1] + " [[fail]]", SHOTS[2]], **PARAMS)
        with pytest.raises(sd.JobFailed):
            board.wait(timeout=120)
        states = [r["state"] for r in board.rows()]
    assert states == ["succeeded", "failed", "blocked"]
    assert board.shots[2].problem == "not sent: shot 2 ended failed"
    assert creates(emu) == 2
    assert "blocked" in board._repr_html_() and "shot 2 ended failed" in board._repr_html_()


def test_png_bytes_of_the_stand_in_frame_are_a_real_image(tmp_path: Path) -> None:
    from seedance_nb.engine.frames import placeholder

    path = placeholder((864, 496), tmp_path)
    with Image.open(io.BytesIO(path.read_bytes())) as im:
        assert im.size == (864, 496) and im.format == "PNG"
    assert placeholder((864, 496), tmp_path) == path


def test_async_code_awaits_a_board(emu: Emulator, tmp_path: Path) -> None:
    import asyncio

    async def main() -> list[Any]:
        base = emu.base_url + "/api/v3"
        async with sd.AsyncClient(provider="emulator", base_url=base, workdir=tmp_path) as ac:
            board = sd.Storyboard(ac, SHOTS[:2], **PARAMS)
            jobs = await board
            film = await board.concat_async()
            assert film.path.parent == tmp_path / "films" and film.duration == pytest.approx(8.0)
            return jobs

    first, second = asyncio.run(main())
    assert second.request.first_frame is not None
    assert second.request.first_frame.sha256 == sha(first.last_frame_path)  # type: ignore[arg-type]
