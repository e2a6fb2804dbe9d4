"""Every media and callback URL is checked before money is spent, for every provider.

A URL that no server could fetch (a space or line break inside, an unclosed IPv6 bracket, no
host, a port out of range) used to reach the provider, which then failed the paid task or
refused the create with its own less helpful words. ``build_request`` refuses it first, naming
the field (``images[0]``, ``first_frame``, ``callback_url``), the value, what is allowed, and
the model and provider.
"""

from __future__ import annotations

from typing import Any

import pytest
from conftest import png_data_url

from seedance_nb import catalog
from seedance_nb.errors import InvalidRequest
from seedance_nb.request import build_request
from seedance_nb.request.media import resolve_media, url_problem

PROVIDERS = sorted(catalog.PROVIDERS)
GOOD = "https://cdn.example.com/ok.png"

# (URL, a phrase the refusal must contain)
BAD_URLS = [
    ("https://cdn.example.com/my frame.jpg", "a space"),
    ("https://cdn.example.com/my\nframe.jpg", "a line break"),
    ("https://cdn.example.com/a.jpg\r\nX-Injected: 1", "a line break"),
    ("https://cdn.example.com/my\tframe.jpg", "a tab"),
    ("https://cdn.example.com/my\u00a0frame.jpg", "whitespace"),
    ("https://cdn.example.com/a\x00.jpg", "control character"),
    ("https://cdn.example.com/\u200ba.jpg", "invisible"),
    ("https://[2001:db8::1/a.jpg", "IPv6"),
    ("https://2001:db8::1]/a.jpg", "IPv6"),
    ("https://[2001:db8::1]x/a.jpg", "after the ]"),
    ("https://[not-an-ip]/a.jpg", "IPv6"),
    ("https://2001:db8::1/a.jpg", "brackets"),
    ("https:///a.jpg", "no host"),
    ("https://user@/a.jpg", "no host"),
    ("https:cdn.example.com/a.jpg", "no host"),
    ("https://cdn.example.com:99999/a.jpg", "port"),
    ("https://cdn.example.com:0/a.jpg", "port"),
    ("https://cdn.example.com:8o80/a.jpg", "port"),
    ("https://cdn..example.com/a.jpg", "empty label"),
    ("https://cdn.exa$mple.com/a.jpg", "'$'"),
    ("https://999.1.2.3/a.jpg", "IPv4"),
    ("https://cdn.example.com/50%off.jpg", "%25"),
]
GOOD_URLS = [
    "https://cdn.example.com/my%20frame.jpg",
    "https://cdn.example.com/a.jpg?X-Amz-Signature=ab%2Fcd&X-Amz-Expires=3600#t=1",
    "https://[2001:db8::1]/a.jpg",
    "https://[2001:db8::1]:8443/a.jpg",
    "http://127.0.0.1:8080/a.png",
    "http://localhost/a.png",
    "https://cdn.example.com:/a.png",
    "https://user:pw@cdn.example.com/a.png",
    "https://bücher.example/bild.png",
    "https://cdn.example.com/画像/猫.png",
    "https://cdn_1.example.com./a-b_c~d.png",
    "HTTPS://CDN.EXAMPLE.COM/A.PNG",
    "https://cdn.example.com/a.png?caption=50%&x=%E2%9C%93",
]


def offer_of(p: catalog.Provider) -> catalog.Offer:
    offer = p.offers.get(catalog.DEFAULT_TIER)
    assert offer is not None and offer.available, p.name
    return offer


def slots(p: catalog.Provider) -> list[tuple[str, str, dict[str, Any]]]:
    """(expected field, prompt, keyword arguments with BAD in the slot) the offer supports."""
    offer = offer_of(p)
    out: list[tuple[str, str, dict[str, Any]]] = [("first_frame", "a boat", {"first_frame": None})]
    if "first_last" in offer.modes:
        out.append(("last_frame", "a boat", {"first_frame": GOOD, "last_frame": None}))
    if "reference" in offer.modes:
        for kind in ("image", "video"):
            if kind in offer.reference_kinds:
                out.append((f"{kind}s[0]", f"[{kind.title()} 1]", {f"{kind}s": [None]}))
        if "audio" in offer.reference_kinds:
            out.append(("audios[0]", "[Image 1] [Audio 1]", {"images": [GOOD], "audios": [None]}))
    return out


def fill(kwargs: dict[str, Any], url: str) -> dict[str, Any]:
    return {k: ([url] if v == [None] else url if v is None else v) for k, v in kwargs.items()}


