"""What each Seedance tier can do, and how each provider sells it. Pure data.

Every fact here comes from ``shared/API-NOTES.md`` and the providers' own documents (BytePlus
ModelArk, OrcaRouter, CometAPI, EvoLink, seedance2.ink; kept in ``shared/seeds/``). Validation,
the emulator, ``%seedance models`` and the form all read this one table, so a limit is written
down once. Facts the sources disagree on are marked ``(?)``.

Parts: :mod:`.tiers` (ByteDance's tiers and media limits), :mod:`.offers` (the Offer and
Provider types), :mod:`.providers` (one builder per provider), :mod:`.prices` (estimates),
:mod:`.table` (the ``models`` table).
"""

from __future__ import annotations

from .cadence import PollCadence
from .offers import Offer, Provider
from .prices import (
    MIN_TYPICAL_SECONDS,
    REFERENCE_MODE_FACTOR,
    TYPICAL_SECONDS_5S_720P,
    estimate_cost,
    estimate_tokens,
    price_per_million_tokens,
    set_price,
    typical_render_seconds,
)
from .providers import (
    AUTO_PROVIDER_ORDER,
    PROVIDER_NAMES,
    PROVIDERS,
    available_tiers,
    get_provider,
    resolve_tier,
)
from .table import OFFER_TABLE_HEAD, offer_table
from .tiers import (
    ADAPTIVE,
    ALL_RATIOS,
    AUDIO_FORMATS,
    AUDIO_MAX_BYTES,
    AUDIO_SECONDS,
    AUDIO_TOTAL_SECONDS,
    DEFAULT_TIER,
    FPS,
    IMAGE_ASPECT,
    IMAGE_FORMATS,
    IMAGE_MAX_BYTES,
    IMAGE_SIDE_PX,
    MODE_LABELS,
    MODES,
    OPTIONAL_PARAMS,
    PIXELS,
    RATIOS,
    REQUEST_MAX_BYTES,
    RESOLUTIONS,
    TIERS,
    VIDEO_FORMATS,
    VIDEO_FPS,
    VIDEO_MAX_BYTES,
    VIDEO_PIXELS,
    VIDEO_SECONDS,
    VIDEO_TOTAL_SECONDS,
    MediaKind,
    Mode,
    Tier,
    pixel_size,
)

__all__ = [
    "ADAPTIVE",
    "ALL_RATIOS",
    "AUDIO_FORMATS",
    "AUDIO_MAX_BYTES",
    "AUDIO_SECONDS",
    "AUDIO_TOTAL_SECONDS",
    "AUTO_PROVIDER_ORDER",
    "DEFAULT_TIER",
    "FPS",
    "IMAGE_ASPECT",
    "IMAGE_FORMATS",
    "IMAGE_MAX_BYTES",
    "IMAGE_SIDE_PX",
    "MIN_TYPICAL_SECONDS",
    "MODES",
    "MODE_LABELS",
    "OFFER_TABLE_HEAD",
    "OPTIONAL_PARAMS",
    "PIXELS",
    "PROVIDERS",
    "PROVIDER_NAMES",
    "RATIOS",
    "REFERENCE_MODE_FACTOR",
    "REQUEST_MAX_BYTES",
    "RESOLUTIONS",
    "TIERS",
    "TYPICAL_SECONDS_5S_720P",
    "VIDEO_FORMATS",
    "VIDEO_FPS",
    "VIDEO_MAX_BYTES",
    "VIDEO_PIXELS",
    "VIDEO_SECONDS",
    "VIDEO_TOTAL_SECONDS",
    "MediaKind",
    "Mode",
    "Offer",
    "PollCadence",
    "Provider",
    "Tier",
    "available_tiers",
    "estimate_cost",
    "estimate_tokens",
    "get_provider",
    "offer_table",
    "pixel_size",
    "price_per_million_tokens",
    "resolve_tier",
    "set_price",
    "typical_render_seconds",
]
