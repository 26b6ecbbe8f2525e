"""Given/when/then specs of the order decider: placing (directly or from an accepted quote),
delivery, cancellation and returns. Pure: no store, no broker."""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

import pytest

from contracts.events.sales import (
    OrderCancelled,
    OrderDelivered,
    OrderLine,
    OrderPlaced,
    OrderReturned,
    PurchaseMade,
    QuoteAccepted,
    QuoteIssued,
)
from contracts.money import Money
from services.platform.decider import DomainError
from services.sales.domain import quote as quotes
from services.sales.domain.order import (
    CancelOrder,
    DeliverOrder,
    Order,
    PlaceOrder,
    ReturnOrder,
    decide,
    decider,
    order_lines_from_quote,
    place_order_from_quote,
    stream_id,
)
from services.sales.domain.pricing import Catalogue, QuoteItem
from tests.unit.gwt import Spec

D = Decimal
ORDER_ID = UUID("9c8b7a6f-5e4d-4c3b-a2a1-0f9e8d7c6b5a")
QUOTE_ID = UUID("3b2f6c1e-8d4a-4f7b-9c2e-5a1d7e9f0b34")
OPP_ID = UUID("6f1c2b9e-3a4d-4e5f-9a8b-7c6d5e4f3a21")
CUSTOMER = "cust-br-00042"


given = Spec(decider).given


def brl(amount: str) -> Money:
    return Money(amount=D(amount), currency="BRL")


def line(product_id: str, amount: str, currency: str = "BRL", quantity: str = "1") -> OrderLine:
    return OrderLine(
        product_id=product_id,
        description=f"{product_id} — descrição",
        quantity=D(quantity),
        line_total=Money(amount=D(amount), currency=currency),
    )


LINES = [line("CRM-SEAT", "442.17", quantity="3"), line("ONBOARDING", "9345.00")]


def placed() -> OrderPlaced:
    return OrderPlaced(
        order_id=ORDER_ID, customer_id=CUSTOMER, lines=LINES, total=brl("9787.17"), channel="web"
    )


DELIVERED = OrderDelivered(order_id=ORDER_ID, customer_id=CUSTOMER)


def place(**overrides: object) -> PlaceOrder:
    fields: dict[str, object] = {
        "order_id": ORDER_ID,
        "customer_id": CUSTOMER,
        "lines": LINES,
        "channel": "web",
    }
    fields.update(overrides)
    return PlaceOrder(**fields)  # type: ignore[arg-type]


# --- placing -------------------------------------------------------------------------


def test_placing_emits_order_placed_and_purchase_made_with_the_summed_total() -> None:
    given().when(place(opportunity_id=OPP_ID)).then(
        OrderPlaced(
            order_id=ORDER_ID,
            customer_id=CUSTOMER,
            lines=LINES,
            total=brl("9787.17"),
            channel="web",
            opportunity_id=OPP_ID,
        ),
        PurchaseMade(
            order_id=ORDER_ID,
            customer_id=CUSTOMER,
            total=brl("9787.17"),
            channel="web",
            opportunity_id=OPP_ID,
        ),
    )


def test_channel_defaults_to_direct() -> None:
    events = decide(PlaceOrder(ORDER_ID, CUSTOMER, LINES), Order())
    assert [e.channel for e in events if isinstance(e, OrderPlaced | PurchaseMade)] == [
        "direct",
        "direct",
    ]


def test_lines_in_several_currencies_are_refused() -> None:
    mixed = [line("CRM-SEAT", "442.17"), line("CRM-SEAT", "35000.00", currency="ARS")]
    given().when(place(lines=mixed)).then_raises(field="lines", code="mixed-currency")


def test_an_order_without_lines_is_refused() -> None:
    given().when(place(lines=[])).then_raises(field="lines", code="no-lines")


def test_a_negative_line_total_is_refused() -> None:
    given().when(place(lines=[line("CRM-SEAT", "-1.00")])).then_raises(
        field="lines[0].line_total.amount"
    )


@pytest.mark.parametrize("customer_id", ["", "  "])
def test_a_blank_customer_is_refused(customer_id: str) -> None:
    given().when(place(customer_id=customer_id)).then_raises(field="customer_id")


@pytest.mark.parametrize("channel", ["", "x" * 51])
def test_an_invalid_channel_is_refused(channel: str) -> None:
    given().when(place(channel=channel)).then_raises(field="channel")


def test_placing_an_existing_order_is_refused() -> None:
    given(placed()).when(place()).then_raises(code="already-exists")


# --- from an accepted quote ------------------------------------------------------------


def _quote(accepted: bool) -> quotes.Quote:
    command = quotes.IssueQuote(
        quote_id=QUOTE_ID,
        customer_id=CUSTOMER,
        price_list="BRL-standard",
        items=[QuoteItem("CRM-SEAT", D(3), D(10)), QuoteItem("ONBOARDING", D(1))],
        catalogue=Catalogue.load(),
        approval_threshold_percent=D(15),
        opportunity_id=OPP_ID,
    )
    history = list(quotes.decide(command, quotes.Quote()))
    if accepted:
        history += quotes.decide(quotes.AcceptQuote(QUOTE_ID), quotes.decider.fold(history))
    assert isinstance(history[0], QuoteIssued)
    assert not accepted or isinstance(history[-1], QuoteAccepted)
    return quotes.decider.fold(history)


def test_order_lines_of_an_accepted_quote_cost_net_plus_tax_per_line() -> None:
    # seats: 404.73 + 37.44 = 442.17; onboarding: 8900.00 + 5 % = 9345.00
    assert order_lines_from_quote(_quote(accepted=True)) == [
        OrderLine(
            product_id="CRM-SEAT",
            description="Licença CRM — usuário/mês",
            quantity=D(3),
            line_total=brl("442.17"),
        ),
        OrderLine(
            product_id="ONBOARDING",
            description="Implantação e treinamento (pacote 40 h)",
            quantity=D(1),
            line_total=brl("9345.00"),
        ),
    ]


