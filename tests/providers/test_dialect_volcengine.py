"""Volcengine Ark is the Ark dialect with doubao-* ids; BytePlus ids must never reach it."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from seedance_nb import errors
from seedance_nb.catalog import PROVIDERS
from seedance_nb.engine.http import build_httpx_request
from seedance_nb.providers import dialect_for
from seedance_nb.providers.ark import ArkDialect
from seedance_nb.request import build_request

VOLC = PROVIDERS["volcengine"]
BYTEPLUS_IDS = [offer.model_id for offer in PROVIDERS["ark"].offers.values()]


async def no_fetch(url: str) -> bytes:
    raise AssertionError(f"the Ark dialect never downloads, yet fetched {url}")


def wire_body(model: str, **params: Any) -> tuple[str, dict[str, Any]]:
    request, _ = build_request(
        VOLC, "a junk boat on the Li river", model=model, warn=False, **params
    )
    dialect = dialect_for(VOLC)
    assert isinstance(dialect, ArkDialect)
    call = asyncio.run(dialect.create_call(request, no_fetch))
    req = build_httpx_request(call, VOLC.base_url)
    return str(req.url), json.loads(req.content)


@pytest.mark.parametrize("model_id", BYTEPLUS_IDS)
def test_byteplus_ids_are_refused(model_id: str) -> None:
    with pytest.raises(errors.InvalidRequest) as info:
        build_request(VOLC, "a junk boat", model=model_id, warn=False)
    assert info.value.field == "model"
    assert info.value.provider == "volcengine"
    assert "ark" in str(info.value)  # the hint names who does sell that id


@pytest.mark.parametrize("tier", sorted(VOLC.offers))
def test_tiers_go_out_as_doubao_ids(tier: str) -> None:
    media: dict[str, Any] = {}
    if "text" not in VOLC.offers[tier].modes:
        media["first_frame"] = "https://example.com/boat.jpg"
    url, body = wire_body(tier, **media)
    assert url == "https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks"
    assert body["model"].startswith("doubao-seedance-")
    assert body["model"] == VOLC.offers[tier].model_id


def test_seedance_2_0_wire_body() -> None:
    _, body = wire_body(
        "seedance-2.0", first_frame="https://example.com/boat.jpg", ratio="16:9", duration=5
    )
    assert body["model"] == "doubao-seedance-2-0-260128"
    assert body["content"] == [
        {"type": "text", "text": "a junk boat on the Li river"},
        {
            "type": "image_url",
            "image_url": {"url": "https://example.com/boat.jpg"},
            "role": "first_frame",
        },
    ]


def test_raw_doubao_id_is_accepted_and_ark_refuses_it() -> None:
    _, body = wire_body("doubao-seedance-1-5-pro-251215")
    assert body["model"] == "doubao-seedance-1-5-pro-251215"
    with pytest.raises(errors.InvalidRequest) as info:
        build_request(
            PROVIDERS["ark"], "a junk boat", model="doubao-seedance-2-0-260128", warn=False
        )
    assert "volcengine" in str(info.value)
