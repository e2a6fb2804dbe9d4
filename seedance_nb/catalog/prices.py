"""Token and cost estimates, and typical render times: figures for a preview, never a bill."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from types import MappingProxyType

from .tiers import DEFAULT_TIER, FPS, TIERS


def estimate_tokens(width: int, height: int, duration: float, fps: int = FPS) -> int:
    """Ark's billing formula for video: tokens ≈ width × height × fps × duration / 1024."""
    return int(width * height * fps * duration / 1024)


@dataclass(frozen=True)
class Price:
    """A price per million tokens, with where it was read and when: a cost shown from it is
    only as good as its source and its date."""

    usd_per_million_tokens: float
    source: str
    read_on: date
    own: bool = False  # set with set_price (your contract), not the catalog's list price


# Indicative list prices in USD per million tokens (online inference), for estimates and the
# budget only; your contract may differ (set_price). The table of BytePlus ModelArk's pricing
# page, as first written into this catalog; the provider documents kept in shared/seeds give no
# price, so the figures are marked (?). Ark bills only videos that were generated: no fee for a
# failed or refused task (Volcengine Ark's billing notes for Seedance 2.0).
LIST_SOURCE = (
    "BytePlus ModelArk pricing, online inference "
    "(https://docs.byteplus.com/api/docs/ModelArk/1544106) (?)"
)
LIST_READ_ON = date(2026, 11, 23)
_LIST_USD: Mapping[str, float] = MappingProxyType(
    {
        "seedance-2.0": 7.0,
        "seedance-2.0-fast": 5.6,
        "seedance-2.0-mini": 3.5,
        "seedance-1.5-pro": 2.4,  # with audio; silent is half (?)
        "seedance-1.0-pro": 2.5,
        "seedance-1.0-pro-fast": 1.0,
        "seedance-1.0-lite-i2v": 1.8,
        "seedance-1.0-lite-t2v": 1.8,
    }
)
_PRICES: dict[str, Price] = {
    tier: Price(usd, LIST_SOURCE, LIST_READ_ON) for tier, usd in _LIST_USD.items()
}


def price_of(tier: str | None) -> Price | None:
    """The price in force for ``tier``: yours if you set one, else the list price."""
    return _PRICES.get(tier) if tier is not None else None


def price_per_million_tokens(tier: str) -> float | None:
    price = price_of(tier)
    return price.usd_per_million_tokens if price is not None else None


def set_price(
    tier: str,
    usd_per_million_tokens: float,
    *,
    source: str = "your own price (set_price)",
    read_on: date | None = None,
) -> Price:
    """Use your own contract's price for ``tier`` in every estimate, the spend and the budget
    (of this process); returns the price it replaces. ``reset_price`` goes back to the list."""
    if tier not in TIERS:
        raise ValueError(f"no tier {tier!r}; tiers are {', '.join(TIERS)}")
    if not usd_per_million_tokens >= 0:
        raise ValueError("a price cannot be negative")
    old = _PRICES[tier]
    _PRICES[tier] = Price(float(usd_per_million_tokens), source, read_on or date.today(), own=True)
    return old


def reset_price(tier: str | None = None) -> None:
    """Back to the catalog's list price for ``tier`` (every tier when None)."""
    for name in [tier] if tier is not None else list(_LIST_USD):
        if name in _LIST_USD:
            _PRICES[name] = Price(_LIST_USD[name], LIST_SOURCE, LIST_READ_ON)


def estimate_cost(tier: str | None, tokens: int | None) -> float | None:
    """``tokens`` at the price in force for ``tier``; None when either is unknown."""
    if tokens is None:
        return None
    price = price_of(tier)
    return None if price is None else tokens * price.usd_per_million_tokens / 1_000_000


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
