"""The providers, one builder each, with the tiers they sell and how they sell them.

Each builder cites the provider's own document (kept in ``shared/seeds/``, named by
``Provider.seed_doc``) and its public API address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import Any

from .cadence import (
    ARK_CADENCE,
    COMETAPI_CADENCE,
    EVOLINK_CADENCE,
    ORCAROUTER_CADENCE,
    SEEDANCE2INK_CADENCE,
)
from .offers import Offer, Provider
from .tiers import ALL_RATIOS, DEFAULT_TIER, OPTIONAL_PARAMS, RATIOS, TIERS

_ARK_IDS = {
    "seedance-2.0": "seedance-2-0-260128",
    "seedance-2.0-fast": "seedance-2-0-fast-260128",
    "seedance-1.5-pro": "seedance-1-5-pro-251215",
    "seedance-1.0-pro": "seedance-1-0-pro-250528",
    "seedance-1.0-pro-fast": "seedance-1-0-pro-fast-251015",
    "seedance-1.0-lite-t2v": "seedance-1-0-lite-t2v-250428",
    "seedance-1.0-lite-i2v": "seedance-1-0-lite-i2v-250428",
}


def _ark_offers(provider: str, prefix: str) -> dict[str, Offer]:
    """Ark sells every ByteDance tier but mini; ids differ only by prefix between regions."""
    offers = {}
    for tier_name, raw in _ARK_IDS.items():
        t = TIERS[tier_name]
        if provider == "volcengine":
            model_id = "doubao-" + raw
        elif tier_name.startswith("seedance-2.0"):
            model_id = prefix + raw
        else:
            model_id = raw
        resolutions = t.resolutions + (("4k",) if tier_name == "seedance-2.0" else ())
        params = set(OPTIONAL_PARAMS)
        if not t.camera_fixed:
            params.discard("camera_fixed")
        offers[tier_name] = Offer(
            provider=provider,
            tier=tier_name,
            model_id=model_id,
            modes=t.modes,
            reference_kinds=t.reference_kinds,
            durations=tuple(range(t.durations[0], t.durations[1] + 1)),
            auto_duration=tier_name.startswith("seedance-2.0"),
            resolutions=resolutions,
            ratios=ALL_RATIOS,
            audio=t.audio,
            audio_default=True if t.audio else None,
            params=frozenset(params),
            service_tiers=("default", "flex") if t.flex else ("default",),
            max_images=t.max_reference_images,
        )
    return offers


def _ark_provider(
    name: str,
    label: str,
    base_url: str,
    key_env: tuple[str, ...],
    offers: dict[str, Offer],
    prefix: str,
    notes: tuple[str, ...] = (),
) -> Provider:
    """An Ark-dialect door (BytePlus ModelArk, Volcengine Ark, the emulator).

    Source: BytePlus ModelArk's integration guide, ``POST /api/v3/contents/generations/tasks``
    at https://ark.ap-southeast.bytepluses.com/api/v3 (``shared/seeds/002_a2a500d760babc2b.txt``).
    """
    return Provider(
        name=name,
        label=label,
        dialect="ark",
        base_url=base_url,
        key_env=key_env,
        offers=MappingProxyType(offers),
        can_cancel=True,
        cancel_note="Ark cancels queued tasks only (DELETE); a running task cannot be stopped.",
        local_media="data_url",
        batch_poll=True,
        cadence=ARK_CADENCE,
        seed_doc="002_a2a500d760babc2b.txt",
        emulator_prefix=prefix,
        notes=notes,
        extra_options=frozenset(
            {"execution_expires_after", "priority", "safety_identifier", "frames"}
        ),
        passthrough_ids=("ep-",),
    )


def _gateway_offer(provider: str, tier: str, model_id: str, **overrides: Any) -> Offer:
    """A reseller's offer: the tier's own limits, audio off by default, then its narrowing."""
    t = TIERS[tier]
    base = Offer(
        provider=provider,
        tier=tier,
        model_id=model_id,
        modes=t.modes,
        reference_kinds=t.reference_kinds,
        durations=tuple(range(t.durations[0], t.durations[1] + 1)),
        resolutions=t.resolutions,
        ratios=ALL_RATIOS,
        audio=t.audio,
        audio_default=False if t.audio else None,
        params=frozenset(OPTIONAL_PARAMS) - {"camera_fixed"},
        max_images=t.max_reference_images,
    )
    return replace(base, **overrides)


def _ark_family() -> dict[str, Provider]:
    """BytePlus ModelArk, Volcengine Ark (China, doubao-* ids) and the offline emulator."""
    ark_offers = _ark_offers("ark", "dreamina-")
    emulator_offers = {k: replace(v, provider="emulator") for k, v in ark_offers.items()}
    return {
        "ark": _ark_provider(
            "ark",
            "BytePlus ModelArk",
            "https://ark.ap-southeast.bytepluses.com/api/v3",
            ("ARK_API_KEY", "BYTEPLUS_ARK_API_KEY"),
            ark_offers,
            "/api/v3",
        ),
        "volcengine": _ark_provider(
            "volcengine",
            "Volcengine Ark (China)",
            "https://ark.cn-beijing.volces.com/api/v3",
            ("VOLCENGINE_ARK_API_KEY",),
            _ark_offers("volcengine", "doubao-"),
            "/volcengine/api/v3",
            notes=("Volcengine uses doubao-* model ids; BytePlus ids are refused here.",),
        ),
        "emulator": _ark_provider(
            "emulator",
            "Offline emulator (Ark dialect)",
            "http://127.0.0.1/api/v3",
            (),
            emulator_offers,
            "/api/v3",
            notes=("Runs on this machine; renders real MP4s; costs nothing.",),
        ),
    }


def _orcarouter() -> Provider:
    """OrcaRouter: Ark's tiers behind ``POST https://api.orcarouter.ai/v1/video/generations``
    (``shared/seeds/000_ea827bfb10411dde.txt``); only seedance-2.0 is provisioned today."""
    orca = "orcarouter"

    def offer(tier: str, ark: Offer) -> Offer:
        return _gateway_offer(
            orca,
            tier,
            f"byteplus/{ark.model_id}",
            resolutions=tuple(r for r in TIERS[tier].resolutions if r != "4k"),
            params=frozenset(OPTIONAL_PARAMS) - {"camera_fixed"},
            service_tiers=("default", "flex"),
            last_frame_role="end_frame",
            available=tier == "seedance-2.0",
            note=""
            if tier == "seedance-2.0"
            else "listed as planned by OrcaRouter; only "
            "seedance-2.0 (byteplus/dreamina-seedance-2-0-260128) is provisioned",
        )

    offers = {tier: offer(tier, ark) for tier, ark in _ark_offers("ark", "dreamina-").items()}
    return Provider(
        name=orca,
        label="OrcaRouter",
        dialect=orca,
        base_url="https://api.orcarouter.ai",
        key_env=("ORCAROUTER_API_KEY",),
        offers=MappingProxyType(offers),
        can_cancel=False,
        cancel_note="OrcaRouter documents no cancel endpoint.",
        local_media="data_url",
        batch_poll=False,
        cadence=ORCAROUTER_CADENCE,
        seed_doc="000_ea827bfb10411dde.txt",
        emulator_prefix="/orcarouter",
    )


def _comet_offer(tier: str, model_id: str, modes: frozenset[str], **narrowed: Any) -> Offer:
    """CometAPI's narrowing: no references, no audio, no optional fields, six ratios."""
    return _gateway_offer(
        "cometapi",
        tier,
        model_id,
        modes=modes,
        ratios=RATIOS,
        audio=False,
        audio_default=None,
        params=frozenset(),
        reference_kinds=frozenset(),
        **narrowed,
    )


