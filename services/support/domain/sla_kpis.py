"""Service-level KPIs over settled SLA clocks and open cases (pure).

* A clock is *settled* once its outcome is known: met (fulfilled before its target) or
  missed (fulfilled late, or still unfulfilled past its due instant). A clock still
  running within its target counts for nothing yet. Attainment = met ÷ settled.
* A settled clock belongs to the period (day, ISO week ``2026-W48``, month ``2026-11``) of
  the local day it settled on: its fulfilment, or its due instant if missed unfulfilled.
* Percentiles are nearest-rank: the p-th percentile of n sorted values is the value at
  rank ceil(p/100 * n), so it is always a measured value (the median of 4 is the 2nd).
* Ageing buckets are half-open: an age of exactly one day is in ``1-3d``, not ``<1d``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal

Period = Literal["day", "week", "month"]

CALENDAR_AGE: tuple[tuple[str, int], ...] = (
    ("<1d", 0), ("1-3d", 86_400), ("3-7d", 3 * 86_400), (">=7d", 7 * 86_400),
)  # fmt: skip
"""Label and lower bound in seconds: wall-clock age since the case opened."""
BUSINESS_AGE: tuple[tuple[str, int], ...] = (
    ("<4h", 0), ("4-8h", 4 * 3600), ("8-24h", 8 * 3600), (">=24h", 24 * 3600),
)  # fmt: skip
"""Label and lower bound in seconds: business time since the case opened (its policy's
calendar; a pause still ages a case, it only stops its SLA clocks)."""


@dataclass(frozen=True)
class SettledClock:
    metric: str
    policy_id: str
    team: str
    settled_on: date
    met: bool
    business_seconds: int | None = None
    """Business time to fulfilment, for a fulfilled clock."""


def period_of(day: date, period: Period) -> str:
    if period == "day":
        return day.isoformat()
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return f"{day.year}-{day.month:02d}"


def percentile(values: Iterable[int], p: int) -> int | None:
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 < p <= 100:
        raise ValueError("p: a percentile is more than 0 and at most 100")
    return ordered[max(1, math.ceil(Fraction(p, 100) * len(ordered))) - 1]


def bucket(seconds: float, buckets: Sequence[tuple[str, int]]) -> str:
    label = buckets[0][0]
    for name, low in buckets:
        if seconds >= low:
            label = name
    return label


def attainment(settled: Iterable[SettledClock], period: Period) -> list[dict[str, object]]:
    """One group per (metric, policy, team, period), in that order: settled, met, the
    attainment as a decimal string (4 places) and the business minutes to fulfilment of
    its fulfilled clocks (median, p90)."""
    groups: dict[tuple[str, str, str, str], list[SettledClock]] = {}
    for clock in settled:
        key = (clock.metric, clock.policy_id, clock.team, period_of(clock.settled_on, period))
        groups.setdefault(key, []).append(clock)
    out: list[dict[str, object]] = []
    for (metric, policy_id, team, when), clocks in sorted(groups.items()):
        met = sum(1 for c in clocks if c.met)
        out.append({
            "metric": metric, "policy_id": policy_id, "team": team, "period": when,
            "settled": len(clocks), "met": met, "attainment": ratio(met, len(clocks)),
            **times(c.business_seconds for c in clocks),
        })  # fmt: skip
    return out


def times(seconds: Iterable[int | None]) -> dict[str, float | None]:
    """Median and p90 in business minutes of the measured values."""
    known = [s for s in seconds if s is not None]
    median, p90 = percentile(known, 50), percentile(known, 90)
    return {"median_business_minutes": None if median is None else median / 60,
            "p90_business_minutes": None if p90 is None else p90 / 60}  # fmt: skip


def ratio(part: int, whole: int) -> str | None:
    return None if whole == 0 else _fixed(part, whole)


def _fixed(part: int, whole: int) -> str:
    # Exact decimal rounding (half up) to 4 places, so 2/3 is "0.6667" everywhere.
    scaled = (Fraction(part, whole) * 10_000 + Fraction(1, 2)).__floor__()
    return f"{scaled // 10_000}.{scaled % 10_000:04d}"
