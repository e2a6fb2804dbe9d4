"""``build_request``: every rule of the gate between user input and money."""

from __future__ import annotations

import dataclasses
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import png_data_url

from seedance_nb import catalog
from seedance_nb.errors import InvalidRequest, SeedanceError
from seedance_nb.request import SeedanceWarning, VideoRequest, build_request

ARK = catalog.PROVIDERS["ark"]
EVOLINK = catalog.PROVIDERS["evolink"]
COMET = catalog.PROVIDERS["cometapi"]
INK = catalog.PROVIDERS["seedance2ink"]
# A provider that takes local media of every kind (as a future uploading dialect would): the
# only way to reach the local video/audio probes, since every real provider refuses those.
UPLOADER = dataclasses.replace(ARK, name="uploader", local_media="upload_first_frame")
IMG = "https://example.com/a.png"
IMG2 = "https://example.com/b.jpg"
VID = "https://example.com/clip.mp4"
AUD = "https://example.com/voice.mp3"


def build(
    prompt: Any = "a paper boat on a rainy street", provider: catalog.Provider = ARK, **kw: Any
) -> VideoRequest:
    request, _ = build_request(provider, prompt, warn=False, **kw)
    return request


def refused(
    provider: catalog.Provider = ARK, prompt: Any = "a paper boat", **kw: Any
) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        build_request(provider, prompt, warn=False, **kw)
    return info.value


def assert_error(
    err: InvalidRequest,
    field: str,
    model: str | None,
    *,
    names: tuple[str, ...] = (),
    provider: str = "ark",
) -> None:
    """The error names the field, provider and model, and each of ``names`` (value, allowed)."""
    assert err.field == field, (err.field, str(err))
    assert err.provider == provider, err.provider
    assert err.model == model, err.model
    text = str(err)
    assert text.startswith(f"{field}="), text
    assert provider in text and (model is None or model in text), text
    for part in names:
        assert part in text, f"{part!r} missing from {text!r}"
    if err.allowed is not None:
        assert f"Allowed: {err.allowed}" in text


# ----------------------------------------------------------------------------- defaults


def test_text_request_gets_documented_defaults() -> None:
    r = build("  A paper boat\r\ndrifts  ")
    assert r.provider == "ark" and r.tier == "seedance-2.0" and r.model == "seedance-2.0"
    assert r.model_id == "dreamina-seedance-2-0-260128"
    assert r.prompt == "A paper boat\ndrifts"
    assert (r.ratio, r.resolution, r.duration) == ("16:9", "720p", 5)
    assert r.generate_audio is True  # Ark's 2.0 default: sound on
    assert r.mode == "text" and r.media == ()
    assert r.size == (1280, 720)
    assert r.estimated_tokens == catalog.estimate_tokens(1280, 720, 5) == 108000
    assert r.estimated_cost == pytest.approx(108000 * 7.0 / 1e6)
    assert "text-to-video" in r.describe() and "1280×720" in r.describe()


def test_request_is_frozen_and_errors_are_value_errors() -> None:
    r = build()
    with pytest.raises(Exception, match="frozen"):
        r.duration = 9  # type: ignore[misc]
    assert issubclass(InvalidRequest, ValueError) and issubclass(InvalidRequest, SeedanceError)


def test_normalisation_of_resolution_ratio_and_duration_types() -> None:
    r = build(resolution="480", ratio=" 9:16 ", duration="6")
    assert (r.resolution, r.ratio, r.duration) == ("480p", "9:16", 6)
    assert build(duration=7.0).duration == 7
    assert build(duration=-1).duration == -1  # 2.0 on Ark: the model picks
    assert build(model="seedance-1.0-pro", duration=2).duration == 2


def test_reference_modes_default_to_adaptive_ratio() -> None:
    assert build(first_frame=IMG).ratio == "adaptive"
    assert build("[Image 1] waves", images=[IMG]).ratio == "adaptive"
    assert build(first_frame=IMG, ratio="1:1").ratio == "1:1"
    # a provider without adaptive falls back to 16:9
    assert build(provider=INK, images=[IMG]).ratio == "16:9"