def _cometapi() -> Provider:
    """CometAPI: multipart ``POST https://api.cometapi.com/v1/videos``
    (``shared/seeds/003_b29c688e9914e615.txt``): text and first frame, no audio switch."""
    comet = "cometapi"
    text_and_frame = frozenset({"text", "first_frame"})
    text = frozenset({"text"})
    low, full = ("480p", "720p"), ("480p", "720p", "1080p")
    offers = {
        "seedance-2.0": _comet_offer(
            "seedance-2.0", "doubao-seedance-2-0", text_and_frame, resolutions=low
        ),
        "seedance-2.0-fast": _comet_offer(
            "seedance-2.0-fast", "doubao-seedance-2-0-fast", text_and_frame, resolutions=low
        ),
        "seedance-1.5-pro": _comet_offer(
            "seedance-1.5-pro",
            "doubao-seedance-1-5-pro",
            text,
            durations=tuple(range(4, 13)),
            resolutions=full,
        ),
        "seedance-1.0-pro": _comet_offer(
            "seedance-1.0-pro",
            "doubao-seedance-1-0-pro",
            text,
            durations=tuple(range(2, 11)),
            resolutions=full,
        ),
    }
    return Provider(
        name=comet,
        label="CometAPI",
        dialect=comet,
        base_url="https://api.cometapi.com",
        key_env=("COMETAPI_KEY", "COMETAPI_API_KEY"),
        offers=MappingProxyType(offers),
        can_cancel=False,
        cancel_note="CometAPI documents no cancel endpoint.",
        local_media="upload_first_frame",
        batch_poll=False,
        cadence=COMETAPI_CADENCE,
        seed_doc="003_b29c688e9914e615.txt",
        emulator_prefix="/cometapi",
        notes=(
            "The first frame travels as an uploaded file part (input_reference).",
            "No audio, seed or watermark fields: the gateway decides.",
        ),
    )


