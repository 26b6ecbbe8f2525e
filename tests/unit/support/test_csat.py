"""CSAT: the scale, satisfied ÷ answered as a 4-place fraction, and grouping by team, agent,
category, month and ISO week. Every expected figure is worked out by hand below."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from services.support.domain.csat import (
    DEFAULT_SCALE,
    CsatRating,
    CsatScale,
    CsatSummary,
    csat_by,
    csat_score,
    is_satisfied,
    iso_week,
    month,
)

DAY = date(2024, 3, 15)


def rating(
    score: int,
    rated_at: date = DAY,
    team: str | None = None,
    agent: str | None = None,
    category: str | None = None,
) -> CsatRating:
    return CsatRating(score, rated_at, team=team, agent=agent, category=category)


def test_default_scale_is_one_to_five_satisfied_from_four() -> None:
    assert (DEFAULT_SCALE.low, DEFAULT_SCALE.high, DEFAULT_SCALE.satisfied_from) == (1, 5, 4)
    assert [is_satisfied(DEFAULT_SCALE, s) for s in (1, 2, 3, 4, 5)] == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_a_custom_scale_moves_the_threshold() -> None:
    scale = CsatScale(low=0, high=10, satisfied_from=9)
    assert not is_satisfied(scale, 8)
    assert is_satisfied(scale, 9)
    assert is_satisfied(scale, 0) is False


@pytest.mark.parametrize(
    ("low", "high", "satisfied_from", "message"),
    [
        (5, 5, 5, "low (5) must be below high (5)"),
        (5, 1, 3, "low (5) must be below high (1)"),
        (1, 5, 6, "satisfied_from (6) must be within 1..5"),
        (1, 5, 0, "satisfied_from (0) must be within 1..5"),
    ],
)
def test_an_inconsistent_scale_is_refused(
    low: int, high: int, satisfied_from: int, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        CsatScale(low=low, high=high, satisfied_from=satisfied_from)


def test_a_scale_bound_must_be_an_integer() -> None:
    with pytest.raises(ValueError, match="high must be an integer"):
        CsatScale(high=4.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("score", [0, 6, True, 4.0])
def test_a_score_off_the_scale_is_refused(score: int) -> None:
    with pytest.raises(ValueError, match=re.escape("must be an integer in 1..5")):
        is_satisfied(DEFAULT_SCALE, score)
    with pytest.raises(ValueError, match=re.escape("must be an integer in 1..5")):
        csat_score([rating(5), rating(score)])


def test_score_is_satisfied_over_answered_rounded_to_four_places() -> None:
    # Scores 5, 4, 4, 3, 5, 1, 4: satisfied (>= 4) are 5, 4, 4, 5, 4 -> 5 of 7.
    # 5 / 7 = 0.714285... -> 0.7143.
    summary = csat_score([rating(s) for s in (5, 4, 4, 3, 5, 1, 4)])
    assert summary == CsatSummary(answered=7, satisfied=5, score=Decimal("0.7143"))
    assert str(summary.score) == "0.7143"


def test_score_rounds_half_to_even() -> None:
    # 1 / 32 = 0.03125: half-even keeps 0.0312 (half-up would give 0.0313).
    # 3 / 32 = 0.09375: half-even goes to 0.0938 (8 is even).
    one = csat_score([rating(5)] + [rating(1)] * 31)
    three = csat_score([rating(5)] * 3 + [rating(1)] * 29)
    assert str(one.score) == "0.0312"
    assert str(three.score) == "0.0938"


def test_all_and_none_satisfied_publish_four_places() -> None:
    assert str(csat_score([rating(5), rating(4)]).score) == "1.0000"
    assert str(csat_score([rating(1), rating(3)]).score) == "0.0000"


def test_nothing_answered_has_no_score() -> None:
    assert csat_score([]) == CsatSummary(answered=0, satisfied=0, score=None)


def test_score_on_a_custom_scale() -> None:
    # 0..10, satisfied from 9: 9 and 10 satisfied, 8 not -> 2 / 3 = 0.6666... -> 0.6667.
    scale = CsatScale(low=0, high=10, satisfied_from=9)
    summary = csat_score([rating(9), rating(10), rating(8)], scale)
    assert summary == CsatSummary(answered=3, satisfied=2, score=Decimal("0.6667"))


def test_score_accepts_a_one_shot_iterator() -> None:
    summary = csat_score(rating(s) for s in (5, 2))
    assert summary == CsatSummary(answered=2, satisfied=1, score=Decimal("0.5000"))


def test_by_team_keeps_ratings_without_a_team_in_the_none_group() -> None:
    ratings = [
        rating(5, team="billing"),
        rating(2, team="field"),
        rating(4, team="billing"),
        rating(3, team="billing"),
        rating(5),
    ]
    groups = csat_by(ratings, "team")
    # billing: 5, 4, 3 -> 2 of 3 = 0.6667; field: 2 -> 0 of 1; no team: 5 -> 1 of 1.
    assert groups == {
        "billing": CsatSummary(3, 2, Decimal("0.6667")),
        "field": CsatSummary(1, 0, Decimal("0.0000")),
        None: CsatSummary(1, 1, Decimal("1.0000")),
    }
    assert list(groups) == ["billing", "field", None]  # first-seen order
    assert sum(g.answered for g in groups.values()) == len(ratings)


def test_by_agent_and_by_category() -> None:
    ratings = [
        rating(5, agent="ana", category="invoice"),
        rating(1, agent="bruno", category="invoice"),
        rating(4, agent="ana", category="outage"),
    ]
    # ana: 5, 4 -> 2 of 2; bruno: 1 -> 0 of 1.
    assert csat_by(ratings, "agent") == {
        "ana": CsatSummary(2, 2, Decimal("1.0000")),
        "bruno": CsatSummary(1, 0, Decimal("0.0000")),
    }
    # invoice: 5, 1 -> 1 of 2 = 0.5; outage: 4 -> 1 of 1.
    assert csat_by(ratings, "category") == {
        "invoice": CsatSummary(2, 1, Decimal("0.5000")),
        "outage": CsatSummary(1, 1, Decimal("1.0000")),
    }


def test_by_month() -> None:
    ratings = [
        rating(5, rated_at=date(2024, 1, 31)),
        rating(2, rated_at=date(2024, 2, 1)),
        rating(4, rated_at=datetime(2024, 2, 29, 23, 59, tzinfo=UTC)),
        rating(1, rated_at=date(2023, 12, 31)),
    ]
    assert csat_by(ratings, "month") == {
        "2024-01": CsatSummary(1, 1, Decimal("1.0000")),
        "2024-02": CsatSummary(2, 1, Decimal("0.5000")),
        "2023-12": CsatSummary(1, 0, Decimal("0.0000")),
    }


def test_by_iso_week_uses_the_iso_week_numbering_year() -> None:
    ratings = [
        # Sunday 3 January 2021 closes ISO week 53 of 2020; Monday 4 January opens 2021-W01.
        rating(5, rated_at=date(2021, 1, 3)),
        rating(1, rated_at=date(2021, 1, 4)),
        rating(4, rated_at=date(2021, 1, 10)),
        # Monday 30 December 2024 is in ISO week 1 of 2025.
        rating(2, rated_at=date(2024, 12, 30)),
    ]
    assert csat_by(ratings, "week") == {
        "2020-W53": CsatSummary(1, 1, Decimal("1.0000")),
        "2021-W01": CsatSummary(2, 1, Decimal("0.5000")),
        "2025-W01": CsatSummary(1, 0, Decimal("0.0000")),
    }


def test_period_labels() -> None:
    assert month(date(2024, 7, 1)) == "2024-07"
    assert iso_week(date(2024, 7, 1)) == "2024-W27"
    assert iso_week(date(2021, 1, 3)) == "2020-W53"


def test_by_any_function_of_a_rating() -> None:
    ratings = [rating(5, team="a", agent="x"), rating(1, team="a", agent="y"), rating(4)]
    groups = csat_by(ratings, lambda r: (r.team, r.agent))
    assert groups == {
        ("a", "x"): CsatSummary(1, 1, Decimal("1.0000")),
        ("a", "y"): CsatSummary(1, 0, Decimal("0.0000")),
        (None, None): CsatSummary(1, 1, Decimal("1.0000")),
    }


def test_grouping_uses_the_given_scale() -> None:
    scale = CsatScale(low=1, high=5, satisfied_from=5)
    # Only 5 is satisfied now: billing 5, 4 -> 1 of 2.
    groups = csat_by([rating(5, team="billing"), rating(4, team="billing")], "team", scale)
    assert groups == {"billing": CsatSummary(2, 1, Decimal("0.5000"))}


def test_an_unknown_grouping_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown CSAT grouping 'queue'"):
        csat_by([rating(5)], "queue")  # type: ignore[call-overload]


def test_no_ratings_no_groups() -> None:
    assert csat_by([], "team") == {}
