"""What a provider sells: an :class:`Offer` per tier, gathered in a :class:`Provider`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .cadence import UNDOCUMENTED_CADENCE, PollCadence


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
    cadence: PollCadence = UNDOCUMENTED_CADENCE

    def offer(self, tier: str) -> Offer | None:
        return self.offers.get(tier)

    def tier_for_model_id(self, model_id: str) -> str | None:
        """Map a raw provider model id back to its tier name."""
        for offer in self.offers.values():
            if offer.model_id == model_id:
                return offer.tier
        return None
