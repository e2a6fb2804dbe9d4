"""Property test: whatever a user passes, validation returns a request or an InvalidRequest.

No TypeError, KeyError or pydantic error may escape ``build_request`` for any provider, and
a request that passes is one its provider's offer allows (checked against the catalog).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seedance_nb import catalog
from seedance_nb.errors import InvalidRequest
from seedance_nb.request import VideoRequest, build_request

ANY = (
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.text(max_size=20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([10**400, math.nan])
    | st.lists(st.text(max_size=5), max_size=3)
    | st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)
)
TIERS = st.sampled_from([*catalog.TIERS, "seedance-9", "", "dreamina-seedance-2-0-260128"])
RATIOS = st.sampled_from(["16:9", "9:16", "1:1", "4:3", "3:4", "21:9", "adaptive", "2:1", ""])
RESOLUTIONS = st.sampled_from(["480p", "720p", "1080p", "4k", "360p", ""])
MEDIA = st.sampled_from(
    [
        "https://cdn.example.com/a.png",
        "https://cdn.example.com/a.mp4",
        "file:///etc/passwd",
        "data:image/png;base64,AAAA",
        "",
        "/no/such/file.png",
        "asset://asset-1",
        "a/../../b.png",
    ]
)
PARAMS = st.fixed_dictionaries(
    {},
    optional={
        "model": TIERS | ANY,
        "ratio": RATIOS | ANY,
        "resolution": RESOLUTIONS | ANY,
        "duration": st.integers(-3, 20) | ANY,
        "generate_audio": st.booleans() | ANY,
        "seed": st.integers(-2, 2**33) | ANY,
        "watermark": st.booleans() | ANY,
        "camera_fixed": st.booleans() | ANY,
        "return_last_frame": st.booleans() | ANY,
        "service_tier": st.sampled_from(["default", "flex", "x"]) | ANY,
        "callback_url": st.sampled_from(
            ["https://h.example/cb", "http://127.0.0.1:9/cb", "ftp://x", "https://10.0.0.1/cb"]
        )
        | ANY,
        "first_frame": MEDIA | ANY,
        "last_frame": MEDIA | ANY,
        "images": st.lists(MEDIA, max_size=10) | ANY,
        "videos": st.lists(MEDIA, max_size=4) | ANY,
        "audios": st.lists(MEDIA, max_size=4) | ANY,
        "options": ANY,
    },
)
PROMPTS = st.text(max_size=60) | st.sampled_from(["[Image 1] walks", "[Video 3]", "x" * 5000]) | ANY


@pytest.mark.parametrize("provider", sorted(catalog.PROVIDERS))
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(prompt=PROMPTS, params=PARAMS)
def test_validation_returns_a_request_or_an_invalid_request(
    provider: str, prompt: Any, params: dict[str, Any], tmp_path: Path
) -> None:
    p = catalog.PROVIDERS[provider]
    try:
        request, warnings = build_request(
            p, prompt, workdir=tmp_path, probe=False, warn=False, **params
        )
    except InvalidRequest as exc:
        assert exc.field and str(exc)  # names the field it refuses
        return
    assert isinstance(request, VideoRequest) and isinstance(warnings, list)
    offer = p.offer(request.tier) if request.tier else None
    assert offer is not None and offer.available
    assert request.resolution in offer.resolutions and request.ratio in offer.ratios
    assert request.prompt.strip() or request.media
