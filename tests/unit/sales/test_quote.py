"""Given/when/then specs of the quote decider: versions, approval of large discounts,
acceptance, and when a quote may be sent. Pure: no store, no broker."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from contracts.events.sales import QuoteAccepted, QuoteApproved, QuoteIssued, QuoteTotals
from contracts.money import Money
from services.sales.domain.pricing import Catalogue, QuoteItem
from services.sales.domain.quote import (
    AcceptQuote,
    ApproveQuote,
    IssueQuote,
    Quote,
    can_send,
    decide,
    decider,
    stream_id,
)
from tests.unit.gwt import Spec

D = Decimal
QUOTE_ID = UUID("3b2f6c1e-8d4a-4f7b-9c2e-5a1d7e9f0b34")
OPP_ID = UUID("6f1c2b9e-3a4d-4e5f-9a8b-7c6d5e4f3a21")
CUSTOMER = "cust-br-00042"
CATALOGUE = Catalogue.load()
THRESHOLD = D(15)


given = Spec(decider).given


def issue(discount: str = "10", quantity: str = "3", **overrides: Any) -> IssueQuote:
    fields: dict[str, Any] = {
        "quote_id": QUOTE_ID,
        "customer_id": CUSTOMER,
        "price_list": "BRL-standard",
        "items": [QuoteItem("CRM-SEAT", D(quantity), D(discount))],
        "catalogue": CATALOGUE,
        "approval_threshold_percent": THRESHOLD,
        "opportunity_id": OPP_ID,
    }
    fields.update(overrides)
    return IssueQuote(**fields)


def issued(version: int = 1, discount: str = "10", **overrides: Any) -> QuoteIssued:
    """The event ``issue(discount)`` produces as ``version`` (built by the catalogue)."""
    command = issue(discount, **overrides)
    lines, totals, max_discount = CATALOGUE.price(command.price_list, command.items)
    return QuoteIssued(
        quote_id=QUOTE_ID,
        quote_version=version,
        opportunity_id=command.opportunity_id,
        customer_id=CUSTOMER,
        price_list=command.price_list,
        currency="BRL",
        lines=lines,
        totals=totals,
        max_discount_percent=max_discount,
        requires_approval=max_discount > THRESHOLD,
        valid_until=command.valid_until,
    )


def approved(version: int = 1, by: str = "gerente-3") -> QuoteApproved:
    return QuoteApproved(
        quote_id=QUOTE_ID, quote_version=version, customer_id=CUSTOMER, approved_by=by
    )


def brl(amount: str) -> Money:
    return Money(amount=D(amount), currency="BRL")


# --- issuing -------------------------------------------------------------------------


def test_issuing_a_new_quote_emits_version_1_with_priced_lines_and_totals() -> None:
    events = decide(issue(valid_until=date(2025, 7, 31)), Quote())
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, QuoteIssued)
    assert (event.quote_id, event.quote_version, event.customer_id) == (QUOTE_ID, 1, CUSTOMER)
    assert (event.opportunity_id, event.currency, event.price_list) == (
        OPP_ID,
        "BRL",
        "BRL-standard",
    )
    assert event.totals == QuoteTotals(
        gross=brl("449.70"),
        discount=brl("44.97"),
        net=brl("404.73"),
        tax=brl("37.44"),
        total=brl("442.17"),
    )
    assert [line.product_id for line in event.lines] == ["CRM-SEAT"]
    assert event.max_discount_percent == D(10)
    assert event.requires_approval is False
    assert event.valid_until == date(2025, 7, 31)


def test_a_discount_above_the_threshold_requires_approval() -> None:
    event = decide(issue(discount="15.01"), Quote())[0]
    assert isinstance(event, QuoteIssued) and event.requires_approval is True


def test_a_discount_equal_to_the_threshold_needs_no_approval() -> None:
    event = decide(issue(discount="15"), Quote())[0]
    assert isinstance(event, QuoteIssued) and event.requires_approval is False


def test_issuing_again_is_a_revision_with_the_next_version() -> None:
    given(issued(1)).when(issue(discount="20")).then(issued(2, discount="20"))
    given(issued(1), issued(2)).when(issue()).then(issued(3))


def test_a_revision_keeps_the_opportunity_when_the_command_omits_it() -> None:
    given(issued(1)).when(issue(opportunity_id=None)).then(issued(2))


def test_a_revision_for_another_opportunity_is_refused() -> None:
    given(issued(1)).when(issue(opportunity_id=uuid4())).then_raises(
        field="opportunity_id", code="opportunity-mismatch"
    )


def test_a_revision_for_another_customer_is_refused() -> None:
    given(issued(1)).when(issue(customer_id="cust-br-00099")).then_raises(
        field="customer_id", code="customer-mismatch"
    )


def test_an_accepted_quote_cannot_be_revised() -> None:
    accepted = QuoteAccepted(
        quote_id=QUOTE_ID, quote_version=1, customer_id=CUSTOMER, total=brl("442.17")
    )
    given(issued(1), accepted).when(issue()).then_raises(code="accepted")


@pytest.mark.parametrize("customer_id", ["", "   ", "x" * 201])
def test_a_blank_or_overlong_customer_is_refused(customer_id: str) -> None:
    given().when(issue(customer_id=customer_id)).then_raises(field="customer_id")


@pytest.mark.parametrize("threshold", [D("-1"), D("100.5"), D("NaN")])
def test_an_invalid_approval_threshold_is_refused(threshold: Decimal) -> None:
    given().when(issue(approval_threshold_percent=threshold)).then_raises(
        field="approval_threshold_percent"
    )


def test_pricing_errors_reach_the_caller_with_their_field() -> None:
    given().when(issue(price_list="EUR-standard")).then_raises(
        field="price_list", code="unknown-price-list"
    )
    given().when(issue(items=[QuoteItem("CRM-SEAT", D(0))])).then_raises(
        field="items[0].quantity", code="invalid-quantity"
    )


# --- approving -----------------------------------------------------------------------


def test_approving_emits_quote_approved_for_the_latest_version() -> None:
    given(issued(1, discount="20"), issued(2, discount="25")).when(
        ApproveQuote(QUOTE_ID, "gerente-3")
    ).then(approved(2))


def test_approving_a_version_that_needs_no_approval_is_refused() -> None:
    given(issued(1, discount="20"), issued(2, discount="5")).when(
        ApproveQuote(QUOTE_ID, "gerente-3")
    ).then_raises(code="approval-not-required")


def test_approving_twice_emits_nothing() -> None:
    given(issued(1, discount="20"), approved(1)).when(ApproveQuote(QUOTE_ID, "outro")).then()


@pytest.mark.parametrize("approver", ["", "  "])
def test_an_approval_needs_an_approver(approver: str) -> None:
    given(issued(1, discount="20")).when(ApproveQuote(QUOTE_ID, approver)).then_raises(
        field="approved_by"
    )


def test_approving_a_missing_quote_is_not_found() -> None:
    given().when(ApproveQuote(QUOTE_ID, "gerente-3")).then_raises(code="not-found")


# --- accepting -----------------------------------------------------------------------


def test_accepting_emits_quote_accepted_with_the_latest_total() -> None:
    given(issued(1), issued(2, quantity="1")).when(AcceptQuote(QUOTE_ID)).then(
        QuoteAccepted(
            quote_id=QUOTE_ID,
            quote_version=2,
            customer_id=CUSTOMER,
            opportunity_id=OPP_ID,
            # 1 x 149.90 - 10 % = 134.91; tax 12.479175 -> 12.48
            total=brl("147.39"),
        )
    )


def test_accepting_without_a_required_approval_is_refused() -> None:
    given(issued(1, discount="20")).when(AcceptQuote(QUOTE_ID)).then_raises(
        code="approval-required"
    )


def test_accepting_after_approval_is_allowed() -> None:
    events = decide(AcceptQuote(QUOTE_ID), decider.fold([issued(1, discount="20"), approved(1)]))
    assert [type(e) for e in events] == [QuoteAccepted]


def test_an_approval_of_an_older_version_does_not_cover_a_revision() -> None:
    given(issued(1, discount="20"), approved(1), issued(2, discount="20")).when(
        AcceptQuote(QUOTE_ID)
    ).then_raises(code="approval-required")


def test_accepting_twice_is_refused() -> None:
    accepted = QuoteAccepted(
        quote_id=QUOTE_ID, quote_version=1, customer_id=CUSTOMER, total=brl("442.17")
    )
    given(issued(1), accepted).when(AcceptQuote(QUOTE_ID)).then_raises(code="accepted")


def test_accepting_a_missing_quote_is_not_found() -> None:
    given().when(AcceptQuote(QUOTE_ID)).then_raises(code="not-found")


# --- can_send ------------------------------------------------------------------------


def test_a_missing_quote_cannot_be_sent() -> None:
    assert can_send(Quote()) is False


def test_a_quote_without_large_discounts_can_be_sent() -> None:
    assert can_send(decider.fold([issued(1)])) is True


def test_a_quote_awaiting_approval_cannot_be_sent_until_approved() -> None:
    assert can_send(decider.fold([issued(1, discount="20")])) is False
    assert can_send(decider.fold([issued(1, discount="20"), approved(1)])) is True


def test_a_revision_needing_approval_cannot_be_sent_on_the_old_approval() -> None:
    history = [issued(1, discount="20"), approved(1), issued(2, discount="30")]
    assert can_send(decider.fold(history)) is False


# --- evolve --------------------------------------------------------------------------


def test_state_keeps_the_latest_version() -> None:
    v2 = issued(2, discount="20", valid_until=date(2025, 8, 15))
    state = decider.fold([issued(1), v2, approved(2)])
    assert state.exists and state.quote_id == QUOTE_ID
    assert (state.version, state.customer_id, state.opportunity_id) == (2, CUSTOMER, OPP_ID)
    assert (state.currency, state.lines, state.totals) == ("BRL", tuple(v2.lines), v2.totals)
    assert state.requires_approval and state.approved and state.approved_by == "gerente-3"
    assert state.valid_until == date(2025, 8, 15)
    assert state.accepted is False


def test_an_approval_of_a_stale_version_is_ignored_by_evolve() -> None:
    state = decider.fold([issued(1, discount="20"), issued(2, discount="20"), approved(1)])
    assert state.approved is False


def test_stream_id() -> None:
    assert stream_id(QUOTE_ID) == f"quote-{QUOTE_ID}"
