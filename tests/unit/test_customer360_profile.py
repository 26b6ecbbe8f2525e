"""The customer 360 reducer: identity, lifecycle, lifetime value, order-insensitivity."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.events.sales import (
    AccountRegistered,
    ActivityLogged,
    Address,
    ContactRegistered,
    DealStageChanged,
    LeadCaptured,
    LeadConverted,
    LeadQualified,
    OpportunityAssigned,
    OpportunityLost,
    OpportunityOpened,
    OrderCancelled,
    OrderDelivered,
    OrderLine,
    OrderPlaced,
    OrderReturned,
    PurchaseMade,
    RecordsMerged,
    TaxId,
)
from contracts.events.support import ComplaintFiled
from contracts.money import Money
from contracts.registry import DomainEvent
from projections.customer360.model import Profile
from projections.customer360.profile import affected_customers, evolve, fold

T0 = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)
ACCOUNT = uuid.UUID("3e1d5c7a-9b2f-4c8e-a6d4-1f0e9d8c7b6a")
CUST = str(ACCOUNT)


def at(days: float) -> datetime:
    return T0 + timedelta(days=days)


def brl(amount: str, currency: str = "BRL") -> Money:
    return Money(amount=Decimal(amount), currency=currency)


def account() -> AccountRegistered:
    return AccountRegistered(
        account_id=ACCOUNT,
        customer_id=CUST,
        name="Acme Indústria Ltda",
        tax_id=TaxId(scheme="cnpj", number="11222333000181", country="BR"),
        phones=["+551133334444"],
        emails=["Compras@Acme.com.br"],
        address=Address(city="São Paulo", state="SP", country="BR"),
        owner_id="seller-1",
    )


def contact(first: str = "José", last: str = "da Silva") -> ContactRegistered:
    return ContactRegistered(
        contact_id=uuid.uuid4(),
        customer_id=CUST,
        account_id=ACCOUNT,
        first_name=first,
        last_name=last,
        phones=["+5511912345678"],
        emails=["jose@acme.com.br"],
        address=Address(city="Campinas", state="SP", country="BR"),
    )


def placed(order: uuid.UUID, amount: str, currency: str = "BRL") -> OrderPlaced:
    return OrderPlaced(
        order_id=order,
        customer_id=CUST,
        lines=[OrderLine(product_id="p1", quantity=Decimal(1), line_total=brl(amount, currency))],
        total=brl(amount, currency),
    )


def purchase(order: uuid.UUID, amount: str, currency: str = "BRL") -> PurchaseMade:
    return PurchaseMade(
        order_id=order, customer_id=CUST, total=brl(amount, currency), channel="web"
    )


def complaint() -> ComplaintFiled:
    return ComplaintFiled(case_id=uuid.uuid4(), customer_id=CUST, subject="Produto quebrado")


def lost(opportunity: uuid.UUID) -> OpportunityLost:
    return OpportunityLost(
        opportunity_id=opportunity, customer_id=CUST, reason="price", details="too expensive"
    )


def run(*events: tuple[DomainEvent, datetime]) -> Profile:
    profile = fold(events)
    assert profile is not None
    return profile


# ------------------------------------------------------------------------------ identity


def test_no_events_no_profile() -> None:
    assert fold([]) is None


def test_account_and_its_contacts_fold_into_one_identity() -> None:
    profile = run((account(), at(0)), (contact(), at(1)), (contact("Ana", "Souza"), at(2)))
    assert profile.kind == "account"
    assert profile.display_name == "Acme Indústria Ltda"
    assert profile.company_name == "Acme Indústria Ltda"
    assert profile.person_names == ["Ana Souza", "José da Silva"]
    assert [(t.scheme, t.number) for t in profile.tax_ids] == [("cnpj", "11222333000181")]
    assert profile.phones == ["+551133334444", "+5511912345678"]
    assert profile.emails == ["compras@acme.com.br", "jose@acme.com.br"]
    assert profile.address is not None and profile.address.city == "São Paulo"
    assert {a.city for a in profile.addresses} == {"São Paulo", "Campinas"}
    assert profile.account_id == CUST
    assert len(profile.contact_ids) == 2
    assert profile.owner_id == "seller-1"
    assert profile.lifecycle == "new_customer"


def test_the_account_is_the_main_record_whichever_arrives_first() -> None:
    registered_contact = contact()
    one = run((account(), at(0)), (registered_contact, at(1)))
    other = run((registered_contact, at(1)), (account(), at(0)))
    assert one == other
    assert other.display_name == "Acme Indústria Ltda"
    assert other.address is not None and other.address.city == "São Paulo"


def test_profile_round_trips_through_json() -> None:
    order = uuid.uuid4()
    profile = run((account(), at(0)), (placed(order, "10.50"), at(1)), (complaint(), at(2)))
    dumped = profile.model_dump(mode="json")
    assert dumped["lifetime_value"] == {"BRL": "10.50"}
    assert Profile.model_validate(dumped) == profile


def test_lead_is_a_prospect_and_its_conversion_points_at_the_customer() -> None:
    lead_id = uuid.uuid4()
    lead_customer = str(lead_id)
    captured = LeadCaptured(
        lead_id=lead_id,
        customer_id=lead_customer,
        source="web_form",
        name="Maria Pereira",
        company="Padaria Pão Quente",
        phones=["+5521987654321"],
    )
    lead = fold([(captured, at(0))])
    assert lead is not None
    assert (lead.kind, lead.lifecycle, lead.lead_status) == ("lead", "prospect", "captured")
    assert lead.display_name == "Maria Pereira"
    assert lead.company_name == "Padaria Pão Quente"
    converted = LeadConverted(
        lead_id=lead_id, customer_id=CUST, lead_customer_id=lead_customer, contact_id=uuid.uuid4()
    )
    assert affected_customers(converted, CUST) == sorted([CUST, lead_customer])
    qualified = LeadQualified(lead_id=lead_id, customer_id=lead_customer)
    lead = evolve(evolve(lead, qualified, at(1)), converted, at(2), customer_id=lead_customer)
    assert lead.converted_into == CUST
    assert lead.lead_status == "converted"
    customer = evolve(None, converted, at(2), customer_id=CUST)
    assert customer.customer_id == CUST
    assert customer.lifecycle == "new_customer"
    assert customer.lead_ids == [lead_customer]


def test_merge_marks_the_merged_profile_and_the_survivor() -> None:
    merged_customer = str(uuid.uuid4())
    merge = RecordsMerged(
        kind="account",
        survivor_id=ACCOUNT,
        merged_id=uuid.UUID(merged_customer),
        customer_id=CUST,
        merged_customer_id=merged_customer,
    )
    assert affected_customers(merge) == sorted([CUST, merged_customer])
    merged = evolve(None, merge, at(1), customer_id=merged_customer)
    assert merged.customer_id == merged_customer
    assert merged.merged_into == CUST
    survivor = evolve(run((account(), at(0))), merge, at(1))
    assert survivor.merged_into is None
    assert survivor.merged_from == [merged_customer]
    # a merge is bookkeeping, not an interaction with the customer
    assert survivor.last_interaction_at == at(0)


# ----------------------------------------------------------------------------- lifecycle


def test_prospect_with_only_an_opportunity() -> None:
    opened = OpportunityOpened(
        opportunity_id=uuid.uuid4(), customer_id=CUST, title="Frota", amount=brl("5000")
    )
    assert run((opened, at(0))).lifecycle == "prospect"


def test_contact_cycle_from_registration_to_active() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    events = [(account(), at(0))]
    assert run(*events).lifecycle == "new_customer"
    events.append((placed(first, "100.00"), at(1)))
    assert run(*events).lifecycle == "first_order"
    events.append((OrderDelivered(order_id=first, customer_id=CUST), at(3)))
    assert run(*events).lifecycle == "first_order_delivered"
    events.append((placed(second, "50.00"), at(40)))
    assert run(*events).lifecycle == "active"


def test_a_cancelled_order_does_not_count() -> None:
    order = uuid.uuid4()
    profile = run(
        (account(), at(0)),
        (placed(order, "100.00"), at(1)),
        (OrderCancelled(order_id=order, customer_id=CUST, reason="changed mind"), at(2)),
    )
    assert profile.lifecycle == "new_customer"
    assert profile.first_order_at is None
    assert profile.lifetime_value == {}
    assert profile.orders[str(order)].status == "cancelled"


def test_defective_return_puts_the_customer_at_risk() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    base = [(account(), at(0)), (placed(first, "10"), at(1)), (placed(second, "20"), at(2))]
    assert run(*base).lifecycle == "active"
    not_defective = OrderReturned(order_id=second, customer_id=CUST, reason="size", defective=False)
    assert run(*base, (not_defective, at(5))).lifecycle == "active"
    defective = OrderReturned(order_id=second, customer_id=CUST, reason="broken", defective=True)
    assert run(*base, (defective, at(5))).lifecycle == "at_risk"
    # a new order after the defective return: the relationship goes on
    third = uuid.uuid4()
    assert run(*base, (defective, at(5)), (placed(third, "5"), at(6))).lifecycle == "active"


def test_complaint_after_the_last_order_puts_the_customer_at_risk() -> None:
    order = uuid.uuid4()
    base = [(account(), at(0)), (placed(order, "10"), at(1))]
    profile = run(*base, (complaint(), at(2)))
    assert profile.lifecycle == "at_risk"
    assert profile.open_complaints == 1 and len(profile.open_cases) == 1
    # a complaint before any order is no dissatisfaction with an order
    assert run((account(), at(0)), (complaint(), at(0.5)), *base[1:]).lifecycle == "first_order"


def test_lost_opportunity_after_having_ordered_is_win_back() -> None:
    order, opportunity = uuid.uuid4(), uuid.uuid4()
    base = [(account(), at(0)), (placed(order, "10"), at(1))]
    assert run(*base, (lost(opportunity), at(30))).lifecycle == "win_back"
    # lost before ever ordering: not a win-back
    assert run((account(), at(0)), (lost(opportunity), at(0.5))).lifecycle == "new_customer"
    # ordering again after the loss: won back
    again = run(*base, (lost(opportunity), at(30)), (placed(uuid.uuid4(), "5"), at(31)))
    assert again.lifecycle == "active"


def test_a_year_without_orders_before_the_latest_event_is_win_back() -> None:
    order = uuid.uuid4()
    base = [(account(), at(0)), (placed(order, "10"), at(1))]
    call = ActivityLogged(
        activity_id=uuid.uuid4(),
        customer_id=CUST,
        kind="call",
        subject="Oi",
        happened_at=at(1 + 364),
    )
    assert run(*base, (call, at(1 + 364))).lifecycle == "first_order"
    late_call = call.model_copy(update={"happened_at": at(1 + 365)})
    assert run(*base, (late_call, at(1 + 365))).lifecycle == "win_back"


# ---------------------------------------------------------------------- lifetime value


def test_lifetime_value_per_currency_in_decimal() -> None:
    a, b, c, d, e = (uuid.uuid4() for _ in range(5))
    profile = run(
        (account(), at(0)),
        (placed(a, "0.10"), at(1)),
        (purchase(a, "0.10"), at(1)),  # the same order as its purchase: counted once
        (purchase(b, "0.20"), at(2)),  # a shop purchase with no order event
        (placed(c, "1000.05", "ARS"), at(3)),
        (placed(d, "99.99", "ARS"), at(4)),
        (OrderReturned(order_id=d, customer_id=CUST, reason="x"), at(5)),
        (placed(e, "7"), at(6)),
        (OrderCancelled(order_id=e, customer_id=CUST, reason="x"), at(7)),
    )
    assert profile.lifetime_value == {"ARS": Decimal("1000.05"), "BRL": Decimal("0.30")}
    assert isinstance(profile.lifetime_value["BRL"], Decimal)
    assert profile.first_order_at == at(1)
    assert profile.last_order_at == at(4)  # the returned order was placed; cancelled not
    assert profile.model_dump(mode="json")["lifetime_value"] == {"ARS": "1000.05", "BRL": "0.30"}


# ----------------------------------------------------------------------- interactions


def test_last_interaction_ignores_system_events_and_uses_activity_time() -> None:
    opportunity = uuid.uuid4()
    call = ActivityLogged(
        activity_id=uuid.uuid4(),
        customer_id=CUST,
        kind="call",
        subject="Retorno sobre proposta",
        happened_at=at(3),
    )
    assigned = OpportunityAssigned(
        opportunity_id=opportunity, customer_id=CUST, owner_id="seller-2", rule="round_robin"
    )
    profile = run((account(), at(0)), (call, at(4)), (assigned, at(5)))
    assert profile.last_interaction_at == at(3)
    assert profile.last_interaction_summary == "Call: Retorno sobre proposta"
    assert profile.updated_at == at(5)


def test_opportunities_follow_the_pipeline() -> None:
    opportunity = uuid.uuid4()
    opened = OpportunityOpened(
        opportunity_id=opportunity, customer_id=CUST, title="Frota", amount=brl("5000")
    )
    moved = DealStageChanged(
        opportunity_id=opportunity,
        customer_id=CUST,
        from_stage="qualification",
        to_stage="proposal_sent",
        probability=Decimal(60),
    )
    assigned = OpportunityAssigned(
        opportunity_id=opportunity, customer_id=CUST, owner_id="seller-2", rule="manual"
    )
    profile = run((opened, at(0)), (moved, at(1)), (assigned, at(2)))
    view = profile.open_opportunities[str(opportunity)]
    assert (view.title, view.stage, view.probability, view.owner_id) == (
        "Frota",
        "proposal_sent",
        Decimal(60),
        "seller-2",
    )
    assert view.amount == brl("5000")
    closed = evolve(profile, lost(opportunity), at(3))
    assert closed.open_opportunities == {}
    assert closed.closed_opportunities == {str(opportunity): "lost"}


# ---------------------------------------------------------------- order-insensitivity

ORDER_A, ORDER_B = uuid.UUID(int=1), uuid.UUID(int=2)
MIXED_EVENTS: list[tuple[DomainEvent, datetime]] = [
    (account(), at(0)),
    (contact(), at(0.5)),
    (placed(ORDER_A, "120.00"), at(1)),
    (purchase(ORDER_A, "120.00"), at(1)),
    (OrderDelivered(order_id=ORDER_A, customer_id=CUST), at(4)),
    (purchase(ORDER_B, "30.00", "ARS"), at(10)),
    (OrderReturned(order_id=ORDER_B, customer_id=CUST, reason="broken", defective=True), at(12)),
    (complaint(), at(11)),
    (
        ActivityLogged(
            activity_id=uuid.uuid4(), customer_id=CUST, kind="note", subject="x", happened_at=at(2)
        ),
        at(2),
    ),
]


@settings(max_examples=200, deadline=None)
@given(st.permutations(MIXED_EVENTS))
def test_delivery_order_across_topics_does_not_change_the_profile(
    shuffled: list[tuple[DomainEvent, datetime]],
) -> None:
    """Orders, purchases, returns and complaints come from different topics in any order."""
    assert fold(shuffled) == fold(MIXED_EVENTS)


def test_order_events_in_any_order_give_the_same_order_view() -> None:
    expected = fold(MIXED_EVENTS)
    assert expected is not None
    assert expected.orders[str(ORDER_A)].status == "delivered"
    assert expected.orders[str(ORDER_B)].status == "returned"
    assert expected.lifetime_value == {"BRL": Decimal("120.00")}
    assert expected.lifecycle == "at_risk"


# --------------------------------------------------------------------------- time travel


def test_fold_up_to_a_moment_gives_the_profile_as_of_that_moment() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    history = [
        (account(), at(0)),
        (placed(first, "10"), at(1)),
        (OrderDelivered(order_id=first, customer_id=CUST), at(2)),
        (placed(second, "20"), at(10)),
        (complaint(), at(11)),
    ]
    as_of = {
        at(0.5): ("new_customer", {}),
        at(1.5): ("first_order", {"BRL": Decimal("10")}),
        at(5): ("first_order_delivered", {"BRL": Decimal("10")}),
        at(10.5): ("active", {"BRL": Decimal("30")}),
        at(20): ("at_risk", {"BRL": Decimal("30")}),
    }
    for moment, (stage, ltv) in as_of.items():
        profile = fold((e, t) for e, t in history if t <= moment)
        assert profile is not None
        assert (profile.lifecycle, profile.lifetime_value) == (stage, ltv), moment
        assert profile.updated_at is not None and profile.updated_at <= moment