def _evolink() -> Provider:
    """EvoLink: ``POST https://api.evolink.ai/v1/videos/generations`` (OpenAPI at
    https://docs.evolink.ai, ``shared/seeds/004_50fa4a6032157714.txt``); the 2.0 family only."""
    evo = "evolink"
    offers = {
        tier: _gateway_offer(
            evo,
            tier,
            tier,  # the wire id adds -{text|image|reference}-to-video per request
            resolutions=("480p", "720p", "1080p") if tier == "seedance-2.0" else ("480p", "720p"),
            params=frozenset({"callback_url"}),
            audio_default=True,
            max_images=9,
        )
        for tier in ("seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini")
    }
    return Provider(
        name=evo,
        label="EvoLink",
        dialect=evo,
        base_url="https://api.evolink.ai",
        key_env=("EVOLINK_API_KEY",),
        offers=MappingProxyType(offers),
        can_cancel=False,
        cancel_note="EvoLink documents no cancel endpoint.",
        local_media="none",
        batch_poll=False,
        cadence=EVOLINK_CADENCE,
        seed_doc="004_50fa4a6032157714.txt",
        emulator_prefix="/evolink",
        extra_options=frozenset({"content_filter", "web_search"}),
        notes=(
            "Media must be URLs EvoLink's servers can fetch.",
            "generate_audio defaults to true there; we always send what you meant.",
        ),
    )


def _seedance2ink() -> Provider:
    """seedance2.ink: ``POST https://www.seedance2.ink/api/open/v1/video/generations``
    (``shared/seeds/001_676ece968c0358d0.txt``): 1-5 media URLs, three ratios, no audio switch."""
    ink = "seedance2ink"
    common: dict[str, Any] = dict(
        ratios=("16:9", "9:16", "1:1"),
        audio=False,
        audio_default=None,
        params=frozenset({"callback_url"}),
        max_media=5,
        max_images=5,
        max_videos=5,
        max_audios=5,
    )
    offers = {
        "seedance-2.0": _gateway_offer(ink, "seedance-2.0", "seedance-2.0", **common),
        "seedance-2.0-fast": _gateway_offer(
            ink,
            "seedance-2.0-fast",
            "seedance-2.0-fast",
            **{**common, "resolutions": ("480p", "720p", "1080p")},
        ),
        "seedance-1.5-pro": _gateway_offer(
            ink, "seedance-1.5-pro", "seedance-1.5-pro", durations=(5, 10), **common
        ),
    }
    return Provider(
        name=ink,
        label="seedance2.ink",
        dialect=ink,
        base_url="https://www.seedance2.ink/api/open/v1",
        key_env=("SEEDANCE2INK_API_KEY",),
        offers=MappingProxyType(offers),
        can_cancel=True,
        cancel_note="seedance2.ink cancels through POST …/{requestId}/cancel.",
        local_media="none",
        batch_poll=False,
        cadence=SEEDANCE2INK_CADENCE,
        seed_doc="001_676ece968c0358d0.txt",
        emulator_prefix="/seedance2ink/api/open/v1",
        extra_options=frozenset({"metadata"}),
        notes=("Media go as 1-5 public URLs (mediaUrls); no roles, no audio switch.",),
    )


def _providers() -> dict[str, Provider]:
    """Every provider by name, in the order ``models`` and the docs list them."""
    providers = _ark_family()
    for build in (_orcarouter, _cometapi, _evolink, _seedance2ink):
        provider = build()
        providers[provider.name] = provider
    return providers


PROVIDERS: Mapping[str, Provider] = MappingProxyType(_providers())
PROVIDER_NAMES: tuple[str, ...] = tuple(PROVIDERS)
# The order in which environment keys are looked for when no provider is named.
AUTO_PROVIDER_ORDER: tuple[str, ...] = (
    "ark",
    "volcengine",
    "orcarouter",
    "cometapi",
    "evolink",
    "seedance2ink",
)


def get_provider(name: str) -> Provider:
    try:
        return PROVIDERS[name]
    except KeyError:
        raise KeyError(f"unknown provider {name!r}; known: {', '.join(PROVIDER_NAMES)}") from None


def resolve_tier(provider: Provider, model: str) -> tuple[str | None, Offer | None]:
    """Find the tier a user means by ``model``: a tier name or the provider's raw id.

    Returns ``(tier, offer)``; ``(None, None)`` when nothing matches. Passthrough ids (Ark's
    ``ep-…`` endpoints) return ``(None, offer)`` with the permissive 2.0 limits.
    """
    name = model.strip()
    if name in provider.offers:
        return name, provider.offers[name]
    tier = provider.tier_for_model_id(name)
    if tier is not None:
        return tier, provider.offers[tier]
    if any(name.startswith(p) for p in provider.passthrough_ids):
        base = provider.offers[DEFAULT_TIER]
        return None, replace(base, model_id=name, tier=name, note="custom endpoint id")
    return None, None


def available_tiers(provider: Provider) -> Iterable[str]:
    return (t for t, o in provider.offers.items() if o.available)