# ----------------------------------------------------------------------------- prompt and model


@pytest.mark.parametrize("prompt", ["", "   ", "\n\r\n"])
def test_empty_prompt(prompt: str) -> None:
    err = refused(prompt=prompt)
    assert_error(err, "prompt", "seedance-2.0", names=("empty",))


def test_prompt_must_be_text() -> None:
    err = refused(prompt=42)
    assert_error(err, "prompt", "seedance-2.0", names=("'int'", "must be text"))


def test_unknown_model_names_provider_and_allowed_tiers() -> None:
    err = refused(model="seedance-9")
    assert err.field == "model" and err.provider == "ark" and err.model == "seedance-9"
    text = str(err)
    assert "'seedance-9'" in text and "not offered by ark" in text
    for tier in catalog.available_tiers(ARK):
        assert tier in text and tier in err.allowed
    assert "seedance-2.0-mini" not in err.allowed


def test_model_sold_elsewhere_says_where() -> None:
    err = refused(model="seedance-2.0-mini")
    assert err.field == "model" and err.provider == "ark"
    assert "sold by evolink" in str(err)


def test_model_planned_but_not_provisioned() -> None:
    err = refused(catalog.PROVIDERS["orcarouter"], model="seedance-1.5-pro")
    assert_error(
        err, "model", "seedance-1.5-pro", provider="orcarouter", names=("planned", "seedance-2.0")
    )


def test_model_default_and_wrong_types() -> None:
    assert build(model=None).tier == catalog.DEFAULT_TIER
    assert build(model="").tier == catalog.DEFAULT_TIER  # empty means "the default"
    for bad in (3, "   "):
        err = refused(model=bad)
        assert err.field == "model" and err.provider == "ark", bad
        assert "seedance-2.0-fast" in err.allowed


def test_raw_provider_ids_resolve_to_their_tier() -> None:
    r = build(model="dreamina-seedance-2-0-260128")
    assert (r.tier, r.model_id, r.model) == (
        "seedance-2.0",
        "dreamina-seedance-2-0-260128",
        "dreamina-seedance-2-0-260128",
    )
    r = build(model="seedance-1-0-pro-250528", duration=3)
    assert r.tier == "seedance-1.0-pro" and r.generate_audio is None
    vol = catalog.PROVIDERS["volcengine"]
    assert build(provider=vol, model="doubao-seedance-2-0-260128").tier == "seedance-2.0"
    # a Volcengine id is not a BytePlus id
    assert refused(model="doubao-seedance-2-0-260128").field == "model"


def test_endpoint_ids_pass_through_with_2_0_limits() -> None:
    r = build(model="ep-abc")
    assert r.tier is None and r.model_id == "ep-abc" and r.model == "ep-abc"
    assert r.estimated_cost is None
    err = refused(model="ep-abc", duration=16)
    assert_error(err, "duration", "ep-abc", names=("16", "4-15 s"))
    # endpoints are an Ark idea: a gateway does not pass them through
    assert refused(EVOLINK, model="ep-abc").field == "model"


# ----------------------------------------------------------------------------- output parameters


@pytest.mark.parametrize(
    ("model", "duration", "allowed"),
    [
        ("seedance-2.0", 3, "4-15 s (or -1: the model picks)"),
        ("seedance-2.0", 16, "4-15 s (or -1: the model picks)"),
        ("seedance-2.0-fast", 0, "4-15 s (or -1: the model picks)"),
        ("seedance-1.5-pro", 13, "4-12 s"),
        ("seedance-1.0-pro", 1, "2-12 s"),
        ("seedance-1.0-pro", -1, "2-12 s"),
        ("seedance-1.0-lite-t2v", 13, "2-12 s"),
    ],
)
def test_duration_bounds_per_tier(model: str, duration: int, allowed: str) -> None:
    err = refused(model=model, duration=duration)
    assert_error(err, "duration", model, names=(f"duration={duration}", allowed))
    assert err.allowed == allowed


