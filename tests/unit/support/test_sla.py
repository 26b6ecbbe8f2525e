"""SLA clocks from case histories, policy selection and the SLA configuration.

The calendar is defined here: Sao Paulo (UTC-3, no DST), Monday to Friday 09:00-12:00 and
13:00-18:00, Brazilian national holidays. Expected instants are worked out by hand."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.support.domain.business_hours import BusinessCalendar
from services.support.domain.sla import Clock, ClockEvent, PolicySet, SlaPolicy, clocks
from services.support.domain.sla_config import DEFAULT_PATH, load_sla_config, parse_sla_config

LUNCH = ((time(9), time(12)), (time(13), time(18)))
BR = BusinessCalendar(
    "br-business", 1, "America/Sao_Paulo", {d: LUNCH for d in range(5)}, national_holidays=("BR",)
)
ALWAYS = BusinessCalendar("always", 1, "UTC", always_open=True)
POLICY = SlaPolicy(
    "normal",
    1,
    "Normal",
    "br-business",
    {"first_response": 60, "next_reply": 120, "resolution": 480},
    warn_at=0.5,
)


def sp(year: int, month: int, day: int, hour: int = 0, minute: int = 0, s: int = 0) -> datetime:
    """A Sao Paulo wall-clock time (UTC-3), as UTC."""
    return datetime(year, month, day, hour, minute, s, tzinfo=UTC) + timedelta(hours=3)


def ev(at: datetime, kind: Any, status: str | None = None) -> ClockEvent:
    return ClockEvent(at, kind, status)


def by_metric(
    history: list[ClockEvent],
    now: datetime,
    policy: SlaPolicy = POLICY,
    calendar: BusinessCalendar = BR,
) -> dict[str, Clock]:
    return {c.metric: c for c in clocks(policy, calendar, history, now)}


MONDAY_9 = sp(2026, 11, 23, 9, 0)


def test_paused_case_does_not_tick_frappe_helpdesk_1554() -> None:
    history = [ev(MONDAY_9, "opened"), ev(sp(2026, 11, 23, 9, 30), "status", "pending")]
    for now in (sp(2026, 11, 23, 9, 30), sp(2026, 11, 25, 15, 0)):
        first = by_metric(history, now)["first_response"]
        assert (first.elapsed_seconds, first.paused, first.breached) == (1800, True, False)
        assert (first.due_at, first.warn_at) == (None, None)
    # Resumed on Wednesday 10:00: 30 minutes used, 30 left from the resumption.
    history.append(ev(sp(2026, 11, 25, 10, 0), "status", "open"))
    first = by_metric(history, sp(2026, 11, 25, 10, 10))["first_response"]
    assert (first.elapsed_seconds, first.paused) == (2400, False)
    assert first.due_at == sp(2026, 11, 25, 10, 30)


def test_waiting_on_a_third_party_pauses_too() -> None:
    history = [ev(MONDAY_9, "opened"), ev(sp(2026, 11, 23, 9, 10), "status", "on_hold")]
    resolution = by_metric(history, sp(2026, 11, 23, 17, 0))["resolution"]
    assert (resolution.elapsed_seconds, resolution.paused, resolution.due_at) == (600, True, None)


def test_a_new_calendar_version_gives_a_new_due_date() -> None:
    # Monday 17:00 + 2 h: 17:00-18:00 and Tuesday 09:00-10:00. Version 2 makes Tuesday 24
    # a company holiday, so the same history is due on Wednesday at 10:00.
    history = [ev(sp(2026, 11, 23, 17, 0), "opened")]
    policy = replace(POLICY, targets={"first_response": 120})
    v2 = replace(BR, version=2, holidays=frozenset({date(2026, 11, 24)}))
    now = sp(2026, 11, 23, 17, 30)
    assert by_metric(history, now, policy)["first_response"].due_at == sp(2026, 11, 24, 10, 0)
    assert by_metric(history, now, policy, v2)["first_response"].due_at == sp(2026, 11, 25, 10, 0)


@pytest.mark.parametrize(
    "opened",
    [sp(2026, 11, 21, 10, 0), sp(2026, 11, 20, 10, 0)],
    ids=["saturday", "black-awareness-day"],
)
def test_case_opened_on_a_non_working_day_starts_at_the_next_opening_frappe_helpdesk_2075(
    opened: datetime,
) -> None:
    history = [ev(opened, "opened")]
    first = by_metric(history, sp(2026, 11, 22, 20, 0))["first_response"]
    assert (first.started_at, first.elapsed_seconds) == (opened, 0)
    assert first.due_at == sp(2026, 11, 23, 10, 0)  # Monday 09:00 + 60 minutes
    assert first.warn_at == sp(2026, 11, 23, 9, 30)


def test_24_7_clock_loses_no_minute_at_midnight_zammad_3180() -> None:
    policy = replace(POLICY, calendar_id="always")
    history = [ev(datetime(2026, 5, 4, 23, 30, tzinfo=UTC), "opened")]
    first = by_metric(history, datetime(2026, 5, 5, 0, 15, tzinfo=UTC), policy, ALWAYS)
    assert first["first_response"].elapsed_seconds == 45 * 60
    assert first["first_response"].due_at == datetime(2026, 5, 5, 0, 30, tzinfo=UTC)


def test_a_reply_does_not_also_fulfil_resolution_frappe_helpdesk_1542() -> None:
    reply = sp(2026, 11, 23, 9, 20)
    clock = by_metric([ev(MONDAY_9, "opened"), ev(reply, "agent_reply")], sp(2026, 11, 23, 10, 0))
    assert clock["first_response"].fulfilled_at == reply
    assert clock["first_response"].elapsed_seconds == 1200
    resolution = clock["resolution"]
    assert (resolution.fulfilled_at, resolution.paused, resolution.elapsed_seconds) == (
        None,
        False,
        3600,
    )
    assert resolution.due_at == sp(2026, 11, 23, 18, 0)  # 8 h: 09-12 and 13-18


def test_lunch_break_is_skipped() -> None:
    first = by_metric([ev(sp(2026, 11, 23, 11, 30), "opened")], sp(2026, 11, 23, 11, 45))
    assert first["first_response"].due_at == sp(2026, 11, 23, 13, 30)


def test_holiday_from_the_company_list_is_skipped() -> None:
    calendar = replace(BR, holidays=frozenset({date(2026, 12, 24)}))
    history = [ev(sp(2026, 12, 23, 17, 30), "opened")]
    first = by_metric(history, sp(2026, 12, 23, 17, 40), calendar=calendar)["first_response"]
    assert first.due_at == sp(2026, 12, 28, 9, 30)  # not the 24th (company) nor 25th


def test_reopen_continues_the_resolution_clock() -> None:
    history = [
        ev(MONDAY_9, "opened"),
        ev(sp(2026, 11, 23, 10, 0), "agent_reply"),
        ev(sp(2026, 11, 23, 11, 0), "solved"),
    ]
    solved = by_metric(history, sp(2026, 11, 23, 15, 0))["resolution"]
    assert (solved.fulfilled_at, solved.elapsed_seconds) == (sp(2026, 11, 23, 11, 0), 7200)
    assert (solved.breached, solved.paused, solved.cycle) == (False, False, 1)
    assert solved.due_at == sp(2026, 11, 23, 18, 0)  # the 6 h left, added from the solve

    history.append(ev(sp(2026, 11, 24, 9, 0), "reopened"))
    clock = by_metric(history, sp(2026, 11, 24, 10, 0))
    resolution = clock["resolution"]
    # 2 h before the solve, nothing while solved, 1 h since: 5 h left from Tuesday 10:00.
    assert (resolution.fulfilled_at, resolution.elapsed_seconds, resolution.cycle) == (
        None,
        3 * 3600,
        2,
    )
    assert resolution.due_at == sp(2026, 11, 24, 16, 0)
    assert clock["first_response"].fulfilled_at == sp(2026, 11, 23, 10, 0)


def test_next_reply_cycles_start_at_the_first_customer_message_after_a_reply() -> None:
    history = [ev(MONDAY_9, "opened"), ev(sp(2026, 11, 23, 9, 5), "customer_message")]
    assert "next_reply" not in by_metric(history, sp(2026, 11, 23, 9, 10))  # no reply yet
    history += [
        ev(sp(2026, 11, 23, 9, 10), "agent_reply"),
        ev(sp(2026, 11, 23, 9, 20), "customer_message"),
        ev(sp(2026, 11, 23, 9, 40), "customer_message"),
        ev(sp(2026, 11, 23, 10, 0), "agent_reply"),
    ]
    first_cycle = by_metric(history, sp(2026, 11, 23, 11, 0))["next_reply"]
    assert (first_cycle.cycle, first_cycle.started_at) == (1, sp(2026, 11, 23, 9, 20))
    assert (first_cycle.fulfilled_at, first_cycle.elapsed_seconds) == (
        sp(2026, 11, 23, 10, 0),
        2400,
    )
    history.append(ev(sp(2026, 11, 23, 11, 30), "customer_message"))
    second = by_metric(history, sp(2026, 11, 23, 13, 30))["next_reply"]
    assert (second.cycle, second.fulfilled_at, second.elapsed_seconds) == (2, None, 3600)
    assert second.due_at == sp(2026, 11, 23, 14, 30)  # 11:30-12:00, lunch, 13:00-14:30


def test_breach_is_reached_elapsed_and_a_fulfilled_clock_records_it() -> None:
    opened = ev(MONDAY_9, "opened")
    late = by_metric([opened], sp(2026, 11, 23, 10, 30))["first_response"]
    assert (late.breached, late.due_at, late.warn_at) == (
        True,
        sp(2026, 11, 23, 10, 0),
        sp(2026, 11, 23, 9, 30),
    )
    at_due = by_metric([opened, ev(sp(2026, 11, 23, 10, 0), "agent_reply")], sp(2026, 11, 24))
    assert at_due["first_response"].breached
    met = by_metric([opened, ev(sp(2026, 11, 23, 9, 50), "agent_reply")], sp(2026, 11, 24))
    assert (met["first_response"].breached, met["first_response"].due_at) == (
        False,
        sp(2026, 11, 23, 10, 0),
    )


def test_events_after_now_are_not_yet_known_and_instants_are_whole_seconds() -> None:
    history = [
        ev(MONDAY_9 + timedelta(microseconds=900_000), "opened"),
        ev(sp(2026, 11, 23, 9, 30), "agent_reply"),
    ]
    first = by_metric(history, sp(2026, 11, 23, 9, 10, 0) + timedelta(microseconds=500_000))
    assert first["first_response"].fulfilled_at is None
    assert first["first_response"].elapsed_seconds == 600
    assert first["first_response"].started_at == MONDAY_9


def test_clock_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="history"):
        clocks(POLICY, BR, [ev(MONDAY_9, "agent_reply")], MONDAY_9)
    with pytest.raises(ValueError, match="now"):
        clocks(POLICY, BR, [ev(MONDAY_9, "opened")], datetime(2026, 11, 23, 12))
    with pytest.raises(ValueError, match="calendar"):
        clocks(POLICY, ALWAYS, [ev(MONDAY_9, "opened")], MONDAY_9)
    with pytest.raises(ValueError, match="status"):
        ClockEvent(MONDAY_9, "status", "snoozed")
    with pytest.raises(ValueError, match="at"):
        ClockEvent(datetime(2026, 11, 23, 12), "opened")


def policy(policy_id: str, **match: list[str]) -> dict[str, Any]:
    return {
        "id": policy_id,
        "version": 1,
        "name": policy_id,
        "match": match,
        "calendar": "br-business",
        "targets": {"first_response": 60},
    }


def test_select_prefers_the_most_specific_policy_then_file_order() -> None:
    policies = PolicySet.from_dict(
        [
            policy("default"),
            policy("high", priorities=["high"]),
            policy("billing", categories=["billing"]),
            policy("vip", tiers=["vip"]),
            policy("critical-vip", priorities=["critical"], tiers=["vip"]),
        ]
    )
    assert policies.select("critical", None, "vip").policy_id == "critical-vip"
    assert policies.select("critical", None, None).policy_id == "default"
    assert policies.select("high", "billing", "vip").policy_id == "high"  # first of equals
    assert policies.select("low", "billing", None).policy_id == "billing"
    assert policies.select("low", None, "gold").policy_id == "default"
    assert PolicySet.from_dict(policies.to_dict()) == policies


@pytest.mark.parametrize(
    ("policies", "field"),
    [
        ([policy("high", priorities=["high"])], "default"),
        ([policy("a"), policy("b")], "more than one default"),
        ([policy("a"), policy("a", tiers=["vip"])], "duplicate"),
        ([{**policy("a"), "targets": {"first_reply": 60}}], r"policies\[0\]\.targets"),
        ([{**policy("a"), "targets": {"resolution": 0}}], r"targets\.resolution"),
        ([{**policy("a"), "warn_at": 1.5}], r"policies\[0\]\.warn_at"),
        ([{**policy("a"), "calendar": ""}], "calendar"),
        ([policy("a"), {**policy("b"), "match": {"tiers": "vip"}}], r"policies\[1\]\.match"),
        ([{k: v for k, v in policy("a").items() if k != "version"}], "version: required"),
    ],
)
def test_policy_errors_name_the_field(policies: list[dict[str, Any]], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        PolicySet.from_dict(policies)


def test_the_default_configuration_loads() -> None:
    calendars, policies = load_sla_config()
    assert set(calendars) == {"br-business", "ar-business", "always"}
    assert calendars["always"].always_open
    assert calendars["br-business"].weekly_hours[4] == LUNCH
    assert calendars["ar-business"].national_holidays == ("AR",)
    normal = policies.select("normal", None, None)
    assert (normal.policy_id, dict(normal.targets)) == (
        "normal",
        {"first_response": 240, "next_reply": 480, "resolution": 2400},
    )
    assert policies.select("critical", None, "vip").calendar_id == "always"
    assert policies.select("high", None, "vip").policy_id == "vip"
    data = json.loads(Path(DEFAULT_PATH).read_text(encoding="utf-8"))
    assert [p.to_dict() for p in policies.policies] == [
        {"match": {}, "warn_at": 0.8, **p} for p in data["policies"]
    ]


def test_a_policy_on_an_unknown_calendar_is_refused() -> None:
    data = json.loads(Path(DEFAULT_PATH).read_text(encoding="utf-8"))
    data["policies"][0]["calendar"] = "mars-business"
    with pytest.raises(ValueError, match=r"policies\[0\]\.calendar"):
        parse_sla_config(data)
    data["calendars"][0]["time_zone"] = "Mars/Olympus"
    with pytest.raises(ValueError, match=r"calendars\[0\]\.time_zone"):
        parse_sla_config(data)
