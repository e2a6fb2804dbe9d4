"""``register_asset``: a local file becomes an ``asset://`` id on the emulator, never on Ark.

Over a real socket: a PNG is registered, a job references the returned id, and the video the
emulator renders shows the asset. On a real provider the helper refuses before any network
call (on Ark, assets are made in the account's asset library; the gateways take no ids).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from conftest import png_bytes, write_png

import seedance_nb as sd
from seedance_nb import catalog
from seedance_nb.emulator import Emulator
from seedance_nb.engine.assets import Asset, register_asset, sniff_content_type
from seedance_nb.errors import (
    APIError,
    AuthenticationError,
    BadResponseError,
    InvalidRequest,
)
from seedance_nb.request import build_request


def no_network() -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """An HTTP client that records (and fails) every request it is asked to send."""
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler)), sent


def first_frame(path: Path) -> Any:
    with av.open(str(path)) as c:
        return next(iter(c.decode(video=0))).to_ndarray(format="rgb24")


def test_register_a_png_on_the_emulator_root_url(emulator: Emulator, tmp_path: Path) -> None:
    png = write_png(tmp_path / "green.png", (500, 400), (20, 210, 40))
    asset = asyncio.run(register_asset(emulator.base_url, png))
    assert asset.id.startswith("asset-") and asset.url == f"asset://{asset.id}"
    assert (asset.content_type, asset.size, asset.filename) == (
        "image/png",
        png.stat().st_size,
        "green.png",
    )
    assert str(asset) == asset.url
    stored = emulator.service.store.asset(asset.id)
    assert stored is not None and stored["filename"] == "green.png"
    assert emulator.service.store.blob(stored["sha256"]) == png.read_bytes()


def test_a_registered_asset_is_drawn_into_a_submitted_video(
    client: sd.Client, tmp_path: Path
) -> None:
    """The issue's loop: register a real PNG, submit a request naming it, get a video."""
    png = write_png(tmp_path / "green.png", (500, 500), (20, 210, 40))
    asset = client.register_asset(png)  # the client's own method, as the README shows
    job = client.generate(
        "[Image 1] on a quiet table",
        images=[asset],
        ratio="16:9",
        resolution="480p",
        duration=4,
        timeout=120,
    )
    assert job.status == "succeeded" and job.video_path is not None
    assert job.request.images[0].url == asset.url
    frame = first_frame(Path(job.video_path))
    green = (frame[..., 1] > 170) & (frame[..., 0] < 80) & (frame[..., 2] < 90)
    assert green.mean() > 0.03  # the reference card shows the asset's colour


def test_mount_urls_bytes_and_pillow_images(emulator: Emulator) -> None:
    from PIL import Image

    for prefix in ("/api/v3", "/volcengine/api/v3", "/seedance2ink/api/open/v1/"):
        asset = asyncio.run(register_asset(emulator.base_url + prefix, png_bytes()))
        assert emulator.service.store.asset(asset.id) is not None, prefix
        assert asset.filename is None and asset.content_type == "image/png"
    asset = asyncio.run(register_asset(emulator.base_url, Image.new("RGB", (320, 320), "red")))
    assert asset.filename == "image.png" and asset.content_type == "image/png"


def test_an_asset_is_a_reference_like_its_url() -> None:
    ark = catalog.PROVIDERS["ark"]
    asset = Asset(id="asset-1", url="asset://asset-1", content_type="image/png", size=3)
    request, _ = build_request(ark, "[Image 1]", images=[asset], warn=False)
    assert request.images[0].url == "asset://asset-1"


def test_a_key_the_emulator_wants_is_sent_and_never_shown(tmp_path: Path) -> None:
    with Emulator(tmp_path / "emu", api_key="sk-emulator-secret") as emu:
        with pytest.raises(AuthenticationError) as info:
            asyncio.run(register_asset(emu.base_url, png_bytes()))
        assert "sk-emulator-secret" not in str(info.value)
        asset = asyncio.run(register_asset(emu.base_url, png_bytes(), api_key="sk-emulator-secret"))
        assert emu.service.store.asset(asset.id) is not None
        with sd.Client(
            "emulator",
            api_key="sk-emulator-secret",
            base_url=emu.base_url + "/api/v3",
            workdir=tmp_path / "w",
        ) as c:
            assert emu.service.store.asset(asyncio.run(register_asset(c, png_bytes())).id)


