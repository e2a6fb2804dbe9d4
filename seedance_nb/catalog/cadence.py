"""How often each provider wants a task's status read, with the page that says so.

The scheduler's default poll policy comes from here (``engine/pacing.py``). Where a provider
documents nothing, the entry says so and borrows the cadence OrcaRouter documents for the same
upstream (Ark), rather than inventing one.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PollCadence:
    """How often a provider wants a task's status read, with the page that says so.

    The interval starts at ``min_s`` and grows as ``growth`` × the task's age up to ``max_s``
    (short renders finish early; long ones are read less often as they age).
    """

    min_s: float
    max_s: float
    growth: float
    source: str

    def interval(self, age: float) -> float:
        return max(self.min_s, min(self.max_s, age * self.growth))


# Providers that say nothing about it get the gateways' common 5-10 s
UNDOCUMENTED_CADENCE = PollCadence(
    5.0, 10.0, 0.1, "not documented; the 5-10 s OrcaRouter documents for the same upstream"
)


# Ark documents no poll cadence (its guide says: poll with backoff, callbacks for speed, seed
# 002). One listing reads up to 100 tasks, so a round every second costs a lone job one
# request a second and a fleet one request per 100 jobs; past three minutes of age
# the rounds thin out (0.005 × age) toward 15 s.
ARK_CADENCE = PollCadence(
    1.0, 15.0, 0.005, "not documented by Ark (seed 002: 'polling with backoff'); batched rounds"
)
ORCAROUTER_CADENCE = PollCadence(
    5.0, 10.0, 0.1, "OrcaRouter: 'poll every 5-10 s' (seed 000, 결과 폴링)"
)
COMETAPI_CADENCE = PollCadence(
    10.0, 20.0, 0.1, "CometAPI: 'call the video query every 10 to 20 seconds' (seed 003, 작업 폴링)"
)
EVOLINK_CADENCE = PollCadence(
    5.0,
    10.0,
    0.1,
    "not documented by EvoLink (seed 004; its create answer carries task_info.estimated_time); "
    "OrcaRouter's 5-10 s for the same upstream",
)
SEEDANCE2INK_CADENCE = PollCadence(
    5.0,
    10.0,
    0.1,
    "not documented by seedance2.ink (seed 001: webhookUrl on completion); "
    "OrcaRouter's 5-10 s for the same upstream",
)


__all__ = [
    "ARK_CADENCE",
    "COMETAPI_CADENCE",
    "EVOLINK_CADENCE",
    "ORCAROUTER_CADENCE",
    "SEEDANCE2INK_CADENCE",
    "UNDOCUMENTED_CADENCE",
    "PollCadence",
]