def test_duration_bounds_accept_the_edges() -> None:
    assert build(duration=4).duration == 4 and build(duration=15).duration == 15
    assert build(model="seedance-1.5-pro", duration=12).duration == 12
    assert build(provider=INK, model="seedance-1.5-pro", duration=10).duration == 10
    err = refused(INK, model="seedance-1.5-pro", duration=7)
    assert_error(err, "duration", "seedance-1.5-pro", provider="seedance2ink", names=("5 or 10 s",))


@pytest.mark.parametrize("bad", [4.5, "five", True, None.__class__, "²", "1²", "-"])
def test_duration_must_be_whole_seconds(bad: Any) -> None:
    err = refused(duration=bad)
    assert_error(err, "duration", "seedance-2.0", names=("whole number", "4-15 s"))


@pytest.mark.parametrize(
    ("model", "resolution", "allowed"),
    [
        ("seedance-2.0-fast", "1080p", "480p, 720p"),
        ("seedance-1.0-lite-i2v", "1080p", "480p, 720p"),
        ("seedance-1.5-pro", "4k", "480p, 720p, 1080p"),
        ("seedance-2.0", "360p", "480p, 720p, 1080p, 4k"),
    ],
)
def test_resolution_per_tier(model: str, resolution: str, allowed: str) -> None:
    kw: dict[str, Any] = {"first_frame": IMG} if model == "seedance-1.0-lite-i2v" else {}
    err = refused(model=model, resolution=resolution, **kw)
    assert_error(err, "resolution", model, names=(repr(resolution), allowed))


def test_4k_only_on_ark_2_0() -> None:
    assert build(resolution="4k").size == (3840, 2160)
    assert refused(EVOLINK, resolution="4k").field == "resolution"


@pytest.mark.parametrize("ratio", ["5:4", "16x9", "portrait"])
def test_ratio_outside_the_table(ratio: str) -> None:
    err = refused(ratio=ratio)
    assert_error(
        err,
        "ratio",
        "seedance-2.0",
        names=(repr(ratio), "16:9, 4:3, 1:1, 3:4, 9:16, 21:9, adaptive"),
    )


def test_gateway_ratios_are_narrower() -> None:
    err = refused(INK, ratio="4:3")
    assert_error(
        err, "ratio", "seedance-2.0", provider="seedance2ink", names=("'4:3'", "16:9, 9:16, 1:1")
    )
    err = refused(COMET, ratio="adaptive")
    assert err.field == "ratio" and "adaptive" not in err.allowed


@pytest.mark.parametrize(
    "model", ["seedance-1.0-pro", "seedance-1.0-pro-fast", "seedance-1.0-lite-t2v"]
)
def test_generate_audio_on_a_silent_tier(model: str) -> None:
    err = refused(model=model, duration=5, generate_audio=True)
    assert_error(
        err, "generate_audio", model, names=("True", "cannot generate audio", "Allowed: False")
    )
    # asking for silence on a silent tier is fine (nothing to switch)
    assert build(model=model, generate_audio=False).generate_audio is None


def test_generate_audio_must_be_boolean() -> None:
    err = refused(generate_audio="yes")
    assert_error(err, "generate_audio", "seedance-2.0", names=("'yes'", "True, False"))
    assert build(generate_audio=False).generate_audio is False
    assert build(model="seedance-1.5-pro").generate_audio is True


def test_camera_fixed_is_refused_on_2_0_and_accepted_on_1_x() -> None:
    for model in ("seedance-2.0", "seedance-2.0-fast"):
        err = refused(model=model, camera_fixed=True)
        assert_error(err, "camera_fixed", model, names=("True", "does not take camera_fixed"))
        assert "camera_fixed" not in err.allowed and "seed" in err.allowed
    assert build(model="seedance-1.0-pro", camera_fixed=True).camera_fixed is True
    err = refused(model="seedance-1.0-pro", camera_fixed="yes")
    assert_error(err, "camera_fixed", "seedance-1.0-pro", names=("'yes'", "True, False"))


def test_service_tier_flex_not_on_2_0() -> None:
    err = refused(service_tier="flex")
    assert_error(err, "service_tier", "seedance-2.0", names=("'flex'", "Allowed: default"))
    assert build(model="seedance-1.5-pro", service_tier="flex").service_tier == "flex"
    err = refused(model="seedance-1.5-pro", service_tier="turbo")
    assert_error(err, "service_tier", "seedance-1.5-pro", names=("'turbo'", "default, flex"))


