"""Customer satisfaction (CSAT): the share of answered surveys that were satisfied.

Method: each answered survey carries one score on a closed scale (1..5 by default). A score
at or above the scale's ``satisfied_from`` counts as satisfied ("top-two-box" on the default
scale: 4 and 5). CSAT = satisfied ÷ answered, published as a Decimal fraction rounded to 4
places with ROUND_HALF_EVEN (banker's rounding, so ties do not drift upwards when many
published figures are compared). With nothing answered there is no score (None), never 0:
an empty period is not a period of unhappy customers.

Grouping: ``csat_by`` splits ratings by team, agent, category, calendar month (``YYYY-MM``)
or ISO 8601 week (``YYYY-Www``, the ISO week-numbering year, so 3 January 2021 belongs to
``2020-W53``). The period is taken from ``rated_at`` exactly as given: callers convert
instants to the business's time zone first, because which day a survey falls on is a
business-calendar decision, not a UTC one.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Literal, TypeVar, overload

__all__ = [
    "DEFAULT_SCALE",
    "CsatGrouping",
    "CsatRating",
    "CsatScale",
    "CsatSummary",
    "csat_by",
    "csat_score",
    "is_satisfied",
    "iso_week",
    "month",
]

PLACES = Decimal("0.0001")

CsatGrouping = Literal["team", "agent", "category", "month", "week"]
K = TypeVar("K", bound=Hashable)


def _is_int(value: object) -> bool:
    # bool is an int subclass; True as a score is a caller's bug, not a 1.
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class CsatScale:
    """A closed integer scale; scores from ``satisfied_from`` up to ``high`` are satisfied."""

    low: int = 1
    high: int = 5
    satisfied_from: int = 4

    def __post_init__(self) -> None:
        for name in ("low", "high", "satisfied_from"):
            if not _is_int(getattr(self, name)):
                raise ValueError(f"CSAT scale {name} must be an integer")
        if self.low >= self.high:
            raise ValueError(f"CSAT scale low ({self.low}) must be below high ({self.high})")
        if not self.low <= self.satisfied_from <= self.high:
            raise ValueError(
                f"CSAT scale satisfied_from ({self.satisfied_from}) must be within "
                f"{self.low}..{self.high}"
            )

    def check(self, score: int) -> int:
        """The score itself when it lies on the scale; ValueError otherwise."""
        if not _is_int(score) or not self.low <= score <= self.high:
            raise ValueError(f"CSAT score {score!r} must be an integer in {self.low}..{self.high}")
        return score


DEFAULT_SCALE = CsatScale()


def is_satisfied(scale: CsatScale, score: int) -> bool:
    return scale.check(score) >= scale.satisfied_from


@dataclass(frozen=True)
class CsatRating:
    """One answered survey. Team, agent and category are optional: a case may have none."""

    score: int
    rated_at: date
    team: str | None = None
    agent: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class CsatSummary:
    answered: int
    satisfied: int
    score: Decimal | None


def csat_score(ratings: Iterable[CsatRating], scale: CsatScale = DEFAULT_SCALE) -> CsatSummary:
    """CSAT of the ratings; every score is checked against the scale (ValueError if off it)."""
    answered = satisfied = 0
    for rating in ratings:
        answered += 1
        satisfied += is_satisfied(scale, rating.score)
    if answered == 0:
        return CsatSummary(answered=0, satisfied=0, score=None)
    # Integers divided with the default 28-digit context: far more digits than the 4 kept,
    # so the single quantize below is the only rounding.
    score = (Decimal(satisfied) / Decimal(answered)).quantize(PLACES, rounding=ROUND_HALF_EVEN)
    return CsatSummary(answered=answered, satisfied=satisfied, score=score)


def month(day: date) -> str:
    """Calendar month of a date, ``YYYY-MM``."""
    return f"{day.year:04d}-{day.month:02d}"


def iso_week(day: date) -> str:
    """ISO 8601 week of a date, ``YYYY-Www`` with the ISO week-numbering year."""
    iso = day.isocalendar()
    return f"{iso.year:04d}-W{iso.week:02d}"


_KEYS: Mapping[str, Callable[[CsatRating], str | None]] = {
    "team": lambda r: r.team,
    "agent": lambda r: r.agent,
    "category": lambda r: r.category,
    "month": lambda r: month(r.rated_at),
    "week": lambda r: iso_week(r.rated_at),
}


@overload
def csat_by(
    ratings: Iterable[CsatRating], key: CsatGrouping, scale: CsatScale = ...
) -> dict[str | None, CsatSummary]: ...
@overload
def csat_by(
    ratings: Iterable[CsatRating], key: Callable[[CsatRating], K], scale: CsatScale = ...
) -> dict[K, CsatSummary]: ...
def csat_by(
    ratings: Iterable[CsatRating],
    key: CsatGrouping | Callable[[CsatRating], Hashable],
    scale: CsatScale = DEFAULT_SCALE,
) -> dict[Any, CsatSummary]:
    """CSAT per group, groups in first-seen order.

    ``key`` names a grouping or is any function of a rating. Ratings without the named
    attribute (no team, say) form the ``None`` group rather than being dropped, so the
    groups' ``answered`` always add up to the whole.
    """
    if isinstance(key, str):
        if key not in _KEYS:
            raise ValueError(f"unknown CSAT grouping {key!r}; expected one of {', '.join(_KEYS)}")
        key_of: Callable[[CsatRating], Hashable] = _KEYS[key]
    else:
        key_of = key
    groups: dict[Hashable, list[CsatRating]] = {}
    for rating in ratings:
        groups.setdefault(key_of(rating), []).append(rating)
    return {group: csat_score(members, scale) for group, members in groups.items()}
