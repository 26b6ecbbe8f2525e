"""Given/when/then specs of activities and follow-ups. The follow-up reminder must fire
exactly once however often the scheduler asks. Pure: no store, no broker, no clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any, TypeVar
from uuid import UUID

import pytest
from hypothesis import given as hypothesis_given
from hypothesis import settings
from hypothesis import strategies as st

from contracts.events.sales import ActivityLogged, FollowUpDue, FollowUpScheduled, RelatedTo
from contracts.registry import DomainEvent
from services.sales.domain.activity import (
    Activity,
    FollowUp,
    LogActivity,
    MarkFollowUpDue,
    ScheduleFollowUp,
    activity_decider,
    activity_stream_id,
    follow_up_decider,
    follow_up_stream_id,
)
from tests.unit.gwt import Spec

C = TypeVar("C")
S = TypeVar("S")

ACTIVITY_ID = UUID("8a7b6c5d-4e3f-4a1b-9c8d-7e6f5a4b3c2d")
FOLLOW_UP_ID = UUID("e5f6a7b8-c9d0-4e1f-a2b3-c4d5e6f7a8b9")
OPP_ID = UUID("6f1c2b9e-3a4d-4e5f-9a8b-7c6d5e4f3a21")
CUSTOMER = "cust-br-00042"
SAO_PAULO = timezone(timedelta(hours=-3))
NOW = datetime(2025, 6, 12, 14, 0, tzinfo=UTC)
DUE = datetime(2025, 6, 16, 12, 0, tzinfo=UTC)


given_activity = Spec(activity_decider).given
given_follow_up = Spec(follow_up_decider).given


# --- activities ----------------------------------------------------------------------


def log(**overrides: Any) -> LogActivity:
    fields: dict[str, Any] = {
        "activity_id": ACTIVITY_ID,
        "customer_id": CUSTOMER,
        "kind": "call",
        "subject": "Ligação sobre a proposta",
        "happened_at": datetime(2025, 6, 12, 11, 35, tzinfo=SAO_PAULO),
    }
    fields.update(overrides)
    return LogActivity(**fields)


def logged() -> ActivityLogged:
    return ActivityLogged(
        activity_id=ACTIVITY_ID,
        customer_id=CUSTOMER,
        kind="call",
        subject="Ligação sobre a proposta",
        happened_at=datetime(2025, 6, 12, 14, 35, tzinfo=UTC),
    )


def test_logging_an_activity_emits_activity_logged_in_utc() -> None:
    events = activity_decider.decide(
        log(
            notes="Pediu desconto maior",
            outcome="Aguardando retorno",
            duration_minutes=18,
            actor_id="seller-7",
            related=RelatedTo(opportunity_id=OPP_ID),
        ),
        Activity(),
    )
    assert events == [
        ActivityLogged(
            activity_id=ACTIVITY_ID,
            customer_id=CUSTOMER,
            kind="call",
            subject="Ligação sobre a proposta",
            notes="Pediu desconto maior",
            outcome="Aguardando retorno",
            duration_minutes=18,
            happened_at=datetime(2025, 6, 12, 14, 35, tzinfo=UTC),
            actor_id="seller-7",
            related=RelatedTo(opportunity_id=OPP_ID),
        )
    ]
    event = events[0]
    assert isinstance(event, ActivityLogged) and event.happened_at.utcoffset() == timedelta(0)


def test_an_activity_is_logged_once_per_id() -> None:
    given_activity(logged()).when(log()).then_raises(code="already-exists")


def test_a_naive_happened_at_is_refused() -> None:
    given_activity().when(log(happened_at=datetime(2025, 6, 12, 11, 35))).then_raises(
        field="happened_at", code="naive-datetime"
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"subject": "  "}, "subject"),
        ({"subject": "x" * 301}, "subject"),
        ({"customer_id": ""}, "customer_id"),
        ({"kind": "visit"}, "kind"),
        ({"duration_minutes": -1}, "duration_minutes"),
        ({"duration_minutes": 24 * 60 + 1}, "duration_minutes"),
        ({"outcome": "x" * 501}, "outcome"),
    ],
)
def test_invalid_activity_input_names_its_field(overrides: dict[str, Any], field: str) -> None:
    given_activity().when(log(**overrides)).then_raises(field=field)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [({"subject": "  "}, "required"), ({"notes": "x" * 10001}, "too-long")],
)
def test_an_activitys_text_refusals_keep_their_problem_codes(
    overrides: dict[str, Any], code: str
) -> None:
    # The problem type an HTTP client sees (…/problems/<code>); the shared text checks of
    # domain/identity.py must not turn them into the generic rule-violated.
    given_activity().when(log(**overrides)).then_raises(field=next(iter(overrides)), code=code)


def test_evolve_marks_the_activity_as_existing() -> None:
    state = activity_decider.fold([logged()])
    assert (state.exists, state.customer_id, state.kind) == (True, CUSTOMER, "call")


# --- follow-ups: scheduling ------------------------------------------------------------


def schedule(**overrides: Any) -> ScheduleFollowUp:
    fields: dict[str, Any] = {
        "follow_up_id": FOLLOW_UP_ID,
        "customer_id": CUSTOMER,
        "owner_id": "seller-7",
        "subject": "Retornar sobre o desconto",
        "due_at": DUE,
        "now": NOW,
    }
    fields.update(overrides)
    return ScheduleFollowUp(**fields)


def scheduled() -> FollowUpScheduled:
    return FollowUpScheduled(
        follow_up_id=FOLLOW_UP_ID,
        customer_id=CUSTOMER,
        owner_id="seller-7",
        due_at=DUE,
        subject="Retornar sobre o desconto",
    )


def due() -> FollowUpDue:
    return FollowUpDue(
        follow_up_id=FOLLOW_UP_ID,
        customer_id=CUSTOMER,
        owner_id="seller-7",
        due_at=DUE,
        subject="Retornar sobre o desconto",
    )


def test_scheduling_emits_follow_up_scheduled() -> None:
    given_follow_up().when(schedule()).then(scheduled())


def test_scheduling_keeps_channel_and_related_records() -> None:
    related = RelatedTo(opportunity_id=OPP_ID)
    events = follow_up_decider.decide(schedule(channel="email", related=related), FollowUp())
    assert isinstance(event := events[0], FollowUpScheduled)
    assert (event.channel, event.related) == ("email", related)


@pytest.mark.parametrize("due_at", [NOW, NOW - timedelta(seconds=1), NOW - timedelta(days=3)])
def test_a_follow_up_must_be_due_after_now(due_at: datetime) -> None:
    given_follow_up().when(schedule(due_at=due_at)).then_raises(field="due_at")


def test_due_after_now_is_compared_across_time_zones() -> None:
    # 10:59 in São Paulo is 13:59 UTC, one minute before NOW.
    local = datetime(2025, 6, 12, 10, 59, tzinfo=SAO_PAULO)
    given_follow_up().when(schedule(due_at=local)).then_raises(field="due_at")


def test_a_naive_due_at_is_refused() -> None:
    given_follow_up().when(schedule(due_at=datetime(2025, 6, 16, 12, 0))).then_raises(
        field="due_at", code="naive-datetime"
    )


def test_a_naive_now_is_refused() -> None:
    given_follow_up().when(schedule(now=datetime(2025, 6, 12, 14, 0))).then_raises(
        field="now", code="naive-datetime"
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"owner_id": " "}, "owner_id"),
        ({"subject": ""}, "subject"),
        ({"channel": "sms"}, "channel"),
    ],
)
def test_invalid_follow_up_input_names_its_field(overrides: dict[str, Any], field: str) -> None:
    given_follow_up().when(schedule(**overrides)).then_raises(field=field)


def test_scheduling_the_same_follow_up_twice_is_refused() -> None:
    given_follow_up(scheduled()).when(schedule()).then_raises(code="already-exists")


# --- follow-ups: becoming due ----------------------------------------------------------


def test_before_the_due_time_nothing_happens() -> None:
    given_follow_up(scheduled()).when(
        MarkFollowUpDue(FOLLOW_UP_ID, DUE - timedelta(microseconds=1))
    ).then()


def test_at_the_due_time_the_reminder_fires() -> None:
    given_follow_up(scheduled()).when(MarkFollowUpDue(FOLLOW_UP_ID, DUE)).then(due())


def test_after_the_due_time_the_reminder_fires() -> None:
    given_follow_up(scheduled()).when(MarkFollowUpDue(FOLLOW_UP_ID, DUE + timedelta(hours=5))).then(
        due()
    )


def test_a_reminder_that_fired_does_not_fire_again() -> None:
    given_follow_up(scheduled(), due()).when(
        MarkFollowUpDue(FOLLOW_UP_ID, DUE + timedelta(days=1))
    ).then()


def test_marking_an_unknown_follow_up_is_not_found() -> None:
    given_follow_up().when(MarkFollowUpDue(FOLLOW_UP_ID, DUE)).then_raises(code="not-found")


def test_marking_with_a_naive_now_is_refused() -> None:
    given_follow_up(scheduled()).when(
        MarkFollowUpDue(FOLLOW_UP_ID, datetime(2025, 6, 17, 9, 0))
    ).then_raises(field="now", code="naive-datetime")


@settings(max_examples=200, deadline=None)
@hypothesis_given(
    ticks=st.lists(st.integers(min_value=-10_000, max_value=10_000), max_size=30).map(sorted)
)
def test_the_scheduler_fires_the_reminder_exactly_once_if_any_tick_is_due(
    ticks: list[int],
) -> None:
    # The scheduler ticks at DUE + t minutes, appending whatever each tick decides.
    history: list[DomainEvent] = [scheduled()]
    decide: Callable[[MarkFollowUpDue, FollowUp], Sequence[DomainEvent]] = follow_up_decider.decide
    for minutes in ticks:
        now = DUE + timedelta(minutes=minutes)
        history += decide(MarkFollowUpDue(FOLLOW_UP_ID, now), follow_up_decider.fold(history))
    fired = [event for event in history if isinstance(event, FollowUpDue)]
    assert len(fired) == (1 if any(minutes >= 0 for minutes in ticks) else 0)


# --- streams -------------------------------------------------------------------------


def test_stream_ids() -> None:
    assert activity_stream_id(ACTIVITY_ID) == f"activity-{ACTIVITY_ID}"
    assert follow_up_stream_id(FOLLOW_UP_ID) == f"follow-up-{FOLLOW_UP_ID}"