def test_gateway_without_optional_parameters() -> None:
    err = refused(COMET, seed=7)
    assert_error(
        err,
        "seed",
        "seedance-2.0",
        provider="cometapi",
        names=("seed=7", "none of the optional parameters"),
    )
    err = refused(EVOLINK, watermark=True)
    assert_error(err, "watermark", "seedance-2.0", provider="evolink", names=("callback_url",))


@pytest.mark.parametrize("seed", [-2, 2**32, True, 1.5])
def test_seed_range(seed: Any) -> None:
    err = refused(seed=seed)
    assert_error(err, "seed", "seedance-2.0", names=(repr(seed), "-1 (random) to 4294967295"))


def test_seed_edges_accepted() -> None:
    assert build(seed=-1).seed == -1 and build(seed=2**32 - 1).seed == 2**32 - 1


def test_boolean_switches_are_checked() -> None:
    for name in ("watermark", "return_last_frame"):
        err = refused(**{name: 1})
        assert_error(err, name, "seedance-2.0", names=(f"{name}=1", "True, False"))


def test_callback_urls() -> None:
    assert (
        build(callback_url="https://hooks.example.com/x").callback_url
        == "https://hooks.example.com/x"
    )
    err = refused(callback_url="ftp://example.com/x")
    assert_error(err, "callback_url", "seedance-2.0", names=("ftp://example.com/x", "https://"))
    for url in (
        "http://hooks.example.com/x",
        "https://127.0.0.1/x",
        "https://10.0.0.5/x",
        "https://localhost/x",
        "https://x.example.com/" + "a" * 2100,
    ):
        err = refused(EVOLINK, callback_url=url)
        assert err.field == "callback_url" and err.provider == "evolink", url


def test_unknown_provider_option() -> None:
    err = refused(options={"turbo": 1})
    assert_error(
        err,
        "options.turbo",
        "seedance-2.0",
        names=("unknown provider option", "execution_expires_after", "priority"),
    )
    r = build(options={"execution_expires_after": 7200})
    assert r.options == {"execution_expires_after": 7200}


# ----------------------------------------------------------------------------- modes


def test_modes_from_attached_media() -> None:
    assert build(first_frame=IMG).mode == "first_frame"
    assert build(first_frame=IMG, last_frame=IMG2).mode == "first_last"
    r = build("[Image 1] and [Video 1] with [Audio 1]", images=[IMG], videos=[VID], audios=[AUD])
    assert r.mode == "reference"
    assert [(m.kind, m.role) for m in r.media] == [
        ("image", "reference_image"),
        ("video", "reference_video"),
        ("audio", "reference_audio"),
    ]
    r = build(first_frame=IMG, last_frame=IMG2)
    assert [m.role for m in r.media] == ["first_frame", "last_frame"]


def test_a_single_reference_may_be_passed_without_a_list() -> None:
    r = build("[Image 1]", images=IMG)
    assert len(r.images) == 1 and r.images[0].url == IMG


def test_last_frame_without_first() -> None:
    err = refused(last_frame=IMG)
    assert_error(err, "last_frame", "seedance-2.0", names=(IMG, "first_frame alone"))


@pytest.mark.parametrize("kind", ["images", "videos", "audios"])
def test_modes_never_mix(kind: str) -> None:
    media = {"images": [IMG2], "videos": [VID], "audios": [AUD]}[kind]
    extra = {"images": [IMG2]} if kind == "audios" else {}
    err = refused(first_frame=IMG, **{kind: media}, **extra)
    assert_error(
        err,
        "images" if extra else kind,
        "seedance-2.0",
        names=("never mix", "no reference media with first_frame"),
    )


def test_audio_never_goes_alone() -> None:
    err = refused(audios=[AUD])
    assert_error(
        err, "audios", "seedance-2.0", names=("audios=1", "never goes alone", "image or video")
    )
    assert build("[Video 1] [Audio 1]", videos=[VID], audios=[AUD]).mode == "reference"


