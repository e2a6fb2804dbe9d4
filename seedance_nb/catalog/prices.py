"""Token and cost estimates, and typical render times: figures for a preview, never a bill."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .tiers import DEFAULT_TIER, FPS


def estimate_tokens(width: int, height: int, duration: float, fps: int = FPS) -> int:
    """Ark's billing formula for video: tokens ≈ width × height × fps × duration / 1024."""
    return int(width * height * fps * duration / 1024)


# Indicative list prices in USD per million tokens (online tier), for side-by-side estimates
# only; your contract may differ. Override with ``set_price``.
_PRICES_PER_MTOK: dict[str, float] = {
    "seedance-2.0": 7.0,
    "seedance-2.0-fast": 5.6,
    "seedance-2.0-mini": 3.5,
    "seedance-1.5-pro": 2.4,
    "seedance-1.0-pro": 2.5,
    "seedance-1.0-pro-fast": 1.0,
    "seedance-1.0-lite-i2v": 1.8,
    "seedance-1.0-lite-t2v": 1.8,
}


def price_per_million_tokens(tier: str) -> float | None:
    return _PRICES_PER_MTOK.get(tier)


def set_price(tier: str, usd_per_million_tokens: float) -> None:
    """Use your own contract's price for cost estimates."""
    if usd_per_million_tokens < 0:
        raise ValueError("a price cannot be negative")
    _PRICES_PER_MTOK[tier] = float(usd_per_million_tokens)


def estimate_cost(tier: str | None, tokens: int | None) -> float | None:
    if tier is None or tokens is None:
        return None
    price = price_per_million_tokens(tier)
    return None if price is None else tokens * price / 1_000_000


# Typical render times --------------------------------------------------------------------------
# For the "≈ N s left" of a notebook's live view: an estimate, never a promise. The only
# published figures are OrcaRouter's (https://api.orcarouter.ai/v1/video/generations docs,
# shared/seeds/000_ea827bfb10411dde.txt): "a 5 s 720p clip usually completes in 30-60 s; 1080p
# with audio, or 15 s / multimodal-reference clips, can take 3-5 min" (and "usually 30 s to
# 4 min depending on duration / resolution / generate_audio"). seedance-2.0 takes 40 s at 5 s
# 720p and scales with the pixel-seconds asked for, which puts 15 s 1080p at 4.5 min, inside
# the second range. No source gives the other tiers' times: the lighter tiers are taken as
# faster (?).
TYPICAL_SECONDS_5S_720P: Mapping[str, float] = MappingProxyType(
    {
        "seedance-2.0": 40.0,
        "seedance-2.0-fast": 30.0,  # (?)
        "seedance-2.0-mini": 30.0,  # (?)
        "seedance-1.5-pro": 40.0,  # (?)
        "seedance-1.0-pro": 40.0,  # (?)
        "seedance-1.0-pro-fast": 30.0,  # (?)
        "seedance-1.0-lite-i2v": 35.0,  # (?)
        "seedance-1.0-lite-t2v": 35.0,  # (?)
    }
)
REFERENCE_MODE_FACTOR = 2.0  # multimodal references "can take 3-5 min" at 5 s 720p (?)
MIN_TYPICAL_SECONDS = 15.0


def typical_render_seconds(
    tier: str | None, width: int, height: int, duration: float, *, mode: str = "text"
) -> float:
    """Typical seconds from submit to a finished render (see the table's sources above).

    ``duration`` ≤ 0 (the model picks) counts as 10 s, the middle of the 4-15 s range.
    """
    base = TYPICAL_SECONDS_5S_720P.get(tier or "", TYPICAL_SECONDS_5S_720P[DEFAULT_TIER])
    seconds = duration if duration > 0 else 10
    work = (width * height * seconds) / (1280 * 720 * 5)
    factor = REFERENCE_MODE_FACTOR if mode == "reference" else 1.0
    return max(MIN_TYPICAL_SECONDS, base * work * factor)
