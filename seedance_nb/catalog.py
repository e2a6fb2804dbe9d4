"""What each Seedance tier can do, and how each provider sells it. Pure data.

Every fact here comes from ``shared/API-NOTES.md`` and the providers' own documents in
``shared/seeds/``. Validation, the emulator, ``%seedance models`` and the form all read this one
table, so a limit is written down once. Facts the sources disagree on are marked ``(?)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal

Mode = Literal["text", "first_frame", "first_last", "reference"]
MediaKind = Literal["image", "video", "audio"]

MODES: tuple[Mode, ...] = ("text", "first_frame", "first_last", "reference")
MODE_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "text": "text-to-video",
        "first_frame": "first-frame image-to-video",
        "first_last": "first+last-frame image-to-video",
        "reference": "multimodal reference",
    }
)
FPS = 24
RATIOS: tuple[str, ...] = ("16:9", "4:3", "1:1", "3:4", "9:16", "21:9")
ADAPTIVE = "adaptive"
ALL_RATIOS: tuple[str, ...] = (*RATIOS, ADAPTIVE)
RESOLUTIONS: tuple[str, ...] = ("480p", "720p", "1080p", "4k")

# Output pixel sizes (EvoLink's table; Ark produces the same).
_PIXELS: dict[tuple[str, str], tuple[int, int]] = {
    ("16:9", "480p"): (864, 496), ("16:9", "720p"): (1280, 720), ("16:9", "1080p"): (1920, 1080),
    ("4:3", "480p"): (752, 560), ("4:3", "720p"): (1112, 834), ("4:3", "1080p"): (1664, 1248),
    ("1:1", "480p"): (640, 640), ("1:1", "720p"): (960, 960), ("1:1", "1080p"): (1440, 1440),
    ("3:4", "480p"): (560, 752), ("3:4", "720p"): (834, 1112), ("3:4", "1080p"): (1248, 1664),
    ("9:16", "480p"): (496, 864), ("9:16", "720p"): (720, 1280), ("9:16", "1080p"): (1080, 1920),
    ("21:9", "480p"): (992, 432), ("21:9", "720p"): (1470, 630), ("21:9", "1080p"): (2206, 946),
}  # fmt: skip
# Ark 2.0 also renders 4k; no public table gives its sizes, so we take twice 1080p (?).
for (_ratio, _res), (_w, _h) in list(_PIXELS.items()):
    if _res == "1080p":
        _PIXELS[(_ratio, "4k")] = (2 * _w, 2 * _h)
PIXELS: Mapping[tuple[str, str], tuple[int, int]] = MappingProxyType(_PIXELS)

# Reference media limits (Ark, 2.0). Gateways may narrow counts, never widen these.
IMAGE_FORMATS = frozenset({"jpeg", "png", "webp", "bmp", "tiff", "gif", "heic"})
VIDEO_FORMATS = frozenset({"mp4", "mov"})
AUDIO_FORMATS = frozenset({"wav", "mp3"})
IMAGE_SIDE_PX = (300, 6000)
IMAGE_ASPECT = (0.4, 2.5)
IMAGE_MAX_BYTES = 30 * 1024 * 1024
VIDEO_SECONDS = (2.0, 15.0)
VIDEO_TOTAL_SECONDS = 15.0
VIDEO_FPS = (24.0, 60.0)
VIDEO_PIXELS = (409_600, 2_086_876)
VIDEO_MAX_BYTES = 50 * 1024 * 1024  # (?)
AUDIO_SECONDS = (2.0, 15.0)
AUDIO_TOTAL_SECONDS = 15.0
AUDIO_MAX_BYTES = 15 * 1024 * 1024
REQUEST_MAX_BYTES = 64 * 1024 * 1024

OPTIONAL_PARAMS = (
    "seed",
    "watermark",
    "camera_fixed",
    "return_last_frame",
    "service_tier",
    "callback_url",
)


@dataclass(frozen=True)
class Tier:
    """A Seedance model tier as ByteDance defines it, before any provider narrows it."""

    name: str
    summary: str
    modes: frozenset[str]
    reference_kinds: frozenset[str]
    video_edit: bool
    audio: bool
    durations: tuple[int, int]
    resolutions: tuple[str, ...]
    camera_fixed: bool
    flex: bool
    max_reference_images: int = 9


def _tier(name: str, summary: str, modes: str, refs: str, *, edit: bool = False,
          audio: bool = False, durations: tuple[int, int] = (2, 12),
          resolutions: str = "480p 720p 1080p", camera_fixed: bool = True, flex: bool = True,
          max_images: int = 4) -> Tier:  # fmt: skip
    return Tier(
        name=name,
        summary=summary,
        modes=frozenset(modes.split()),
        reference_kinds=frozenset(refs.split()),
        video_edit=edit,
        audio=audio,
        durations=durations,
        resolutions=tuple(resolutions.split()),
        camera_fixed=camera_fixed,
        flex=flex,
        max_reference_images=max_images,
    )


_ALL_MODES = "text first_frame first_last reference"
TIERS: Mapping[str, Tier] = MappingProxyType(
    {
        t.name: t
        for t in (
            _tier("seedance-2.0", "Flagship: text, frames and full multimodal references, audio",
                  _ALL_MODES, "image video audio", edit=True, audio=True, durations=(4, 15),
                  resolutions="480p 720p 1080p", camera_fixed=False, flex=False, max_images=9),
            _tier("seedance-2.0-fast", "Faster, cheaper 2.0 for iteration (up to 720p)",
                  _ALL_MODES, "image video audio", edit=True, audio=True, durations=(4, 15),
                  resolutions="480p 720p", camera_fixed=False, flex=False, max_images=9),
            _tier("seedance-2.0-mini", "Smallest 2.0 (EvoLink only), no video edit",
                  _ALL_MODES, "image video audio", audio=True, durations=(4, 15),
                  resolutions="480p 720p", camera_fixed=False, flex=False, max_images=9),
            _tier("seedance-1.5-pro", "1.5 Pro: image references, native audio",
                  _ALL_MODES, "image", audio=True, durations=(4, 12)),
            _tier("seedance-1.0-pro", "1.0 Pro: silent, 2-12 s, up to 1080p",
                  _ALL_MODES, "image"),
            _tier("seedance-1.0-pro-fast", "1.0 Pro Fast: silent, no first+last frame",
                  "text first_frame reference", "image"),
            _tier("seedance-1.0-lite-i2v", "1.0 Lite image-to-video (needs an image)",
                  "first_frame first_last reference", "image", resolutions="480p 720p"),
            _tier("seedance-1.0-lite-t2v", "1.0 Lite text-to-video only",
                  "text", "", resolutions="480p 720p"),
        )
    }
)  # fmt: skip

DEFAULT_TIER = "seedance-2.0"


@dataclass(frozen=True)
class Offer:
    """One tier as one provider sells it: the limits validation enforces for that pair."""

    provider: str
    tier: str
    model_id: str
    modes: frozenset[str]
    reference_kinds: frozenset[str]
    durations: tuple[int, ...]
    resolutions: tuple[str, ...]
    ratios: tuple[str, ...]
    audio: bool
    audio_default: bool | None
    params: frozenset[str]
    service_tiers: tuple[str, ...] = ("default",)
    auto_duration: bool = False
    max_images: int = 9
    max_videos: int = 3
    max_audios: int = 3
    max_media: int | None = None
    last_frame_role: str = "last_frame"
    available: bool = True
    note: str = ""

    @property
    def duration_text(self) -> str:
        """How the allowed durations read in an error message."""
        ds = self.durations
        if len(ds) > 2 and list(ds) == list(range(ds[0], ds[-1] + 1)):
            text = f"{ds[0]}-{ds[-1]} s"
        else:
            text = " or ".join(str(d) for d in ds) + " s"
        return text + (" (or -1: the model picks)" if self.auto_duration else "")


@dataclass(frozen=True)
class Provider:
    """A door to Seedance: where it lives, which key it takes, what it sells."""

    name: str
    label: str
    dialect: str
    base_url: str
    key_env: tuple[str, ...]
    offers: Mapping[str, Offer]
    can_cancel: bool
    cancel_note: str
    local_media: Literal["data_url", "upload_first_frame", "none"]
    batch_poll: bool
    seed_doc: str
    emulator_prefix: str
    notes: tuple[str, ...] = ()
    extra_options: frozenset[str] = field(default_factory=frozenset)
    passthrough_ids: tuple[str, ...] = ()

    def offer(self, tier: str) -> Offer | None:
        return self.offers.get(tier)

    def tier_for_model_id(self, model_id: str) -> str | None:
        """Map a raw provider model id back to its tier name."""
        for offer in self.offers.values():
            if offer.model_id == model_id:
                return offer.tier
        return None


def _ark_offers(provider: str, prefix: str) -> dict[str, Offer]:
    """Ark sells every ByteDance tier but mini; ids differ only by prefix between regions."""
    ids = {
        "seedance-2.0": "seedance-2-0-260128",
        "seedance-2.0-fast": "seedance-2-0-fast-260128",
        "seedance-1.5-pro": "seedance-1-5-pro-251215",
        "seedance-1.0-pro": "seedance-1-0-pro-250528",
        "seedance-1.0-pro-fast": "seedance-1-0-pro-fast-251015",
        "seedance-1.0-lite-t2v": "seedance-1-0-lite-t2v-250428",
        "seedance-1.0-lite-i2v": "seedance-1-0-lite-i2v-250428",
    }
    offers = {}
    for tier_name, raw in ids.items():
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


def _ark_provider(name: str, label: str, base_url: str, key_env: tuple[str, ...],
                  offers: dict[str, Offer], prefix: str, notes: tuple[str, ...] = ()) -> Provider:  # fmt: skip
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
        seed_doc="002_a2a500d760babc2b.txt",
        emulator_prefix=prefix,
        notes=notes,
        extra_options=frozenset(
            {"execution_expires_after", "priority", "safety_identifier", "frames"}
        ),
        passthrough_ids=("ep-",),
    )


def _gateway_offer(provider: str, tier: str, model_id: str, **overrides: object) -> Offer:
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
    return replace(base, **overrides)  # type: ignore[arg-type]


def _providers() -> dict[str, Provider]:
    ark_offers = _ark_offers("ark", "dreamina-")
    providers = {
        "ark": _ark_provider(
            "ark", "BytePlus ModelArk", "https://ark.ap-southeast.bytepluses.com/api/v3",
            ("ARK_API_KEY", "BYTEPLUS_ARK_API_KEY"), ark_offers, "/api/v3"),
        "volcengine": _ark_provider(
            "volcengine", "Volcengine Ark (China)", "https://ark.cn-beijing.volces.com/api/v3",
            ("VOLCENGINE_ARK_API_KEY",), _ark_offers("volcengine", "doubao-"),
            "/volcengine/api/v3",
            notes=("Volcengine uses doubao-* model ids; BytePlus ids are refused here.",)),
        "emulator": _ark_provider(
            "emulator", "Offline emulator (Ark dialect)", "http://127.0.0.1/api/v3", (),
            {k: replace(v, provider="emulator") for k, v in ark_offers.items()}, "/api/v3",
            notes=("Runs on this machine; renders real MP4s; costs nothing.",)),
    }  # fmt: skip

    orca = "orcarouter"
    orca_offers = {
        tier: _gateway_offer(
            orca,
            tier,
            f"byteplus/{offer.model_id}",
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
        for tier, offer in ark_offers.items()
    }
    providers[orca] = Provider(
        name=orca, label="OrcaRouter", dialect=orca,
        base_url="https://api.orcarouter.ai", key_env=("ORCAROUTER_API_KEY",),
        offers=MappingProxyType(orca_offers), can_cancel=False,
        cancel_note="OrcaRouter documents no cancel endpoint.",
        local_media="data_url", batch_poll=False, seed_doc="000_ea827bfb10411dde.txt",
        emulator_prefix="/orcarouter",
    )  # fmt: skip

    comet = "cometapi"
    comet_common = dict(ratios=RATIOS, audio=False, audio_default=None, params=frozenset(),
                        reference_kinds=frozenset())  # fmt: skip
    comet_offers = {
        "seedance-2.0": _gateway_offer(
            comet, "seedance-2.0", "doubao-seedance-2-0", modes=frozenset({"text", "first_frame"}),
            resolutions=("480p", "720p"), **comet_common),
        "seedance-2.0-fast": _gateway_offer(
            comet, "seedance-2.0-fast", "doubao-seedance-2-0-fast",
            modes=frozenset({"text", "first_frame"}), resolutions=("480p", "720p"),
            **comet_common),
        "seedance-1.5-pro": _gateway_offer(
            comet, "seedance-1.5-pro", "doubao-seedance-1-5-pro", modes=frozenset({"text"}),
            durations=tuple(range(4, 13)), resolutions=("480p", "720p", "1080p"), **comet_common),
        "seedance-1.0-pro": _gateway_offer(
            comet, "seedance-1.0-pro", "doubao-seedance-1-0-pro", modes=frozenset({"text"}),
            durations=tuple(range(2, 11)), resolutions=("480p", "720p", "1080p"), **comet_common),
    }  # fmt: skip
    providers[comet] = Provider(
        name=comet, label="CometAPI", dialect=comet, base_url="https://api.cometapi.com",
        key_env=("COMETAPI_KEY", "COMETAPI_API_KEY"), offers=MappingProxyType(comet_offers),
        can_cancel=False, cancel_note="CometAPI documents no cancel endpoint.",
        local_media="upload_first_frame", batch_poll=False, seed_doc="003_b29c688e9914e615.txt",
        emulator_prefix="/cometapi",
        notes=("The first frame travels as an uploaded file part (input_reference).",
               "No audio, seed or watermark fields: the gateway decides."),
    )  # fmt: skip

    evo = "evolink"
    evo_common = dict(params=frozenset({"callback_url"}), audio_default=True, max_images=9)
    evo_offers = {
        tier: _gateway_offer(
            evo, tier, tier,  # the wire id adds -{text|image|reference}-to-video per request
            resolutions=("480p", "720p", "1080p") if tier == "seedance-2.0" else ("480p", "720p"),
            **evo_common)  # type: ignore[arg-type]
        for tier in ("seedance-2.0", "seedance-2.0-fast", "seedance-2.0-mini")
    }  # fmt: skip
    providers[evo] = Provider(
        name=evo, label="EvoLink", dialect=evo, base_url="https://api.evolink.ai",
        key_env=("EVOLINK_API_KEY",), offers=MappingProxyType(evo_offers), can_cancel=False,
        cancel_note="EvoLink documents no cancel endpoint.", local_media="none",
        batch_poll=False, seed_doc="004_50fa4a6032157714.txt", emulator_prefix="/evolink",
        extra_options=frozenset({"content_filter", "web_search"}),
        notes=("Media must be URLs EvoLink's servers can fetch.",
               "generate_audio defaults to true there; we always send what you meant."),
    )  # fmt: skip

    ink = "seedance2ink"
    ink_common = dict(ratios=("16:9", "9:16", "1:1"), audio=False, audio_default=None,
                      params=frozenset({"callback_url"}), max_media=5, max_images=5,
                      max_videos=5, max_audios=5)  # fmt: skip
    ink_offers = {
        "seedance-2.0": _gateway_offer(ink, "seedance-2.0", "seedance-2.0", **ink_common),
        "seedance-2.0-fast": _gateway_offer(
            ink, "seedance-2.0-fast", "seedance-2.0-fast",
            **{**ink_common, "resolutions": ("480p", "720p", "1080p")}),
        "seedance-1.5-pro": _gateway_offer(
            ink, "seedance-1.5-pro", "seedance-1.5-pro", durations=(5, 10), **ink_common),
    }  # fmt: skip
    providers[ink] = Provider(
        name=ink, label="seedance2.ink", dialect=ink,
        base_url="https://www.seedance2.ink/api/open/v1", key_env=("SEEDANCE2INK_API_KEY",),
        offers=MappingProxyType(ink_offers), can_cancel=True,
        cancel_note="seedance2.ink cancels through POST …/{requestId}/cancel.",
        local_media="none", batch_poll=False, seed_doc="001_676ece968c0358d0.txt",
        emulator_prefix="/seedance2ink/api/open/v1", extra_options=frozenset({"metadata"}),
        notes=("Media go as 1-5 public URLs (mediaUrls); no roles, no audio switch.",),
    )  # fmt: skip
    return providers


PROVIDERS: Mapping[str, Provider] = MappingProxyType(_providers())
PROVIDER_NAMES: tuple[str, ...] = tuple(PROVIDERS)
# The order in which environment keys are looked for when no provider is named.
AUTO_PROVIDER_ORDER: tuple[str, ...] = (
    "ark", "volcengine", "orcarouter", "cometapi", "evolink", "seedance2ink",
)  # fmt: skip


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


def pixel_size(ratio: str, resolution: str) -> tuple[int, int]:
    """Output frame size; ``adaptive`` is estimated as 16:9 until the provider decides."""
    key = (ratio if ratio in RATIOS else "16:9", resolution)
    return PIXELS[key]


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


def available_tiers(provider: Provider) -> Iterable[str]:
    return (t for t, o in provider.offers.items() if o.available)


# Typical render times --------------------------------------------------------------------------
# For the "≈ N s left" of a notebook's live view: an estimate, never a promise. The only
# published figures are OrcaRouter's (shared/seeds/000_ea827bfb10411dde.txt): "a 5 s 720p clip
# usually completes in 30-60 s; 1080p with audio, or 15 s / multimodal-reference clips, can take
# 3-5 min" (and "usually 30 s to 4 min depending on duration / resolution / generate_audio").
# seedance-2.0 takes 40 s at 5 s 720p and scales with the pixel-seconds asked for, which puts
# 15 s 1080p at 4.5 min, inside the second range. No source gives the other tiers' times: the
# lighter tiers are taken as faster (?).
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


OFFER_TABLE_HEAD: tuple[str, ...] = (
    "tier",
    "model id",
    "modes",
    "references",
    "durations",
    "resolutions",
    "ratios",
    "audio",
    "$/Mtok",
)
_MODE_SHORT = {
    "text": "text",
    "first_frame": "first-frame",
    "first_last": "first+last",
    "reference": "reference",
}


def offer_table(provider: Provider) -> list[list[str]]:
    """What ``provider`` sells, one row of :data:`OFFER_TABLE_HEAD` per tier, as the CLI's and
    the magic's ``models`` commands print it."""
    rows = []
    for tier, o in provider.offers.items():
        price = price_per_million_tokens(tier)
        audio = (("on" if o.audio_default else "off") + " by default") if o.audio else "no"
        rows.append(
            [
                tier + ("" if o.available else " (unavailable)"),
                o.model_id,
                " ".join(_MODE_SHORT[m] for m in MODES if m in o.modes),
                " ".join(sorted(o.reference_kinds)) or "-",
                o.duration_text,
                " ".join(o.resolutions),
                " ".join(o.ratios),
                audio,
                f"${price:.2f}" if price is not None else "?",
            ]
        )
    return rows
