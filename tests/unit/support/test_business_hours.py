"""Business-time arithmetic on calendars defined here. Every expected instant is worked out
by hand from the calendar in the test: Sao Paulo and Buenos Aires are UTC-3 all year
(no DST since 2019 and 2009), Lisbon is UTC+0 in winter and UTC+1 in summer (2026: from
29 March 01:00 UTC to 25 October 01:00 UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from services.support.domain.business_hours import (
    BusinessCalendar,
    add_business_minutes,
    add_business_seconds,
    business_minutes_between,
    business_seconds_between,
    is_open,
    next_opening,
)

LUNCH = ((time(9), time(12)), (time(13), time(18)))
BR = BusinessCalendar(
    "br-business", 1, "America/Sao_Paulo", {d: LUNCH for d in range(5)}, national_holidays=("BR",)
)
BR_WITH_XMAS_EVE = BusinessCalendar(
    "br-business",
    2,
    "America/Sao_Paulo",
    {d: LUNCH for d in range(5)},
    holidays=frozenset({date(2026, 12, 24)}),
    national_holidays=("BR",),
)
AR = BusinessCalendar(
    "ar-business",
    1,
    "America/Argentina/Buenos_Aires",
    {d: ((time(9), time(18)),) for d in range(5)},
    national_holidays=("AR",),
)
ALWAYS = BusinessCalendar("always", 1, "UTC", always_open=True)
WHOLE_DAYS_UTC = BusinessCalendar("days", 1, "UTC", {d: ((time(0), time(0)),) for d in range(7)})
WHOLE_DAYS_LISBON = BusinessCalendar(
    "days", 1, "Europe/Lisbon", {d: ((time(0), time(0)),) for d in range(7)}
)
LISBON_OFFICE = BusinessCalendar(
    "pt", 1, "Europe/Lisbon", {d: ((time(9), time(18)),) for d in range(5)}
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, s: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, s, tzinfo=UTC)


def sp(year: int, month: int, day: int, hour: int = 0, minute: int = 0, s: int = 0) -> datetime:
    """A Sao Paulo wall-clock time (UTC-3), as UTC."""
    return utc(year, month, day, hour, minute, s) + timedelta(hours=3)


def test_lunch_break_is_skipped() -> None:
    # Monday 11:30: 30 minutes before lunch, 30 after it.
    assert add_business_minutes(BR, sp(2026, 11, 23, 11, 30), 60) == sp(2026, 11, 23, 13, 30)
    assert business_seconds_between(BR, sp(2026, 11, 23, 11, 30), sp(2026, 11, 23, 13, 30)) == 3600
    assert not is_open(BR, sp(2026, 11, 23, 12, 0))
    assert next_opening(BR, sp(2026, 11, 23, 12, 0)) == sp(2026, 11, 23, 13, 0)


def test_holiday_from_the_company_list_is_skipped() -> None:
    # Wednesday 23 December 17:00 + 2 h: 17:00-18:00, then Thursday 24 (company holiday),
    # Friday 25 (Christmas), the weekend, and Monday 28 09:00-10:00.
    start = sp(2026, 12, 23, 17, 0)
    assert add_business_minutes(BR_WITH_XMAS_EVE, start, 120) == sp(2026, 12, 28, 10, 0)
    # Without the company's own holiday the 24th is an ordinary Thursday.
    assert add_business_minutes(BR, start, 120) == sp(2026, 12, 24, 10, 0)


def test_brazilian_national_holiday_is_closed() -> None:
    # Friday 20 November 2026, Black Awareness Day, a national holiday in the library.
    assert not is_open(BR, sp(2026, 11, 20, 10, 0))
    assert next_opening(BR, sp(2026, 11, 20, 10, 0)) == sp(2026, 11, 23, 9, 0)
    assert business_seconds_between(BR, sp(2026, 11, 19, 18, 0), sp(2026, 11, 23, 9, 0)) == 0


def test_argentine_carnival_is_skipped() -> None:
    # Friday 13 February 2026 17:00 + 2 h: 17:00-18:00, carnival Monday 16 and Tuesday 17,
    # then Wednesday 18 09:00-10:00 (Buenos Aires, UTC-3).
    assert add_business_minutes(AR, utc(2026, 2, 13, 20, 0), 120) == utc(2026, 2, 18, 13, 0)


def test_next_opening_is_the_instant_itself_while_open() -> None:
    at = sp(2026, 11, 23, 10, 15, 7)
    assert next_opening(BR, at) == at
    assert is_open(BR, sp(2026, 11, 23, 9, 0))
    assert not is_open(BR, sp(2026, 11, 23, 18, 0))
    assert next_opening(BR, sp(2026, 11, 21, 10, 0)) == sp(2026, 11, 23, 9, 0)  # Saturday


@pytest.mark.parametrize("calendar", [ALWAYS, WHOLE_DAYS_UTC], ids=["always_open", "00-24"])
def test_24_7_loses_no_minute_at_midnight_zammad_3180(calendar: BusinessCalendar) -> None:
    start = utc(2026, 5, 4, 23, 30)
    assert add_business_minutes(calendar, start, 60) == utc(2026, 5, 5, 0, 30)
    assert business_seconds_between(calendar, start, utc(2026, 5, 5, 0, 30)) == 3600
    assert business_seconds_between(calendar, utc(2026, 5, 4), utc(2026, 5, 11)) == 7 * 86400
    assert is_open(calendar, utc(2026, 5, 4, 23, 59, 59))
    assert is_open(calendar, utc(2026, 5, 5, 0, 0))


def test_whole_local_days_follow_the_clock_changes() -> None:
    # Noon to noon across the spring change is 23 hours, across the autumn one 25.
    spring = business_seconds_between(
        WHOLE_DAYS_LISBON, utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 11, 0)
    )
    autumn = business_seconds_between(
        WHOLE_DAYS_LISBON, utc(2026, 10, 24, 11, 0), utc(2026, 10, 25, 12, 0)
    )
    assert (spring, autumn) == (23 * 3600, 25 * 3600)


def test_office_deadline_keeps_its_wall_clock_time_across_the_spring_change() -> None:
    # Friday 27 March 17:00 (UTC+0) + 2 h: 17:00-18:00, then Monday 30 09:00-10:00 (UTC+1).
    assert add_business_minutes(LISBON_OFFICE, utc(2026, 3, 27, 17), 120) == utc(2026, 3, 30, 9)


def test_nonexistent_local_time_is_the_instant_of_the_jump() -> None:
    # Lisbon, Sunday 29 March 2026: 01:00 becomes 02:00. 01:30-03:00 local is 01:00-02:00 UTC.
    gap = BusinessCalendar("gap", 1, "Europe/Lisbon", {6: ((time(1, 30), time(3)),)})
    assert next_opening(gap, utc(2026, 3, 29, 0, 0)) == utc(2026, 3, 29, 1, 0)
    assert business_seconds_between(gap, utc(2026, 3, 29), utc(2026, 3, 30)) == 3600
    # Sao Paulo, 4 November 2018: midnight became 01:00, so the day began at 03:00 UTC.
    midnight = BusinessCalendar("sp", 1, "America/Sao_Paulo", {6: ((time(0), time(2)),)})
    assert next_opening(midnight, utc(2018, 11, 4, 0, 0)) == utc(2018, 11, 4, 3, 0)
    assert business_seconds_between(midnight, utc(2018, 11, 4), utc(2018, 11, 5)) == 3600


def test_ambiguous_local_time_is_its_first_occurrence() -> None:
    # Lisbon, Sunday 25 October 2026: 02:00 becomes 01:00, so 01:00-02:00 local is worked
    # twice: from 01:00 summer time (00:00 UTC) to 02:00 winter time (02:00 UTC).
    fold = BusinessCalendar("fold", 1, "Europe/Lisbon", {6: ((time(1), time(2)),)})
    assert next_opening(fold, utc(2026, 10, 24, 23, 0)) == utc(2026, 10, 25, 0, 0)
    assert business_seconds_between(fold, utc(2026, 10, 25), utc(2026, 10, 26)) == 7200


def test_any_aware_input_gives_utc_and_naive_input_is_refused() -> None:
    sao_paulo_wall = datetime(2026, 11, 23, 11, 30, tzinfo=timezone(timedelta(hours=-3)))
    due = add_business_minutes(BR, sao_paulo_wall, 60)
    assert due == sp(2026, 11, 23, 13, 30)
    assert due.utcoffset() == timedelta(0)
    with pytest.raises(ValueError, match="start"):
        add_business_minutes(BR, datetime(2026, 11, 23, 11, 30), 60)
    with pytest.raises(ValueError, match="end"):
        business_seconds_between(BR, sp(2026, 11, 23, 9, 0), datetime(2026, 11, 23, 11, 30))
    with pytest.raises(ValueError, match="at"):
        is_open(BR, datetime(2026, 11, 23, 11, 30))


def test_adding_nothing_returns_the_start_and_minutes_wrap_seconds() -> None:
    saturday = sp(2026, 11, 21, 10, 0)
    assert add_business_seconds(BR, saturday, 0) == saturday
    assert business_minutes_between(BR, sp(2026, 11, 23, 9, 0), sp(2026, 11, 23, 9, 1, 30)) == 1.5
    with pytest.raises(ValueError, match="seconds"):
        add_business_seconds(BR, saturday, -1)
    with pytest.raises(ValueError, match="end"):
        business_seconds_between(BR, saturday, saturday - timedelta(seconds=1))


def test_a_calendar_round_trips_through_its_json_form() -> None:
    data = {
        "id": "br-business",
        "version": 2,
        "time_zone": "America/Sao_Paulo",
        "weekly": {"mon": [["09:00", "12:00"], ["13:00", "24:00"]], "sat": [["10:00", "14:00"]]},
        "holidays": ["2026-12-24"],
        "national_holidays": ["BR-SP"],
    }
    calendar = BusinessCalendar.from_dict(data)
    assert calendar.weekly_hours[0] == ((time(9), time(12)), (time(13), time(0)))
    assert calendar.holidays == {date(2026, 12, 24)}
    assert calendar.to_dict() == data
    assert BusinessCalendar.from_dict(calendar.to_dict()) == calendar


def test_a_subdivision_adds_its_own_holidays() -> None:
    # Thursday 9 July 2026, Constitutionalist Revolution: a holiday of São Paulo state only.
    state = BusinessCalendar(
        "sp", 1, "America/Sao_Paulo", {d: LUNCH for d in range(5)}, national_holidays=("BR-SP",)
    )
    assert not is_open(state, sp(2026, 7, 9, 10, 0))
    assert is_open(BR, sp(2026, 7, 9, 10, 0))


BASE = {"id": "c", "version": 1, "time_zone": "UTC", "weekly": {"mon": [["09:00", "18:00"]]}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"id": ""}, "id"),
        ({"version": 0}, "version"),
        ({"version": "1"}, "version"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"weekly": {"funday": [["09:00", "18:00"]]}}, "weekly"),
        ({"weekly": {"mon": [["9h", "18:00"]]}}, "weekly.mon"),
        ({"weekly": {"mon": [["18:00", "09:00"]]}}, "weekly.mon"),
        ({"weekly": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "weekly.mon"),
        ({"weekly": {}}, "weekly"),
        ({"holidays": ["24/12/2026"]}, "holidays"),
        ({"national_holidays": ["XX"]}, "national_holidays"),
        ({"national_holidays": ["BR-ZZ"]}, "national_holidays"),
        ({"always_open": True}, "always_open"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_calendar_errors_name_the_field(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        BusinessCalendar.from_dict({**BASE, **change})


def test_missing_required_field_is_named() -> None:
    with pytest.raises(ValueError, match="time_zone: required"):
        BusinessCalendar.from_dict({"id": "c", "version": 1})
