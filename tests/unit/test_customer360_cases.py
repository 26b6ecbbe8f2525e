"""The customer 360's support part: open cases and complaints, SLA states, the last
rating, in any order of arrival and across a merge of customers. Expected values are
worked out by hand from the case lifecycle (services/support/domain/case.py)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.events.sales import RecordsMerged
from contracts.events.support import (
    CaseAssigned,
    CaseClosed,
    CaseEscalated,
    CaseOpened,
    CaseReopened,
    CasesMerged,
    CaseSolved,
    CaseStatusChanged,
    ComplaintFiled,
    MessageAdded,
)
from contracts.events.support_quality import SatisfactionRated, SlaBreached, SlaWarning
from contracts.registry import DomainEvent
from projections.customer360.erasure import fold_masked
from projections.customer360.model import CaseView, CsatView, Profile, SlaCounts
from projections.customer360.profile import carry, evolve, fold

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CUST, DUPLICATE = "cust-1", "cust-2"
CASE = uuid.UUID("5b8f2c1e-9d3a-4f6b-8e2d-1a7c3b9e4f60")
OTHER = uuid.UUID("0e9d8c7b-6a5f-4e3d-9c2b-1a0f9e8d7c6b")
Timed = tuple[DomainEvent, datetime]


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def opened(case: uuid.UUID = CASE, kind: str = "complaint", hours: float = 0, **more: Any) -> Timed:
    fields: dict[str, Any] = {
        "channel": "email", "subject": "Fridge arrived dented", "category": "delivery",
        "priority": "high", "team": "logistics", "sla_policy_id": "normal",
        "sla_policy_version": 1, "calendar_id": "br-business", "calendar_version": 1,
    }  # fmt: skip
    fields |= more
    event = CaseOpened(
        case_id=case, customer_id=more.pop("customer_id", CUST), kind=kind, opened_at=at(hours),
        **{k: v for k, v in fields.items() if k != "customer_id"},
    )  # fmt: skip
    return event, at(hours)


def filed(case: uuid.UUID = CASE, hours: float = 0, customer: str = CUST) -> Timed:
    event = ComplaintFiled(case_id=case, customer_id=customer, subject="Dented", severity="high")
    return event, at(hours)


def solved(case: uuid.UUID = CASE, hours: float = 2, customer: str = CUST) -> Timed:
    event = CaseSolved(case_id=case, customer_id=customer, resolution="Replaced",
                       solved_at=at(hours), solved_by="agent-ana")  # fmt: skip
    return event, at(hours)


def reopened(case: uuid.UUID = CASE, hours: float = 3, customer: str = CUST) -> Timed:
    event = CaseReopened(case_id=case, customer_id=customer, reason="Still dented",
                         reopened_at=at(hours))  # fmt: skip
    return event, at(hours)


def closed(case: uuid.UUID = CASE, hours: float = 200, customer: str = CUST) -> Timed:
    event = CaseClosed(case_id=case, customer_id=customer, closed_at=at(hours),
                       cause="reopen_period_over")  # fmt: skip
    return event, at(hours)


def sla(
    cls: type[SlaWarning] | type[SlaBreached], case: uuid.UUID = CASE, hours: float = 1
) -> Timed:
    when = {"warned_at" if cls is SlaWarning else "breached_at": at(hours)}
    event = cls(case_id=case, customer_id=CUST, metric="first_response", target_minutes=60,
                due_at=at(1), policy_id="normal", policy_version=1, calendar_id="br-business",
                calendar_version=1, **when)  # fmt: skip
    return event, at(hours)


def rated(score: int, hours: float, case: uuid.UUID = CASE) -> Timed:
    event = SatisfactionRated(case_id=case, customer_id=CUST, survey_id=uuid.uuid4(),
                              score=score, satisfied=score >= 4, comment="Slow but kind",
                              rated_at=at(hours))  # fmt: skip
    return event, at(hours)


def run(*events: Timed, customer: str = CUST) -> Profile:
    profile = fold(events, customer_id=customer)
    assert profile is not None
    return profile


# ---------------------------------------------------------------------- open or not


def test_an_opened_case_is_open_and_counts_as_a_complaint() -> None:
    profile = run(opened(), filed())
    assert profile.open_cases == [str(CASE)] and profile.open_complaints == 1
    assert profile.cases[str(CASE)] == CaseView(
        kind="complaint", status="new", status_at=at(0), priority="high", priority_at=at(0),
        team="logistics", team_at=at(0), opened_at=at(0),
    )  # fmt: skip


def test_a_question_is_open_but_no_complaint() -> None:
    profile = run(opened(kind="question"))
    assert (profile.open_cases, profile.open_complaints) == ([str(CASE)], 0)


def test_solving_takes_a_case_out_of_the_open_ones() -> None:
    profile = run(opened(), filed(), solved())
    assert (profile.open_cases, profile.open_complaints) == ([], 0)
    assert profile.cases[str(CASE)].status == "solved"


def test_a_reopened_case_is_open_again() -> None:
    profile = run(opened(), filed(), solved(), reopened())
    assert (profile.open_cases, profile.open_complaints) == ([str(CASE)], 1)
    assert profile.cases[str(CASE)].status == "open"


def test_a_closed_case_is_gone_for_good() -> None:
    profile = run(opened(), filed(), solved(), closed())
    assert (profile.open_cases, profile.open_complaints) == ([], 0)
    assert profile.cases[str(CASE)].status == "closed"


def test_a_complaint_from_another_system_is_an_open_complaint_case() -> None:
    profile = run(filed(hours=0))
    assert (profile.open_cases, profile.open_complaints) == ([str(CASE)], 1)
    assert profile.cases[str(CASE)].kind == "complaint"
    assert profile.last_complaint_at == at(0)


def test_a_duplicate_merged_into_another_case_closes_the_other_stays_open() -> None:
    merged = CasesMerged(case_id=OTHER, customer_id=CUST, into_case_id=CASE, merged_at=at(1))
    profile = run(opened(), opened(OTHER, kind="request"), (merged, at(1)))
    assert profile.open_cases == [str(CASE)]
    duplicate = profile.cases[str(OTHER)]
    assert (duplicate.status, duplicate.merged_into) == ("closed", str(CASE))


def test_status_changes_alone_move_the_case_too() -> None:
    to_solved = CaseStatusChanged(case_id=CASE, customer_id=CUST, from_status="open",
                                  to_status="solved", changed_at=at(2))  # fmt: skip
    # the same instant: the reopen outranks the solving it follows
    back = CaseStatusChanged(case_id=CASE, customer_id=CUST, from_status="solved",
                             to_status="open", changed_at=at(2))  # fmt: skip
    assert run(opened(), (to_solved, at(2))).open_cases == []
    assert run(opened(), (back, at(2)), (to_solved, at(2))).open_cases == [str(CASE)]


def test_priority_and_team_follow_assignments_and_escalations() -> None:
    assigned = CaseAssigned(case_id=CASE, customer_id=CUST, team="returns", priority="high")
    escalated = CaseEscalated(case_id=CASE, customer_id=CUST, level=1, team="supervisors",
                              priority="critical", reason="Breach")  # fmt: skip
    view = run(opened(), (assigned, at(1)), (escalated, at(2))).cases[str(CASE)]
    assert (view.team, view.priority) == ("supervisors", "critical")


# ---------------------------------------------------------------------- any order


def test_every_arrival_order_of_a_cases_events_gives_the_same_record() -> None:
    """The external complaint may come before or after anything else; the registers make
    every order of these five events the hand-worked closed record."""
    events = [filed(hours=0.5), opened(), solved(), reopened(), closed(hours=300)]
    expected = CaseView(
        kind="complaint", status="closed", status_at=at(3), status_rank=3, closed_at=at(300),
        priority="high", priority_at=at(0.5), team="logistics", team_at=at(0), opened_at=at(0),
    )  # fmt: skip
    for order in itertools.permutations(events):
        profile = run(*order)
        assert profile.cases == {str(CASE): expected}, order
        assert (profile.open_cases, profile.open_complaints) == ([], 0)


def test_a_late_external_complaint_does_not_reopen_a_closed_case() -> None:
    profile = run(opened(), solved(), closed(), filed(hours=400))
    assert profile.open_cases == []


# ---------------------------------------------------------------------- SLA


def test_sla_state_is_the_worst_seen_and_counted_over_open_cases() -> None:
    warned = run(opened(), sla(SlaWarning))
    assert warned.cases[str(CASE)].sla_state == "at_risk"
    assert warned.sla == SlaCounts(at_risk=1)
    breached = run(opened(), sla(SlaBreached, hours=2), sla(SlaWarning, hours=3))
    assert breached.cases[str(CASE)].sla_state == "breached"  # a later warning: still breached
    assert breached.sla == SlaCounts(breached=1)
    assert run(opened(), opened(OTHER)).sla == SlaCounts()  # both on track


def test_a_solved_case_leaves_the_sla_summary_and_a_reopen_brings_it_back() -> None:
    base = [opened(), sla(SlaBreached), solved()]
    assert run(*base).sla == SlaCounts()
    assert run(*base, reopened()).sla == SlaCounts(breached=1)


# ---------------------------------------------------------------------- satisfaction


def test_last_csat_is_the_latest_rating_in_any_order_without_the_comment() -> None:
    first, second = rated(2, hours=5), rated(5, hours=9, case=OTHER)
    expected = CsatView(score=5, scale_high=5, satisfied=True, rated_at=at(9), case_id=str(OTHER))
    assert run(first, second).last_csat == expected
    assert run(second, first).last_csat == expected
    # (the interaction line quotes it, as every summary does, and an erasure masks it)
    assert "Slow but kind" not in expected.model_dump_json()
    assert set(CsatView.model_fields) == {"score", "scale_high", "satisfied", "rated_at", "case_id"}


# ---------------------------------------------------------------------- merges


def _merge() -> Timed:
    merge = RecordsMerged(kind="contact", survivor_id=uuid.uuid4(), merged_id=uuid.uuid4(),
                          customer_id=CUST, merged_customer_id=DUPLICATE)  # fmt: skip
    return merge, at(4)


def test_a_merge_carries_the_merged_customers_cases_to_the_survivor() -> None:
    duplicate = run(opened(OTHER, customer_id=DUPLICATE), sla(SlaWarning, case=OTHER),
                    customer=DUPLICATE)  # fmt: skip
    survivor = run(opened())
    merge, when = _merge()
    after = evolve(survivor, merge, when, customer_id=CUST, merged=duplicate)
    assert after.open_cases == sorted([str(CASE), str(OTHER)])
    assert (after.open_complaints, after.sla) == (2, SlaCounts(at_risk=1))


def test_merge_and_later_case_events_give_the_same_survivor_in_either_order() -> None:
    """Solving the merged customer's case before the merge (the merge reads it off the
    merged profile) or after it (the projector carries it): the survivor ends the same."""
    merge, when = _merge()
    dup_opened, dup_solved = opened(OTHER, customer_id=DUPLICATE), solved(OTHER, 5, DUPLICATE)
    survivor = run(opened())
    # solved before the merge
    duplicate = run(dup_opened, dup_solved, customer=DUPLICATE)
    early = evolve(survivor, merge, when, customer_id=CUST, merged=duplicate)
    # solved after the merge, carried over
    duplicate = run(dup_opened, customer=DUPLICATE)
    late = evolve(survivor, merge, when, customer_id=CUST, merged=duplicate)
    assert late.open_cases == sorted([str(CASE), str(OTHER)])
    late = carry(late, *dup_solved)
    assert late.cases == early.cases and late.open_cases == early.open_cases == [str(CASE)]


# ---------------------------------------------------------------------- interactions


def test_internal_notes_and_sla_clocks_are_no_interaction_with_the_customer() -> None:
    note = MessageAdded(case_id=CASE, customer_id=CUST, message_id=uuid.uuid4(),
                        kind="internal_note", body="Sounded upset", added_at=at(5))  # fmt: skip
    profile = run(opened(), (note, at(5)), sla(SlaBreached, hours=6))
    assert profile.last_interaction_at == at(0)
    assert profile.last_interaction_summary is not None
    assert profile.last_interaction_summary.startswith("Complaint case opened")


def test_time_travel_folds_the_support_fields_as_the_live_profile() -> None:
    """``time_travel.profile_as_of`` folds the timeline's entries with ``fold_masked``."""
    events = [opened(), sla(SlaWarning), rated(4, hours=1.5), solved(), reopened()]
    past = fold_masked([e for e in events if e[1] <= at(2)], customer_id=CUST)
    assert past is not None and past.open_cases == [] and past.last_csat is not None
    now = fold_masked(events, customer_id=CUST)
    assert now is not None and now.open_cases == [str(CASE)] and now.sla == SlaCounts(at_risk=1)


def test_the_cases_own_kind_wins_over_a_complaint_filed_in_either_order() -> None:
    for events in (
        (opened(kind="non_conformity"), filed()),
        (filed(), opened(kind="non_conformity")),
    ):
        profile = run(*events)
        assert (profile.cases[str(CASE)].kind, profile.open_complaints) == ("non_conformity", 0)