@pytest.mark.parametrize(
    ("model", "kw", "mode", "allowed"),
    [
        ("seedance-1.0-lite-t2v", {"first_frame": IMG}, "first_frame", "text-to-video"),
        (
            "seedance-1.0-lite-i2v",
            {},
            "text",
            "first-frame image-to-video, first+last-frame image-to-video, multimodal reference",
        ),
        (
            "seedance-1.0-pro-fast",
            {"first_frame": IMG, "last_frame": IMG2},
            "first_last",
            "text-to-video, first-frame image-to-video, multimodal reference",
        ),
    ],
)
def test_mode_not_supported_by_tier(
    model: str, kw: dict[str, Any], mode: str, allowed: str
) -> None:
    err = refused(model=model, **kw)
    assert_error(err, "mode", model, names=(repr(mode), allowed))


def test_gateway_modes() -> None:
    err = refused(COMET, first_frame=IMG, last_frame=IMG2)
    assert_error(err, "mode", "seedance-2.0", provider="cometapi", names=("first+last",))


@pytest.mark.parametrize(
    ("model", "kind", "allowed"),
    [
        ("seedance-1.5-pro", "videos", "reference kinds: image"),
        ("seedance-1.0-pro", "audios", "reference kinds: image"),
    ],
)
def test_reference_kinds_per_tier(model: str, kind: str, allowed: str) -> None:
    extra = {"images": [IMG]} if kind == "audios" else {}
    media = [VID] if kind == "videos" else [AUD]
    err = refused(model=model, duration=5, **{kind: media}, **extra)
    assert_error(err, kind, model, names=(f"{kind}=1", allowed))


@pytest.mark.parametrize(
    ("model", "kind", "count", "most"),
    [
        ("seedance-2.0", "images", 10, 9),
        ("seedance-1.5-pro", "images", 5, 4),
        ("seedance-1.0-pro", "images", 5, 4),
        ("seedance-2.0", "videos", 4, 3),
        ("seedance-2.0", "audios", 4, 3),
    ],
)
def test_reference_counts_per_tier(model: str, kind: str, count: int, most: int) -> None:
    url = {"images": IMG, "videos": VID, "audios": AUD}[kind]
    extra = {"videos": [VID]} if kind == "audios" else {}
    err = refused(model=model, **{kind: [url] * count}, **extra)
    assert_error(err, kind, model, names=(f"{kind}={count}", f"at most {most}"))
    # one fewer is fine
    build(model=model, **{kind: [url] * most}, **extra)


def test_total_media_cap_on_a_gateway() -> None:
    err = refused(INK, images=[IMG] * 4, videos=[VID] * 2)
    assert_error(
        err, "media", "seedance-2.0", provider="seedance2ink", names=("media=6", "at most 5")
    )


# ----------------------------------------------------------------------------- prompt references


def test_reference_pointing_at_nothing() -> None:
    err = refused(prompt="[Image 1] then [Image 2]", images=[IMG])
    assert_error(
        err,
        "prompt",
        "seedance-2.0",
        names=("'[Image 2]'", "points at nothing", "1 image attached", "Allowed: [Image 1]"),
    )
    err = refused(prompt="[Video 1] dances", images=[IMG])
    assert_error(err, "prompt", "seedance-2.0", names=("'[Video 1]'", "0 videos attached"))
    err = refused(prompt="[Audio 2] hums", images=[IMG], audios=[AUD])
    assert_error(err, "prompt", "seedance-2.0", names=("'[Audio 2]'", "[Image 1]; [Audio 1]"))
    err = refused(prompt="a boat like [Image 1]")
    assert_error(err, "prompt", "seedance-2.0", names=("nothing is attached",))
    err = refused(prompt="[Image 0] waves", images=[IMG])
    assert_error(err, "prompt", "seedance-2.0", names=("'[Image 0]'", "count from 1"))


def test_frames_count_as_images_for_references() -> None:
    r = build("from [Image 1] to [Image 2]", first_frame=IMG, last_frame=IMG2)
    assert r.mode == "first_last"
    assert refused(prompt="[Image 3]", first_frame=IMG, last_frame=IMG2).field == "prompt"


