"""Properties of business time and SLA clocks, over calendars in time zones with and
without DST (Sao Paulo, Buenos Aires, Lisbon) and histories drawn by Hypothesis."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from services.support.domain.business_hours import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds_between,
)
from services.support.domain.sla import ClockEvent, SlaPolicy, clocks

ZONES = ("America/Sao_Paulo", "America/Argentina/Buenos_Aires", "Europe/Lisbon")
OFFICE = ((time(9), time(18)),)
LUNCH = ((time(9), time(12)), (time(13), time(18)))
# Plain offices, whose deadlines the wall-clock oracle below can check.
OFFICES = {
    zone: BusinessCalendar("office", 1, zone, {d: OFFICE for d in range(5)}) for zone in ZONES
}
CALENDARS = [
    *OFFICES.values(),
    BusinessCalendar(
        "br", 1, "America/Sao_Paulo", {d: LUNCH for d in range(5)}, national_holidays=("BR",)
    ),
    BusinessCalendar(
        "ar",
        1,
        "America/Argentina/Buenos_Aires",
        {d: OFFICE for d in range(5)},
        national_holidays=("AR",),
    ),
    # Whole days and the small hours of Sunday: the intervals the clock changes cut into.
    BusinessCalendar("days", 1, "Europe/Lisbon", {d: ((time(0), time(0)),) for d in range(7)}),
    BusinessCalendar("nights", 1, "Europe/Lisbon", {6: ((time(0, 30), time(2, 30)),), 0: OFFICE}),
    BusinessCalendar("old-sp", 1, "America/Sao_Paulo", {6: ((time(0), time(2)),), 2: LUNCH}),
    BusinessCalendar("always", 1, "UTC", always_open=True),
]
FAST = settings(max_examples=150, deadline=None)

instants = st.datetimes(
    min_value=datetime(2016, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
calendars = st.sampled_from(CALENDARS)
amounts = st.integers(min_value=0, max_value=40 * 86400)


@FAST
@given(calendars, instants, amounts)
def test_measuring_what_was_added_gives_it_back(
    calendar: BusinessCalendar, start: datetime, seconds: int
) -> None:
    end = add_business_seconds(calendar, start, seconds)
    assert end >= start
    assert business_seconds_between(calendar, start, end) == seconds


@FAST
@given(calendars, instants, amounts, amounts)
def test_business_time_adds_up(
    calendar: BusinessCalendar, start: datetime, first: int, second: int
) -> None:
    # Whole seconds: a measure drops the fraction of a second, so split fractions may not add.
    start = start.replace(microsecond=0)
    middle = start + timedelta(seconds=first)
    end = middle + timedelta(seconds=second)
    assert business_seconds_between(calendar, start, middle) + business_seconds_between(
        calendar, middle, end
    ) == business_seconds_between(calendar, start, end)


@FAST
@given(calendars, instants, amounts, st.sampled_from(ZONES))
def test_the_zone_an_instant_is_written_in_changes_nothing(
    calendar: BusinessCalendar, start: datetime, seconds: int, zone: str
) -> None:
    elsewhere = start.astimezone(ZoneInfo(zone))
    assert add_business_seconds(calendar, elsewhere, seconds) == add_business_seconds(
        calendar, start, seconds
    )
    end = start + timedelta(seconds=seconds)
    assert business_seconds_between(
        calendar, elsewhere, end.astimezone(ZoneInfo(zone))
    ) == business_seconds_between(calendar, start, end)


def wall_clock_deadline(start: datetime, minutes: int) -> datetime:
    """The deadline of a Monday-Friday 09:00-18:00 office, in naive local wall-clock time
    and a day at a time: the UTC offset never enters it."""
    day, at = start.date(), start.time()
    while True:
        if day.weekday() < 5 and at < time(18):
            opening = datetime.combine(day, max(at, time(9)))
            available = (datetime.combine(day, time(18)) - opening) // timedelta(minutes=1)
            if minutes <= available:
                return opening + timedelta(minutes=minutes)
            minutes -= available
        day, at = day + timedelta(days=1), time(0)


@FAST
@given(
    st.sampled_from(ZONES),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2027, 12, 31)),
    st.integers(min_value=1, max_value=10 * 540),
)
def test_a_deadline_is_the_same_wall_clock_time_whatever_the_utc_offset(
    zone: str, local_start: datetime, minutes: int
) -> None:
    local_start = local_start.replace(second=0, microsecond=0)
    if not time(9) <= local_start.time() < time(18):
        local_start = local_start.replace(hour=9 + local_start.hour % 9)
    start = local_start.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    due = add_business_seconds(OFFICES[zone], start, minutes * 60)
    local_due = due.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    assert local_due == wall_clock_deadline(local_start, minutes)


# SLA histories: an opening, then replies, messages and status changes that never stop
# the case (solving would make an inserted pause a reopening).
POLICY = SlaPolicy("p", 1, "p", "br", {"first_response": 60, "next_reply": 120, "resolution": 480})
BR = next(c for c in CALENDARS if c.calendar_id == "br")
steps = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * 24 * 60),
        st.sampled_from(["agent_reply", "customer_message", "open", "pending", "on_hold"]),
    ),
    max_size=8,
)


def history_of(opened: datetime, drawn: list[tuple[int, str]]) -> list[ClockEvent]:
    events, at = [ClockEvent(opened, "opened")], opened
    for gap, what in drawn:
        at += timedelta(minutes=gap)
        kind = what if what in ("agent_reply", "customer_message") else "status"
        events.append(ClockEvent(at, kind, None if kind != "status" else what))  # type: ignore[arg-type]
    return events


def status_at(history: list[ClockEvent], at: datetime) -> str:
    status = "new"
    for event in history:
        if event.at <= at and event.kind == "status" and event.status is not None:
            status = event.status
    return status


@FAST
@given(
    instants,
    steps,
    st.integers(min_value=0, max_value=30 * 24 * 60),
    st.integers(min_value=0, max_value=30 * 24 * 60),
    st.integers(min_value=1, max_value=10 * 24 * 60),
)
def test_a_pause_never_shortens_elapsed_time_nor_brings_a_deadline_forward(
    opened: datetime, drawn: list[tuple[int, str]], after: int, pause_at: int, pause_for: int
) -> None:
    opened = opened.replace(microsecond=0)
    history = history_of(opened, drawn)
    now = history[-1].at + timedelta(minutes=after)
    # Any earlier now, the drawn pause's start reused as one: the clock never runs backwards.
    cut = min(opened + timedelta(minutes=pause_at), now)
    earlier = {c.metric: c for c in clocks(POLICY, BR, history, cut)}
    before = {c.metric: c for c in clocks(POLICY, BR, history, now)}
    for metric in ("first_response", "resolution"):
        assert before[metric].elapsed_seconds >= earlier[metric].elapsed_seconds

    start = opened + timedelta(minutes=pause_at)
    end = start + timedelta(minutes=pause_for)
    paused_history = [
        *history,
        ClockEvent(start, "status", "pending"),
        ClockEvent(end, "status", status_at(history, end)),
    ]
    after_pause = {c.metric: c for c in clocks(POLICY, BR, paused_history, now)}
    assert set(after_pause) == set(before)
    for metric, clock in before.items():
        with_pause = after_pause[metric]
        assert with_pause.cycle == clock.cycle
        assert with_pause.elapsed_seconds <= clock.elapsed_seconds
        if clock.due_at is not None and with_pause.due_at is not None:
            assert with_pause.due_at >= clock.due_at
        if clock.due_at is None:  # paused at now already: the inserted pause keeps it so
            assert with_pause.due_at is None