@pytest.mark.parametrize("name", ["ark", "volcengine"])
def test_real_ark_refuses_before_any_network_call_and_says_where_assets_come_from(
    name: str, tmp_path: Path
) -> None:
    http, sent = no_network()
    png = write_png(tmp_path / "a.png")
    with sd.Client(name, api_key="sk-real-looking", workdir=tmp_path / "w") as c:
        assert not c.emulated
        with pytest.raises(InvalidRequest) as info:
            asyncio.run(register_asset(c, png, http=http))
    text = str(info.value)
    assert sent == [] and info.value.provider == name
    assert "asset library" in text and "ModelArk console" in text and "asset://" in text
    assert catalog.PROVIDERS[name].label in text and "emulator" in text
    assert "sk-real-looking" not in text
    with pytest.raises(InvalidRequest, match="asset library"):
        asyncio.run(register_asset(catalog.PROVIDERS[name].base_url, png, http=http))
    assert sent == []


@pytest.mark.parametrize("name", ["orcarouter", "cometapi", "evolink", "seedance2ink"])
def test_gateways_refuse_because_they_cannot_resolve_asset_ids(
    name: str, tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    http, sent = no_network()
    label = catalog.PROVIDERS[name].label
    with sd.Client(name, api_key="sk-x", workdir=tmp_path / "real") as c:
        with pytest.raises(InvalidRequest, match=f"{label} cannot resolve them"):
            asyncio.run(register_asset(c, png_bytes(), http=http))
    monkeypatch.setenv("SEEDANCE_EMULATOR_URL", emulator.base_url)
    with sd.Client(name, workdir=tmp_path / "emulated") as c:  # no key: the emulator
        assert c.emulated
        with pytest.raises(InvalidRequest, match="asset:// ids are Ark's"):
            asyncio.run(register_asset(c, png_bytes(), http=http))
    assert sent == []


def test_what_is_not_a_local_medium_is_refused_clearly(tmp_path: Path) -> None:
    http, sent = no_network()
    base = "http://127.0.0.1:9"
    for media, phrase in (
        (tmp_path / "missing.png", "no such file"),
        ("https://cdn.example.com/a.png", "already a reference"),
        ("asset://asset-1", "already a reference"),
        (b"", "empty"),
        (12, "expected a local file path"),
    ):
        with pytest.raises(InvalidRequest, match=phrase):
            asyncio.run(register_asset(base, media, http=http))
    assert sent == []


def test_a_server_that_is_not_an_emulator(emulator: Emulator) -> None:
    with pytest.raises(APIError, match="not a seedance-nb emulator") as info:
        asyncio.run(register_asset(emulator.base_url + "/nothing-here", png_bytes()))
    assert info.value.status_code == 404
    for answer in (
        httpx.Response(200, text="<html>"),
        httpx.Response(200, json={"id": 3}),
        httpx.Response(200, json={"id": "a", "url": "asset://b"}),
    ):
        http = httpx.AsyncClient(transport=httpx.MockTransport(lambda _r, a=answer: a))
        with pytest.raises(BadResponseError):
            asyncio.run(register_asset("http://127.0.0.1:9", png_bytes(), http=http))


def test_content_types_are_sniffed_from_the_bytes() -> None:
    assert sniff_content_type(png_bytes()) == "image/png"
    assert sniff_content_type(png_bytes(fmt="JPEG"), "x.png") == "image/jpeg"
    assert sniff_content_type(png_bytes(fmt="WEBP")) == "image/webp"
    assert sniff_content_type(b"\x00\x00\x00\x18ftypmp42....") == "video/mp4"
    assert sniff_content_type(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff_content_type(b"???", "clip.mov") == "video/quicktime"
    assert sniff_content_type(b"???") == "application/octet-stream"


def test_the_async_client_registers_assets_too(aclient: sd.AsyncClient, tmp_path: Path) -> None:
    png = write_png(tmp_path / "blue.png", (400, 400), (20, 40, 210))

    async def go() -> sd.Asset:
        try:
            return await aclient.register_asset(png)
        finally:
            await aclient.aclose()

    asset = asyncio.run(go())
    assert asset.url.startswith("asset://")
