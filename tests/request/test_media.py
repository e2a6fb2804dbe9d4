"""Reference media: URLs, data: URLs, asset ids, local files, bytes and Pillow images."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import png_bytes, png_data_url, wav_bytes

from seedance_nb.errors import InvalidRequest
from seedance_nb.request.media import MediaRef, guess_mime, probe_av, probe_image, resolve_media


def resolve(value: Any, kind: str = "image", **kw: Any) -> MediaRef:
    return resolve_media(value, kind, "reference_" + kind, field="f", **kw)  # type: ignore[arg-type]


def test_https_url_keeps_the_url_and_guesses_format_from_the_path() -> None:
    ref = resolve("https://cdn.example.com/x/cat.JPG?sig=abc&e=1")
    assert (ref.url, ref.format, ref.is_local) == (
        "https://cdn.example.com/x/cat.JPG?sig=abc&e=1",
        "jpeg",
        False,
    )
    assert ref.identity == ref.url
    assert resolve("http://example.com/v.mov", "video").format == "mov"
    assert resolve("https://example.com/noext", "audio").format is None


def test_asset_ids() -> None:
    ref = resolve("asset://asset-42", "video")
    assert (
        ref.url == "asset://asset-42" and ref.identity == "asset://asset-42" and ref.format is None
    )


def test_data_urls() -> None:
    url = png_data_url()
    ref = resolve(url)
    assert ref.url == url and ref.format == "png" and ref.data_url() == url
    assert resolve("data:audio/mp3;base64,AAAA", "audio").format == "mp3"
    with pytest.raises(InvalidRequest, match="must start with data:video/") as info:
        resolve(url, "video")
    assert info.value.field == "f"


@pytest.mark.parametrize("value", ["ftp://host/a.png", "s3://bucket/a.png", "gs://b/x.png"])
def test_unsupported_schemes(value: str) -> None:
    # Refused before any network call, naming the value and the scheme.
    with pytest.raises(InvalidRequest) as info:
        resolve(value)
    assert info.value.value == value and repr(value) in str(info.value)
    assert f"{value.split('://')[0]}://, which is not supported" in str(info.value)


@pytest.mark.parametrize("value", [None, 12, "", "   ", 3.5])
def test_not_a_medium(value: Any) -> None:
    with pytest.raises(InvalidRequest, match="expected a URL, a local path"):
        resolve(value)


def test_local_file_is_probed_and_hashed(media: Any) -> None:
    path = media.png(size=(512, 384))
    ref = resolve(path)
    assert ref.path == str(path.resolve()) and ref.source == str(path)
    assert (ref.format, ref.width, ref.height, ref.size_bytes) == (
        "png",
        512,
        384,
        path.stat().st_size,
    )
    assert ref.identity == f"sha256:{ref.sha256}"
    assert ref.read_bytes() == path.read_bytes()
    assert ref.data_url().startswith("data:image/png;base64,")


def test_file_scheme_and_relative_paths(
    media: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = media.png("rel.png")
    assert resolve(f"file://{path}").path == str(path.resolve())
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.chdir(other)
    assert resolve("rel.png", workdir=tmp_path).path == str(path.resolve())  # found in workdir
    with pytest.raises(InvalidRequest, match=r"no such file 'rel\.png'"):
        resolve("rel.png")


def test_a_home_of_no_such_user_is_a_missing_file() -> None:
    # Hypothesis found "~0": Path.expanduser raised RuntimeError instead of naming the field
    with pytest.raises(InvalidRequest, match=r"no such file '~0'") as info:
        resolve("~0")
    assert info.value.field == "f"


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest, match="no such file") as info:
        resolve(tmp_path / "gone.png")
    assert info.value.field == "f"
    with pytest.raises(InvalidRequest, match="is not a file"):
        resolve(tmp_path)


def test_probe_can_be_skipped(media: Any) -> None:
    path = media.dir / "fake.png"
    path.write_text("not an image")
    ref = resolve(path, probe=False)
    assert ref.format == "png" and ref.width is None  # extension only, file untouched
    with pytest.raises(InvalidRequest, match="not an image Pillow can read"):
        resolve(path)


def test_bytes_are_stored_content_addressed(tmp_path: Path) -> None:
    data = png_bytes((320, 320))
    one = resolve(data, workdir=tmp_path)
    two = resolve(bytearray(data), workdir=tmp_path)
    assert one.path == two.path and one.sha256 == two.sha256 and one.source == "<bytes>"
    assert Path(one.path).parent == tmp_path / "inputs" and Path(one.path).read_bytes() == data
    assert sorted(p.name for p in (tmp_path / "inputs").iterdir()) == [f"{one.sha256[:16]}.image"]


def test_pil_image(tmp_path: Path) -> None:
    from PIL import Image

    ref = resolve(Image.new("RGB", (333, 444), "red"), workdir=tmp_path)
    assert (ref.source, ref.format, ref.width, ref.height) == ("<PIL image>", "png", 333, 444)


def test_jpeg_is_named_jpeg(media: Any) -> None:
    path = media.dir / "x.jpg"
    path.write_bytes(png_bytes((400, 300), fmt="JPEG"))
    info = probe_image(path, "f")
    assert info == {"format": "jpeg", "width": 400, "height": 300}


def test_probe_video(media: Any) -> None:
    path = media.video(seconds=3.0, fps=30, size=(640, 640))
    info = probe_av(path, "video", "f")
    assert info["format"] == "mp4" and (info["width"], info["height"]) == (640, 640)
    assert info["fps"] == pytest.approx(30.0)
    assert info["duration"] == pytest.approx(3.0, abs=0.1)


def test_probe_audio(media: Any) -> None:
    info = probe_av(media.wav(seconds=2.5), "audio", "f")
    assert info["format"] == "wav" and info["duration"] == pytest.approx(2.5, abs=0.05)


def test_probe_wrong_kind(media: Any, tmp_path: Path) -> None:
    wav = tmp_path / "a.mp4"
    wav.write_bytes(wav_bytes(3.0))
    with pytest.raises(InvalidRequest, match="has no video stream"):
        probe_av(wav, "video", "f")
    # Fixed bytes, not random ones: about one random 64-byte blob in 300 probes as some
    # format (then the message is "has no audio stream"), which made this test flaky.
    bad = tmp_path / "x.wav"
    bad.write_bytes(b"this is a text file, not audio\n" * 4)
    with pytest.raises(InvalidRequest, match="not an audio file PyAV can read"):
        probe_av(bad, "audio", "f")


def test_short_keeps_messages_readable() -> None:
    long = "https://example.com/" + "a" * 200 + ".png"
    ref = resolve(long)
    assert len(ref.short()) == 58 and ref.short().startswith("…") and ref.short().endswith(".png")


def test_read_bytes_needs_a_local_file() -> None:
    with pytest.raises(ValueError, match="only local media"):
        resolve("https://example.com/a.png").read_bytes()


def test_guess_mime() -> None:
    assert (
        guess_mime("a.mp4") == "video/mp4"
        and guess_mime("a.unknownext") == "application/octet-stream"
    )