def test_unused_reference_media_warns() -> None:
    with pytest.warns(
        SeedanceWarning, match=r"\[Video 1\] is attached but the prompt never names it"
    ):
        request, notes = build_request(ARK, "[Image 1] walks", images=[IMG], videos=[VID])
    assert notes == ["[Video 1] is attached but the prompt never names it"]
    assert request.mode == "reference"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, notes = build_request(ARK, "[Image 1] walks", images=[IMG], warn=False)
        assert notes == []
        # frames need no naming: the mode says what they are
        _, notes = build_request(ARK, "a boat", first_frame=IMG)
        assert notes == []


# ----------------------------------------------------------------------------- local media


def test_local_png_first_frame_is_probed(media: Any) -> None:
    path = media.png(size=(640, 360))
    r = build(first_frame=path)
    ff = r.first_frame
    assert ff is not None and ff.is_local and ff.path == str(path.resolve())
    assert (ff.format, ff.width, ff.height) == ("png", 640, 360)
    assert ff.size_bytes == path.stat().st_size and len(ff.sha256 or "") == 64
    assert ff.data_url().startswith("data:image/png;base64,")


def test_missing_local_file(tmp_path: Path) -> None:
    err = refused(first_frame=tmp_path / "nope.png")
    assert err.field == "first_frame"
    assert "no such file" in str(err) and "nope.png" in str(err)


def test_not_an_image(media: Any) -> None:
    path = media.dir / "notes.png"
    path.write_text("definitely not a PNG")
    err = refused(images=[path], prompt="[Image 1]")
    assert err.field == "images[0]"
    assert "notes.png" in str(err) and "not an image" in str(err) and "png" in err.allowed


@pytest.mark.parametrize("size", [(299, 400), (400, 200)])
def test_image_too_small(media: Any, size: tuple[int, int]) -> None:
    path = media.png(size=size)
    err = refused(first_frame=path)
    w, h = size
    assert_error(
        err,
        "first_frame",
        "seedance-2.0",
        names=(f"{w}×{h} px", "each side 300-6000 px", "frame.png"),
    )


@pytest.mark.parametrize("size", [(1600, 600), (300, 800)])
def test_image_bad_aspect(media: Any, size: tuple[int, int]) -> None:
    path = media.png(size=size)
    err = refused(prompt="[Image 1]", images=[path])
    assert_error(
        err, "reference_image", "seedance-2.0", names=(f"{size[0] / size[1]:.2f}", "0.4-2.5")
    )


def test_image_aspect_edges_accepted(media: Any) -> None:
    assert build(first_frame=media.png("a.png", (1000, 400))).first_frame.width == 1000  # 2.5
    assert build(first_frame=media.png("b.png", (320, 800))).first_frame.height == 800  # 0.4


def test_bytes_and_pil_images_become_content_addressed_files(tmp_path: Path) -> None:
    from conftest import png_bytes
    from PIL import Image

    data = png_bytes((500, 400))
    r = build(first_frame=data, workdir=tmp_path)
    ff = r.first_frame
    assert ff.source == "<bytes>" and ff.path.startswith(str(tmp_path / "inputs"))
    assert Path(ff.path).read_bytes() == data
    r2 = build(first_frame=Image.new("RGB", (500, 400), (200, 80, 40)), workdir=tmp_path)
    assert r2.first_frame.source == "<PIL image>" and r2.first_frame.width == 500
    assert r2.digest("x") == r.digest("x")  # same pixels, same PNG bytes, same request


def test_local_video_on_ark_is_refused_with_a_clear_message(media: Any) -> None:
    path = media.video(seconds=2.5)
    err = refused(prompt="[Video 1]", videos=[path])
    assert_error(
        err,
        "reference_video",
        "seedance-2.0",
        names=("clip.mp4", "local video cannot travel", "upload it", "asset://ID"),
    )


