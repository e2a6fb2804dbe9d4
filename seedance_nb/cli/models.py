"""``models``: what each tier of a provider can do, and its price, from the catalog."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import catalog
from ..engine.settings import choose_provider
from .output import Output

if TYPE_CHECKING:
    import argparse


def run_models(args: argparse.Namespace, out: Output) -> int:
    choice = choose_provider(args.provider)
    spec = choice.provider
    head = list(catalog.OFFER_TABLE_HEAD)
    rows = catalog.offer_table(spec)
    tiers = [_tier_data(tier, o) for tier, o in spec.offers.items()]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows, strict=True)]
    table = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in (head, *rows)
    ]
    now = " — the one used now" if args.provider is None else ""
    others = ", ".join(n for n in catalog.PROVIDER_NAMES if n != spec.name)
    text = "\n".join(
        [
            f"{spec.label} ({spec.name}){now}",
            *table,
            "",
            *(f"note: {n}" for n in spec.notes),
            f"cancel: {spec.cancel_note}",
            f"other providers: {others} (seedance-nb models --provider NAME)",
            f"prices: {catalog.LIST_SOURCE}, read on {catalog.LIST_READ_ON.isoformat()}; "
            "indicative, estimates and the budget use them (sd.catalog.set_price for yours)",
        ]
    )
    out.result(
        {
            "provider": spec.name,
            "label": spec.label,
            "emulated": choice.emulated,
            "can_cancel": spec.can_cancel,
            "cancel_note": spec.cancel_note,
            "notes": list(spec.notes),
            "tiers": tiers,
        },
        text,
    )
    return 0


def _tier_data(tier: str, o: catalog.Offer) -> dict[str, Any]:
    """One tier's row of ``models --json``."""
    price = catalog.price_of(tier)
    modes = [m for m in catalog.MODES if m in o.modes]
    return {
        "tier": tier,
        "model_id": o.model_id,
        "available": o.available,
        "note": o.note,
        "modes": modes,
        "references": sorted(o.reference_kinds),
        "durations": list(o.durations),
        "auto_duration": o.auto_duration,
        "resolutions": list(o.resolutions),
        "ratios": list(o.ratios),
        "audio": o.audio,
        "audio_default": o.audio_default,
        "params": sorted(o.params),
        "service_tiers": list(o.service_tiers),
        "max_images": o.max_images,
        "max_videos": o.max_videos,
        "max_audios": o.max_audios,
        "max_media": o.max_media,
        "usd_per_mtok": price.usd_per_million_tokens if price is not None else None,
        "price_source": price.source if price is not None else None,
        "price_read_on": price.read_on.isoformat() if price is not None else None,
    }
