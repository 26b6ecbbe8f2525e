"""The pure counting of the SLA KPIs: periods, nearest-rank percentiles, buckets, ratios
and attainment groups; expected values worked out by hand."""

from __future__ import annotations

from datetime import date

import pytest

from services.support.domain.sla_kpis import (
    BUSINESS_AGE,
    CALENDAR_AGE,
    SettledClock,
    attainment,
    bucket,
    percentile,
    period_of,
    ratio,
)


@pytest.mark.parametrize(("day", "period", "expected"), [
    (date(2026, 11, 23), "day", "2026-11-23"),
    (date(2026, 11, 23), "week", "2026-W48"),
    (date(2026, 11, 23), "month", "2026-11"),
    # 2027-01-01 is a Friday: ISO week 53 of 2026.
    (date(2027, 1, 1), "week", "2026-W53"),
    (date(2027, 1, 4), "week", "2027-W01"),
])  # fmt: skip
def test_period_of(day: date, period: str, expected: str) -> None:
    assert period_of(day, period) == expected  # type: ignore[arg-type]


def test_percentile_is_nearest_rank_so_always_a_measured_value() -> None:
    assert percentile([], 50) is None
    assert percentile([7], 90) == 7
    assert percentile([40, 10, 30, 20], 50) == 20  # rank ceil(2.0) = 2
    assert percentile([40, 10, 30, 20], 90) == 40  # rank ceil(3.6) = 4
    assert percentile(range(1, 11), 90) == 9  # rank ceil(9.0) = 9, no float drift
    assert percentile(range(1, 11), 100) == 10
    with pytest.raises(ValueError, match="p:"):
        percentile([1], 0)


def test_buckets_are_half_open() -> None:
    assert bucket(0, CALENDAR_AGE) == "<1d"
    assert bucket(86_399, CALENDAR_AGE) == "<1d"
    assert bucket(86_400, CALENDAR_AGE) == "1-3d"
    assert bucket(7 * 86_400, CALENDAR_AGE) == ">=7d"
    assert bucket(4 * 3600 - 1, BUSINESS_AGE) == "<4h"
    assert bucket(8 * 3600, BUSINESS_AGE) == "8-24h"


def test_ratio_rounds_half_up_to_four_places() -> None:
    assert ratio(0, 0) is None
    assert ratio(2, 3) == "0.6667"
    assert ratio(1, 3) == "0.3333"
    assert ratio(1, 8) == "0.1250"
    assert ratio(1, 160_000) == "0.0000"  # 0.00000625
    assert ratio(1, 20_000) == "0.0001"  # exactly 0.00005: half up
    assert ratio(5, 5) == "1.0000"


def test_attainment_groups_in_order_with_times_of_fulfilled_clocks_only() -> None:
    monday, tuesday = date(2026, 11, 23), date(2026, 11, 24)
    settled = [
        SettledClock("resolution", "normal", "alpha", monday, True, 600),
        SettledClock("first_response", "normal", "alpha", tuesday, False, 18_000),
        SettledClock("first_response", "normal", "alpha", monday, True, 3600),
        SettledClock("first_response", "normal", "alpha", monday, False, None),
    ]
    assert attainment(settled, "week") == [
        {"metric": "first_response", "policy_id": "normal", "team": "alpha",
         "period": "2026-W48", "settled": 3, "met": 1, "attainment": "0.3333",
         "median_business_minutes": 60.0, "p90_business_minutes": 300.0},
        {"metric": "resolution", "policy_id": "normal", "team": "alpha",
         "period": "2026-W48", "settled": 1, "met": 1, "attainment": "1.0000",
         "median_business_minutes": 10.0, "p90_business_minutes": 10.0},
    ]  # fmt: skip
    by_day = attainment(settled, "day")
    assert [(g["metric"], g["period"], g["settled"]) for g in by_day] == [
        ("first_response", "2026-11-23", 2), ("first_response", "2026-11-24", 1),
        ("resolution", "2026-11-23", 1)]  # fmt: skip