def test_local_audio_on_ark_is_refused(media: Any) -> None:
    err = refused(prompt="[Image 1] [Audio 1]", images=[IMG], audios=[media.wav()])
    assert_error(err, "reference_audio", "seedance-2.0", names=("voice.wav", "local audio"))


@pytest.mark.parametrize("provider", [EVOLINK, INK])
def test_url_only_gateways_refuse_local_and_data_media(
    media: Any, provider: catalog.Provider
) -> None:
    err = refused(provider, prompt="[Image 1]", images=[media.png()])
    assert err.field == "reference_image" and err.provider == provider.name
    assert "public URLs" in str(err) and "https:// URLs" in err.allowed
    err = refused(provider, prompt="[Image 1]", images=[png_data_url()])
    assert err.field == "reference_image" and "is local" in str(err)


def test_asset_ids_only_on_ark() -> None:
    r = build("[Video 1]", videos=["asset://asset-123"])
    assert r.videos[0].url == "asset://asset-123"
    err = refused(EVOLINK, prompt="[Video 1]", videos=["asset://asset-123"])
    assert_error(
        err,
        "reference_video",
        "seedance-2.0",
        provider="evolink",
        names=("asset://asset-123", "Ark's asset library"),
    )


def test_data_url_images() -> None:
    url = png_data_url()
    r = build("[Image 1]", images=[url])
    ref = r.images[0]
    assert ref.url == url and ref.format == "png" and not ref.is_local
    assert ref.data_url() == url and ref.short().endswith("…") and len(ref.short()) == 31
    err = refused(prompt="[Image 1]", images=["data:image/svg+xml;base64,PHN2Zz4="])
    assert_error(err, "reference_image", "seedance-2.0", names=("svg+xml", "png"))
    err = refused(prompt="[Image 1]", images=["data:text/plain;base64,aGk="])
    assert err.field == "images[0]" and "data:image/" in str(err)


def test_remote_formats_by_extension() -> None:
    r = build("[Video 1]", videos=["https://example.com/clip.mov?sig=1"])
    assert r.videos[0].format == "mov"
    # an extension we do not know says nothing (signed URLs often have none): not judged
    r = build("[Video 1]", videos=["https://example.com/clip.avi?sig=1"])
    assert r.videos[0].format is None
    err = refused(prompt="[Image 1]", images=["ftp://example.com/a.png"])
    assert err.field == "images[0]" and "'ftp://example.com/a.png'" in str(err)


@pytest.mark.parametrize(
    ("seconds", "fps", "size", "names"),
    [
        (1.0, 24, (64, 64), ("lasts 1.00 s", "2-15 s each")),
        (16.0, 24, (64, 64), ("lasts 16.00 s", "2-15 s each")),
        (3.0, 12, (64, 64), ("12.0 fps", "24-60 fps")),
        (2.5, 24, (320, 240), ("320×240", "409,600-2,086,876 pixels")),
    ],
)
def test_local_video_bounds(
    media: Any, seconds: float, fps: int, size: tuple[int, int], names: tuple[str, ...]
) -> None:
    path = media.video(seconds=seconds, fps=fps, size=size)
    err = refused(UPLOADER, prompt="[Video 1]", videos=[path])
    assert_error(
        err, "reference_video", "seedance-2.0", provider="uploader", names=("clip.mp4", *names)
    )


def test_local_video_within_bounds_is_probed(media: Any) -> None:
    path = media.video(seconds=2.5, fps=24, size=(640, 640))
    r = build("[Video 1]", provider=UPLOADER, videos=[path])
    v = r.videos[0]
    assert (v.format, v.width, v.height) == ("mp4", 640, 640)
    assert v.fps == pytest.approx(24.0) and v.duration == pytest.approx(2.5, abs=0.1)


def test_total_reference_video_length(media: Any) -> None:
    a = media.video("a.mp4", seconds=8.0, size=(640, 640))
    b = shutil.copy(a, media.dir / "b.mp4")
    err = refused(UPLOADER, prompt="[Video 1] [Video 2]", videos=[a, b])
    assert_error(
        err,
        "videos",
        "seedance-2.0",
        provider="uploader",
        names=("16.0 s together", "at most 15 s in total"),
    )


