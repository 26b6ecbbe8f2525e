"""Timeline entries of support events: their links, channel and actor, and an internal
note's body kept out of the stored payload (sellers and marketers read the timeline)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import orjson

from contracts.events.support import (
    CaseAssigned,
    CaseClosed,
    CasesMerged,
    CaseSolved,
    MessageAdded,
)
from contracts.events.support_quality import CaseLinkedToProblem, SatisfactionRated
from contracts.events.support_self_service import RefundIssued
from contracts.money import Money
from contracts.registry import event_class
from projections.timeline.payloads import WITHHELD
from projections.timeline.projector import (
    ENTRY_COLUMNS,
    actor_of,
    channel_of,
    entry_row,
    links_of,
)
from tests.projection_helpers import consumed

T = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
CASE, ORDER, PROBLEM = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
SECRET = "Customer threatened to sue; legal says settle"


def note(kind: str = "internal_note") -> MessageAdded:
    return MessageAdded.model_validate({
        "case_id": CASE, "customer_id": "c", "message_id": uuid.uuid4(), "kind": kind,
        "author_id": "agent-ana", "channel": "email", "body": SECRET, "added_at": T,
    })  # fmt: skip


def column(row: tuple[object, ...] | None, name: str) -> object:
    assert row is not None
    return row[ENTRY_COLUMNS.index(name)]


def test_an_internal_notes_body_never_reaches_the_stored_entry() -> None:
    row = entry_row(consumed(note(), T, topic="crm.support.events"))
    assert all(SECRET not in str(value) for value in row or ())
    payload = orjson.loads(str(column(row, "payload")))
    assert payload["body"] == WITHHELD
    # time travel re-reads stored payloads as events: the withheld one still validates
    reread = event_class("crm.support.message_added").model_validate(payload)
    assert isinstance(reread, MessageAdded) and reread.kind == "internal_note"


def test_a_reply_to_the_customer_keeps_its_body() -> None:
    row = entry_row(consumed(note("agent_reply"), T, topic="crm.support.events"))
    assert orjson.loads(str(column(row, "payload")))["body"] == SECRET


def test_support_links_point_at_cases_orders_and_problems() -> None:
    solved = CaseSolved(case_id=CASE, customer_id="c", resolution="r", solved_at=T,
                        via_problem_id=PROBLEM)  # fmt: skip
    assert links_of(solved.model_dump(mode="json")) == {
        "case_id": str(CASE), "via_problem_id": str(PROBLEM),
    }  # fmt: skip
    linked = CaseLinkedToProblem(case_id=CASE, customer_id="c", problem_id=PROBLEM, linked_at=T)
    assert links_of(linked.model_dump(mode="json")) == {
        "case_id": str(CASE), "problem_id": str(PROBLEM),
    }  # fmt: skip
    into = uuid.uuid4()
    merged = CasesMerged(case_id=CASE, customer_id="c", into_case_id=into, merged_at=T)
    assert links_of(merged.model_dump(mode="json")) == {
        "case_id": str(CASE), "into_case_id": str(into),
    }  # fmt: skip
    refund_id = uuid.uuid4()
    refund = RefundIssued(customer_id="c", order_id=ORDER, refund_id=refund_id, case_id=CASE,
                          amount=Money(amount=10, currency="BRL"), provider="pay",
                          payment_reference="p-1", issued_at=T)  # fmt: skip
    assert links_of(refund.model_dump(mode="json")) == {
        "order_id": str(ORDER), "case_id": str(CASE), "refund_id": str(refund_id),
    }  # fmt: skip


def test_support_actors_are_who_wrote_solved_or_closed() -> None:
    assert actor_of(note()) == "agent-ana"
    solved = CaseSolved(case_id=CASE, customer_id="c", resolution="r", solved_at=T,
                        solved_by="agent-bia")  # fmt: skip
    assert actor_of(solved) == "agent-bia"
    by_agent = CaseClosed(case_id=CASE, customer_id="c", closed_at=T, closed_by="sup-1")
    assert actor_of(by_agent) == "sup-1"
    assert actor_of(CaseClosed(case_id=CASE, customer_id="c", closed_at=T)) is None  # the service
    # the assignee is whom the assignment is about; the rules assigned it
    assigned = CaseAssigned(case_id=CASE, customer_id="c", team="t", assignee_id="agent-ana")
    assert actor_of(assigned) is None
    rating = SatisfactionRated(case_id=CASE, customer_id="c", survey_id=uuid.uuid4(), score=2,
                               satisfied=False, agent_id="agent-ana", rated_at=T)  # fmt: skip
    assert actor_of(rating) is None  # the customer rated; the agent was rated


def test_channel_is_where_the_customer_was_reached_else_support() -> None:
    assert channel_of(note("customer_reply")) == "email"
    assert channel_of(note()) == "support"  # an internal note happens on no channel
    assigned = CaseAssigned(case_id=CASE, customer_id="c", team="t", channel="phone")
    assert channel_of(assigned) == "support"