def test_an_order_from_a_quote_totals_the_quote_total_and_links_quote_and_deal() -> None:
    quote = _quote(accepted=True)
    assert quote.totals is not None
    events = decide(place_order_from_quote(ORDER_ID, quote, channel="field_sales"), Order())
    order_placed, purchase = events
    assert isinstance(order_placed, OrderPlaced) and isinstance(purchase, PurchaseMade)
    assert order_placed.total == quote.totals.total == brl("9787.17")
    assert (order_placed.quote_id, order_placed.quote_version) == (QUOTE_ID, 1)
    assert order_placed.opportunity_id == OPP_ID
    assert (purchase.quote_id, purchase.opportunity_id, purchase.total) == (
        QUOTE_ID,
        OPP_ID,
        brl("9787.17"),
    )
    assert purchase.channel == "field_sales"


def test_a_quote_not_yet_accepted_does_not_become_an_order() -> None:
    with pytest.raises(DomainError) as caught:
        order_lines_from_quote(_quote(accepted=False))
    assert (caught.value.field, caught.value.code) == ("quote_id", "not-accepted")


def test_a_missing_quote_does_not_become_an_order() -> None:
    with pytest.raises(DomainError) as caught:
        order_lines_from_quote(quotes.Quote())
    assert caught.value.code == "not-found"


# --- delivering ----------------------------------------------------------------------


def test_delivering_a_placed_order_emits_order_delivered() -> None:
    given(placed()).when(DeliverOrder(ORDER_ID)).then(DELIVERED)


def test_delivering_twice_emits_nothing() -> None:
    given(placed(), DELIVERED).when(DeliverOrder(ORDER_ID)).then()


def test_a_cancelled_order_is_not_delivered() -> None:
    cancelled = OrderCancelled(order_id=ORDER_ID, customer_id=CUSTOMER, reason="desistiu")
    given(placed(), cancelled).when(DeliverOrder(ORDER_ID)).then_raises(code="cancelled")


def test_delivering_a_missing_order_is_not_found() -> None:
    given().when(DeliverOrder(ORDER_ID)).then_raises(code="not-found")


# --- cancelling ----------------------------------------------------------------------


def test_cancelling_a_placed_order_records_the_reason() -> None:
    given(placed()).when(CancelOrder(ORDER_ID, "  Cliente desistiu da compra ")).then(
        OrderCancelled(order_id=ORDER_ID, customer_id=CUSTOMER, reason="Cliente desistiu da compra")
    )


@pytest.mark.parametrize("reason", ["", "   ", "\n"])
def test_cancelling_needs_a_reason(reason: str) -> None:
    given(placed()).when(CancelOrder(ORDER_ID, reason)).then_raises(field="reason")


def test_a_delivered_order_cannot_be_cancelled() -> None:
    given(placed(), DELIVERED).when(CancelOrder(ORDER_ID, "tarde demais")).then_raises(
        code="delivered"
    )


def test_a_returned_order_cannot_be_cancelled() -> None:
    returned = OrderReturned(order_id=ORDER_ID, customer_id=CUSTOMER, reason="defeito")
    given(placed(), DELIVERED, returned).when(CancelOrder(ORDER_ID, "x")).then_raises(
        code="delivered"
    )


def test_cancelling_twice_emits_nothing() -> None:
    cancelled = OrderCancelled(order_id=ORDER_ID, customer_id=CUSTOMER, reason="desistiu")
    given(placed(), cancelled).when(CancelOrder(ORDER_ID, "de novo")).then()


# --- returning -----------------------------------------------------------------------


def test_returning_a_delivered_order_emits_order_returned() -> None:
    given(placed(), DELIVERED).when(ReturnOrder(ORDER_ID, "Tela trincada", defective=True)).then(
        OrderReturned(
            order_id=ORDER_ID, customer_id=CUSTOMER, reason="Tela trincada", defective=True
        )
    )


def test_an_undelivered_order_cannot_be_returned() -> None:
    given(placed()).when(ReturnOrder(ORDER_ID, "não gostei")).then_raises(code="not-delivered")


def test_a_cancelled_order_cannot_be_returned() -> None:
    cancelled = OrderCancelled(order_id=ORDER_ID, customer_id=CUSTOMER, reason="desistiu")
    given(placed(), cancelled).when(ReturnOrder(ORDER_ID, "x")).then_raises(code="not-delivered")


def test_an_order_is_returned_once() -> None:
    returned = OrderReturned(order_id=ORDER_ID, customer_id=CUSTOMER, reason="defeito")
    given(placed(), DELIVERED, returned).when(ReturnOrder(ORDER_ID, "de novo")).then()


def test_returning_needs_a_reason() -> None:
    given(placed(), DELIVERED).when(ReturnOrder(ORDER_ID, " ")).then_raises(field="reason")


# --- evolve --------------------------------------------------------------------------


def test_evolve_follows_the_order_through_its_life() -> None:
    state = decider.fold([placed()])
    assert (state.exists, state.status, state.total, state.lines) == (
        True,
        "placed",
        brl("9787.17"),
        tuple(LINES),
    )
    assert decider.fold([placed(), DELIVERED]).status == "delivered"
    returned = OrderReturned(order_id=ORDER_ID, customer_id=CUSTOMER, reason="defeito")
    assert decider.fold([placed(), DELIVERED, returned]).status == "returned"


def test_stream_id() -> None:
    assert stream_id(ORDER_ID) == f"order-{ORDER_ID}"