def test_local_audio_bounds(media: Any) -> None:
    err = refused(
        UPLOADER, prompt="[Image 1] [Audio 1]", images=[IMG], audios=[media.wav(seconds=1.0)]
    )
    assert_error(
        err,
        "reference_audio",
        "seedance-2.0",
        provider="uploader",
        names=("voice.wav", "lasts 1.00 s", "2-15 s"),
    )
    r = build(
        "[Image 1] [Audio 1]", provider=UPLOADER, images=[IMG], audios=[media.wav("ok.wav", 3.0)]
    )
    assert r.audios[0].format == "wav" and r.audios[0].duration == pytest.approx(3.0, abs=0.05)


def test_not_a_video(media: Any) -> None:
    path = media.dir / "clip.mp4"
    path.write_bytes(b"\x00" * 100)
    err = refused(UPLOADER, prompt="[Video 1]", videos=[path])
    assert err.field == "videos[0]" and "not a video file" in str(err) and err.allowed == "mp4, mov"


# ----------------------------------------------------------------------------- digest


def test_digest_is_stable_and_hex() -> None:
    a, b = build(seed=5), build(seed=5)
    assert a.digest("ark|https://x") == b.digest("ark|https://x")
    assert len(a.digest("r")) == 64 and int(a.digest("r"), 16) >= 0
    # whitespace around the prompt is not a different request
    assert build("  a paper boat on a rainy street\n").digest("r") == build().digest("r")
    # the route is part of the identity: another endpoint is another job
    assert a.digest("ark|https://a") != a.digest("ark|https://b")


@pytest.mark.parametrize(
    "change",
    [
        {"prompt": "a different boat"},
        {"model": "seedance-2.0-fast"},
        {"ratio": "1:1"},
        {"resolution": "480p"},
        {"duration": 6},
        {"generate_audio": False},
        {"seed": 6},
        {"watermark": True},
        {"return_last_frame": True},
        {"options": {"priority": 1}},
        {"first_frame": IMG},
        {"first_frame": IMG2},
        {"images": [IMG]},
        {"videos": [VID]},
    ],
)
def test_digest_changes_with_every_field(change: dict[str, Any]) -> None:
    base = {"prompt": "a paper boat", "seed": 5}
    assert build(**{**base, **change}).digest("r") != build(**base).digest("r")


def test_callback_url_is_delivery_not_identity() -> None:
    # a receiver restarted on another port or token must not make a re-run a second paid task
    base = build(prompt="a paper boat", seed=5)
    moved = build(prompt="a paper boat", seed=5, callback_url="https://hooks.example.com/cb/x1")
    assert moved.digest("r") == base.digest("r")
    assert moved.callback_url == "https://hooks.example.com/cb/x1"


def test_digest_sensitive_to_camera_fixed_and_service_tier() -> None:
    base = build(model="seedance-1.0-pro")
    assert build(model="seedance-1.0-pro", camera_fixed=True).digest("r") != base.digest("r")
    assert build(model="seedance-1.0-pro", service_tier="flex").digest("r") != base.digest("r")
    assert build(model="seedance-1.0-pro", service_tier="default").digest("r") != base.digest("r")


def test_digest_follows_media_content_not_path(media: Any) -> None:
    a = media.png("a.png", color=(1, 2, 3))
    b = shutil.copy(a, media.dir / "copy.png")
    c = media.png("c.png", color=(9, 9, 9))
    assert build(first_frame=a).digest("r") == build(first_frame=b).digest("r")
    assert build(first_frame=a).digest("r") != build(first_frame=c).digest("r")
    canon = build(first_frame=a).canonical()
    assert canon["media"] == [
        {
            "kind": "image",
            "role": "first_frame",
            "id": "sha256:" + build(first_frame=a).first_frame.sha256,
        }
    ]
    assert "first_frame" not in canon  # bytes and paths never enter the hash


def test_digest_order_of_references_matters() -> None:
    one = build("[Image 1] [Image 2]", images=[IMG, IMG2])
    two = build("[Image 1] [Image 2]", images=[IMG2, IMG])
    assert one.digest("r") != two.digest("r")
