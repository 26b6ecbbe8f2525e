"""Business-hours calendars and business-time arithmetic.

A calendar is a weekly pattern of working intervals in local wall-clock time (weekday
0 = Monday), minus holidays: the company's own dates and the national (or subdivision)
holidays of the countries it names, from the ``holidays`` package. An ``always_open``
calendar counts every instant (24/7) and has neither hours nor holidays.

Rules of the arithmetic:

* Instants in and out are timezone-aware; results are UTC. Naive datetimes are refused.
* Intervals are half-open: a desk open 09:00-18:00 is open at 09:00, closed at 18:00.
  An interval ending at ``time(0)`` (``"24:00"`` in JSON) runs to the next local midnight.
* Local times become instants in the calendar's time zone. An ambiguous time (clocks set
  back) is its first occurrence, so an office open 01:00-02:00 on that night works the
  repeated hour as well. A nonexistent time (clocks set forward) is the instant the clocks
  jump, so an interval inside the gap is empty and one across it loses the skipped hour.
* Adding business time returns the first instant at which that much has passed: a
  deadline falls at 18:00, not at the next morning's opening. Adding zero returns the
  start itself, even outside business hours.

Every working interval of a local year is laid out once as integer microseconds since
the epoch with running totals (cached on the calendar), so a question costs a binary
search, not a walk over minutes or days.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

Interval = tuple[time, time]
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_SECOND = 1_000_000
_AVERAGE_YEAR = 31_556_952 * _SECOND  # 365.2425 days
# A calendar whose holidays swallow this many whole years has no business time to offer.
_MAX_EMPTY_YEARS = 100


@dataclass(frozen=True)
class _Year:
    """The working intervals of one local year, as microseconds since the epoch."""

    starts: tuple[int, ...]
    ends: tuple[int, ...]
    done: tuple[int, ...]  # business time of the year up to each interval's end

    @property
    def total(self) -> int:
        return self.done[-1] if self.done else 0

    def before(self, us: int) -> int:
        i = bisect_right(self.starts, us) - 1
        if i < 0:
            return 0
        return self.done[i] - self.ends[i] + min(us, self.ends[i])


@dataclass
class _Memo:
    # Derived from the frozen fields only, so it is a cache, never state.
    years: dict[int, _Year] = field(default_factory=dict)
    year_starts: dict[int, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BusinessCalendar:
    calendar_id: str
    version: int
    time_zone: str
    weekly_hours: Mapping[int, tuple[Interval, ...]] = field(default_factory=dict)
    holidays: frozenset[date] = frozenset()
    national_holidays: tuple[str, ...] = ()
    always_open: bool = False
    _memo: _Memo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.calendar_id, str) or not self.calendar_id.strip():
            raise ValueError("id: a calendar needs a non-empty id")
        if isinstance(self.version, bool) or not isinstance(self.version, int):
            raise ValueError("version: must be an integer")
        if self.version < 1:
            raise ValueError("version: must be 1 or more")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise ValueError(f"time_zone: unknown IANA time zone {self.time_zone!r}") from None
        weekly = {day: tuple(spans) for day, spans in self.weekly_hours.items() if spans}
        for day, spans in weekly.items():
            _check_day(day, spans)
        for code in self.national_holidays:
            _national(code)  # refuses an unknown country or subdivision now, not mid-query
        if self.always_open and (weekly or self.holidays or self.national_holidays):
            raise ValueError("always_open: a 24/7 calendar takes no weekly hours or holidays")
        if not self.always_open and not weekly:
            raise ValueError("weekly: a calendar needs working hours on at least one day")
        object.__setattr__(self, "weekly_hours", MappingProxyType(dict(sorted(weekly.items()))))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "national_holidays", tuple(self.national_holidays))
        object.__setattr__(self, "_memo", _Memo())

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        if not isinstance(data, Mapping):
            raise ValueError("calendar: must be an object")
        unknown = set(data) - {
            "id", "version", "time_zone", "weekly", "holidays", "national_holidays",
            "always_open",
        }  # fmt: skip
        if unknown:
            raise ValueError(f"calendar: unknown fields {sorted(unknown)}")
        for name in ("id", "version", "time_zone"):
            if name not in data:
                raise ValueError(f"{name}: required")
        weekly_raw = data.get("weekly", {})
        if not isinstance(weekly_raw, Mapping):
            raise ValueError("weekly: must map day names (mon..sun) to intervals")
        weekly: dict[int, tuple[Interval, ...]] = {}
        for name, spans in weekly_raw.items():
            if name not in WEEKDAYS:
                raise ValueError(f"weekly: unknown day {name!r}, expected one of {WEEKDAYS}")
            weekly[WEEKDAYS.index(name)] = _parse_spans(f"weekly.{name}", spans)
        always = data.get("always_open", False)
        if not isinstance(always, bool):
            raise ValueError("always_open: must be true or false")
        return cls(
            calendar_id=data["id"],
            version=data["version"],
            time_zone=data["time_zone"],
            weekly_hours=weekly,
            holidays=frozenset(_parse_dates(data.get("holidays", []))),
            national_holidays=_parse_codes(data.get("national_holidays", [])),
            always_open=always,
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.calendar_id,
            "version": self.version,
            "time_zone": self.time_zone,
        }
        if self.always_open:
            out["always_open"] = True
            return out
        out["weekly"] = {
            WEEKDAYS[day]: [[_hhmm(s), "24:00" if e == time(0) else _hhmm(e)] for s, e in spans]
            for day, spans in self.weekly_hours.items()
        }
        out["holidays"] = sorted(d.isoformat() for d in self.holidays)
        out["national_holidays"] = list(self.national_holidays)
        return out

    # The year tables, built on first use.

    def _year(self, year: int) -> _Year:
        table = self._memo.years.get(year)
        if table is None:
            table = self._memo.years[year] = self._build_year(year)
        return table

    def _year_start(self, year: int) -> int:
        start = self._memo.year_starts.get(year)
        if start is None:
            start = self._memo.year_starts[year] = _local_us(self.zone, date(year, 1, 1), time(0))
        return start

    def _year_of(self, us: int) -> int:
        year = 1970 + us // _AVERAGE_YEAR  # off by one at most, near a new year
        while us < self._year_start(year):
            year -= 1
        while us >= self._year_start(year + 1):
            year += 1
        return year

    def _build_year(self, year: int) -> _Year:
        zone = self.zone
        closed = set(self.holidays)
        for code in self.national_holidays:
            closed.update(_national(code, year))
        starts: list[int] = []
        ends: list[int] = []
        done: list[int] = []
        day = date(year, 1, 1)
        while day.year == year:
            if day not in closed:
                for s, e in self.weekly_hours.get(day.weekday(), ()):
                    a = _local_us(zone, day, s)
                    b = _local_us(zone, day + timedelta(days=1), e) if e == time(0) else None
                    b = _local_us(zone, day, e) if b is None else b
                    if b <= a:
                        continue  # wholly inside a clocks-forward gap
                    if ends and ends[-1] == a:
                        ends[-1] = b  # one span for back-to-back intervals
                        done[-1] += b - a
                    else:
                        starts.append(a)
                        ends.append(b)
                        done.append((done[-1] if done else 0) + b - a)
            day += timedelta(days=1)
        return _Year(tuple(starts), tuple(ends), tuple(done))

    def _years_from(self, year: int) -> Iterator[tuple[int, _Year]]:
        empty = 0
        while empty < _MAX_EMPTY_YEARS:
            table = self._year(year)
            empty = empty + 1 if not table.starts else 0
            yield year, table
            year += 1
        raise ValueError(f"calendar {self.calendar_id}: no business time in {empty} years")


def add_business_seconds(calendar: BusinessCalendar, start: datetime, seconds: int) -> datetime:
    if seconds < 0:
        raise ValueError("seconds: must not be negative")
    us = _to_us(start, "start")
    if seconds == 0:
        return _from_us(us)
    if calendar.always_open:
        return _from_us(us + seconds * _SECOND)
    first = calendar._year_of(us)
    target = calendar._year(first).before(us) + seconds * _SECOND
    for _, table in calendar._years_from(first):
        if target <= table.total:
            i = bisect_left(table.done, target)
            return _from_us(table.ends[i] - (table.done[i] - target))
        target -= table.total
    raise AssertionError("unreachable: _years_from raises when it runs out")


def business_seconds_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> int:
    """Whole business seconds in ``[start, end)``; a fraction of a second left over is dropped."""
    a, b = _to_us(start, "start"), _to_us(end, "end")
    if b < a:
        raise ValueError("end: must not be before start")
    if calendar.always_open:
        return (b - a) // _SECOND
    ya, yb = calendar._year_of(a), calendar._year_of(b)
    total = calendar._year(yb).before(b) - calendar._year(ya).before(a)
    total += sum(calendar._year(y).total for y in range(ya, yb))
    return total // _SECOND


def add_business_minutes(calendar: BusinessCalendar, start: datetime, minutes: int) -> datetime:
    return add_business_seconds(calendar, start, minutes * 60)


def business_minutes_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """For display; ``business_seconds_between`` is the exact measure."""
    return business_seconds_between(calendar, start, end) / 60


def is_open(calendar: BusinessCalendar, at: datetime) -> bool:
    us = _to_us(at, "at")
    if calendar.always_open:
        return True
    table = calendar._year(calendar._year_of(us))
    i = bisect_right(table.starts, us) - 1
    return i >= 0 and us < table.ends[i]


def next_opening(calendar: BusinessCalendar, at: datetime) -> datetime:
    """``at`` itself while open, else the start of the next working interval."""
    us = _to_us(at, "at")
    if calendar.always_open or is_open(calendar, at):
        return _from_us(us)
    for _, table in calendar._years_from(calendar._year_of(us)):
        i = bisect_right(table.starts, us)
        if i < len(table.starts):
            return _from_us(table.starts[i])
    raise AssertionError("unreachable: _years_from raises when it runs out")


# Conversions.


def _to_us(at: datetime, name: str) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name}: must be timezone-aware, got naive {at.isoformat()}")
    return (at - _EPOCH) // _US


def _from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _local_us(zone: ZoneInfo, day: date, at: time) -> int:
    first = datetime.combine(day, at, tzinfo=zone)  # fold=0: first occurrence if ambiguous
    second = first.replace(fold=1)
    before, after = first.utcoffset(), second.utcoffset()
    assert before is not None and after is not None
    if before >= after:
        return _to_us(first, "local")
    # In a gap fold=0 applies the old offset (an instant after the jump) and fold=1 the new
    # one (an instant before it); the jump is the first whole second carrying the new offset.
    lo, hi = _to_us(second, "local") // _SECOND, _to_us(first, "local") // _SECOND
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _from_us(mid * _SECOND).astimezone(zone).utcoffset() == after:
            hi = mid
        else:
            lo = mid
    return hi * _SECOND


# Parsing and validation.


def _check_day(day: int, spans: tuple[Interval, ...]) -> None:
    if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day < 7:
        raise ValueError(f"weekly: weekday must be 0 (Monday) to 6, got {day!r}")
    where = f"weekly.{WEEKDAYS[day]}"
    previous_end: time | None = None
    for span in spans:
        if len(span) != 2 or not all(isinstance(t, time) for t in span):
            raise ValueError(f"{where}: an interval is a (start, end) pair of times")
        start, end = span
        if any(t.tzinfo is not None or t.microsecond for t in span):
            raise ValueError(f"{where}: times are local wall-clock times in whole seconds")
        if end != time(0) and end <= start:
            raise ValueError(f"{where}: interval {start}-{end} ends before it starts")
        if previous_end is not None and (previous_end == time(0) or start < previous_end):
            raise ValueError(f"{where}: intervals must be in order and must not overlap")
        previous_end = end


def _parse_spans(where: str, spans: Any) -> tuple[Interval, ...]:
    if not isinstance(spans, list):
        raise ValueError(f"{where}: must be a list of [start, end] pairs")
    out: list[Interval] = []
    for span in spans:
        if not isinstance(span, list | tuple) or len(span) != 2:
            raise ValueError(f"{where}: an interval is a [start, end] pair, got {span!r}")
        start, end = span
        if end == "24:00":
            end = "00:00"  # the end of the day, and time(0) as an end means just that
        out.append((_parse_time(where, start), _parse_time(where, end)))
    return tuple(out)


def _parse_time(where: str, text: Any) -> time:
    if not isinstance(text, str) or len(text) not in (5, 8):
        raise ValueError(f"{where}: times are 'HH:MM' strings, got {text!r}")
    try:
        return time.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: times are 'HH:MM' strings, got {text!r}") from None


def _parse_dates(raw: Any) -> list[date]:
    if not isinstance(raw, list):
        raise ValueError("holidays: must be a list of 'YYYY-MM-DD' dates")
    out = []
    for text in raw:
        try:
            out.append(date.fromisoformat(text))
        except (TypeError, ValueError):
            raise ValueError(f"holidays: not a 'YYYY-MM-DD' date: {text!r}") from None
    return out


def _parse_codes(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(c, str) for c in raw):
        raise ValueError("national_holidays: must be a list of country codes like 'BR-SP'")
    return tuple(raw)


def _national(code: str, year: int | None = None) -> frozenset[date]:
    country, _, subdiv = code.partition("-")
    try:
        found = holidays.country_holidays(
            country, subdiv=subdiv or None, years=[] if year is None else [year]
        )
    except NotImplementedError as exc:
        raise ValueError(f"national_holidays: {code!r}: {exc}") from None
    return frozenset(found)


def _hhmm(at: time) -> str:
    return at.isoformat(timespec="seconds" if at.second else "minutes")