def refusal(p: catalog.Provider, prompt: str, **kw: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as info:
        build_request(p, prompt, warn=False, **kw)
    return info.value


def test_every_provider_has_a_media_slot_to_check() -> None:
    # guards the parametrisation below: a provider with no slot would be tested for nothing
    assert all(slots(catalog.PROVIDERS[name]) for name in PROVIDERS)
    assert {
        "ark",
        "volcengine",
        "emulator",
        "orcarouter",
        "cometapi",
        "evolink",
        "seedance2ink",
    } <= set(PROVIDERS)


@pytest.mark.parametrize("name", PROVIDERS)
@pytest.mark.parametrize(("url", "why"), BAD_URLS)
def test_bad_media_urls_are_refused_for_every_provider_and_field(
    name: str, url: str, why: str
) -> None:
    p = catalog.PROVIDERS[name]
    tier = offer_of(p).tier
    for field, prompt, kwargs in slots(p):
        err = refusal(p, prompt, **fill(kwargs, url))
        text = str(err)
        assert err.field == field, (field, text)
        assert err.provider == name and err.model == tier, text
        assert err.value == url.strip()
        assert text.startswith(f"{field}=") and repr(url.strip())[:30] in text, text
        assert why in text, (why, text)
        assert err.allowed and f"Allowed: {err.allowed}" in text and "http" in err.allowed
        assert tier in text and name in text, text


@pytest.mark.parametrize("name", PROVIDERS)
def test_well_formed_media_urls_still_pass(name: str) -> None:
    p = catalog.PROVIDERS[name]
    for url in GOOD_URLS:
        for _field, prompt, kwargs in slots(p):
            request, _ = build_request(p, prompt, warn=False, **fill(kwargs, url))
            assert url in [m.url for m in request.media]


def test_outer_whitespace_is_trimmed_not_refused() -> None:
    ark = catalog.PROVIDERS["ark"]
    request, _ = build_request(
        ark, "a boat", first_frame="  https://cdn.example.com/a.png\n", warn=False
    )
    assert request.first_frame is not None
    assert request.first_frame.url == "https://cdn.example.com/a.png"


CALLBACK_PROVIDERS = [
    n for n in PROVIDERS if "callback_url" in offer_of(catalog.PROVIDERS[n]).params
]


def test_some_providers_take_callbacks() -> None:
    assert {"ark", "evolink"} <= set(CALLBACK_PROVIDERS)


@pytest.mark.parametrize("name", CALLBACK_PROVIDERS)
@pytest.mark.parametrize(("url", "why"), BAD_URLS)
def test_bad_callback_urls_are_refused(name: str, url: str, why: str) -> None:
    p = catalog.PROVIDERS[name]
    err = refusal(p, "a boat", callback_url=url)
    text = str(err)
    assert err.field == "callback_url" and err.provider == name, text
    assert err.model == offer_of(p).tier and text.startswith("callback_url="), text
    assert why in text, (why, text)


@pytest.mark.parametrize("name", CALLBACK_PROVIDERS)
def test_good_callback_urls_pass_and_are_trimmed(name: str) -> None:
    p = catalog.PROVIDERS[name]
    url = "https://hooks.example.com/seedance?token=a%2Fb"
    request, _ = build_request(p, "a boat", callback_url=f" {url}\n", warn=False)
    assert request.callback_url == url


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("asset://", "empty"),
        ("asset://asset 1", "a space"),
        ("asset://asset-1\nx", "a line break"),
        ("asset://asset-1/extra", "'/'"),
        ("data:image/png;base64", "comma"),
        ("data:image/png;base64,", "empty"),
        ("data:image/png;base64,iVBO Rw0K", "a space"),
        ("data:image/png;base64,iVBO\nRw0K", "a line break"),
    ],
)
def test_bad_asset_ids_and_data_urls(value: str, why: str) -> None:
    with pytest.raises(InvalidRequest) as info:
        resolve_media(value, "image", "reference_image", field="images[2]")
    err = info.value
    assert err.field == "images[2]" and str(err).startswith("images[2]="), str(err)
    assert why in str(err) and err.allowed, str(err)


def test_asset_and_data_urls_that_are_well_formed_pass() -> None:
    assert (
        resolve_media(
            "asset://asset-20260222-ab_c.1", "video", "reference_video", field="videos[0]"
        ).url
        == "asset://asset-20260222-ab_c.1"
    )
    url = png_data_url()
    assert resolve_media(url, "image", "first_frame", field="first_frame").url == url


def test_url_problem_is_none_for_good_urls_and_a_reason_for_bad_ones() -> None:
    for url in GOOD_URLS:
        assert url_problem(url) is None, url
    for url, why in BAD_URLS:
        problem = url_problem(url)
        assert problem is not None and why in problem, (url, problem)
    assert "http" in (url_problem("ftp://cdn.example.com/a") or "")


def test_scheme_case_cannot_slip_an_asset_or_data_url_past_the_provider_checks() -> None:
    evolink = catalog.PROVIDERS["evolink"]
    err = refusal(evolink, "[Video 1]", videos=["ASSET://asset-1"])
    assert "asset library" in str(err)
    err = refusal(evolink, "[Image 1]", images=["DATA:" + png_data_url()[5:]])
    assert "is local" in str(err)
