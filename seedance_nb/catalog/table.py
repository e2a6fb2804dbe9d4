"""The ``models`` table: what a provider sells, one printable row per tier."""

from __future__ import annotations

from .offers import Provider
from .prices import price_per_million_tokens
from .tiers import MODES

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
