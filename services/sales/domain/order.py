"""The order aggregate: placed (directly or from an accepted quote), then delivered,
cancelled or returned. Placing an order is also the purchase fact other contexts react to.

Repeating a transition that already happened (deliver, cancel, return twice) emits
nothing, so a retried command or a carrier's duplicate confirmation is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Literal
from uuid import UUID

from contracts.events.sales import (
    OrderCancelled,
    OrderDelivered,
    OrderLine,
    OrderPlaced,
    OrderReturned,
    PurchaseMade,
)
from contracts.money import Money
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.sales.domain.pricing import MAX_AMOUNT
from services.sales.domain.quote import Quote

OrderStatus = Literal["placed", "delivered", "cancelled", "returned"]

MAX_CUSTOMER_ID_LENGTH = 200
MAX_CHANNEL_LENGTH = 50
MAX_REASON_LENGTH = 2000


@dataclass(frozen=True)
class PlaceOrder:
    order_id: UUID
    customer_id: str
    lines: Sequence[OrderLine]
    channel: str = "direct"
    quote_id: UUID | None = None
    quote_version: int | None = None
    opportunity_id: UUID | None = None


@dataclass(frozen=True)
class DeliverOrder:
    order_id: UUID


@dataclass(frozen=True)
class CancelOrder:
    order_id: UUID
    reason: str


@dataclass(frozen=True)
class ReturnOrder:
    order_id: UUID
    reason: str
    defective: bool = False


Command = PlaceOrder | DeliverOrder | CancelOrder | ReturnOrder


@dataclass(frozen=True)
class Order:
    exists: bool = False
    customer_id: str = ""
    status: OrderStatus = "placed"
    lines: tuple[OrderLine, ...] = ()
    total: Money | None = None
    quote_id: UUID | None = None
    opportunity_id: UUID | None = None


def order_lines_from_quote(quote: Quote) -> list[OrderLine]:
    """The order lines of an accepted quote's latest version; each line costs net + tax."""
    if not quote.exists:
        raise DomainError("no such quote", field="quote_id", code="not-found")
    if not quote.accepted:
        raise DomainError(
            "only an accepted quote becomes an order", field="quote_id", code="not-accepted"
        )
    return [
        OrderLine(
            product_id=line.product_id,
            description=line.description,
            quantity=line.quantity,
            line_total=Money(
                amount=line.net_amount.amount + line.tax_amount.amount,
                currency=line.net_amount.currency,
            ),
        )
        for line in quote.lines
    ]


def place_order_from_quote(order_id: UUID, quote: Quote, channel: str = "direct") -> PlaceOrder:
    """The command that turns an accepted quote into an order, linked to quote and deal."""
    return PlaceOrder(
        order_id=order_id,
        customer_id=quote.customer_id,
        lines=order_lines_from_quote(quote),
        channel=channel,
        quote_id=quote.quote_id,
        quote_version=quote.version,
        opportunity_id=quote.opportunity_id,
    )


def decide(command: Command, state: Order) -> Sequence[DomainEvent]:
    match command:
        case PlaceOrder():
            if state.exists:
                raise DomainError("order already exists", code="already-exists")
            return _place(command)
        case DeliverOrder():
            _require(state)
            if state.status == "delivered":
                return []
            if state.status != "placed":
                raise DomainError(f"order is {state.status}", code=state.status)
            return [OrderDelivered(order_id=command.order_id, customer_id=state.customer_id)]
        case CancelOrder():
            _require(state)
            reason = _reason(command.reason)
            if state.status == "cancelled":
                return []
            if state.status in ("delivered", "returned"):
                raise DomainError("a delivered order cannot be cancelled", code="delivered")
            return [
                OrderCancelled(
                    order_id=command.order_id, customer_id=state.customer_id, reason=reason
                )
            ]
        case ReturnOrder():
            _require(state)
            reason = _reason(command.reason)
            if state.status == "returned":
                return []
            if state.status != "delivered":
                raise DomainError("only a delivered order can be returned", code="not-delivered")
            return [
                OrderReturned(
                    order_id=command.order_id,
                    customer_id=state.customer_id,
                    reason=reason,
                    defective=bool(command.defective),
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _place(command: PlaceOrder) -> list[DomainEvent]:
    customer_id = command.customer_id.strip() if isinstance(command.customer_id, str) else ""
    if not customer_id or len(customer_id) > MAX_CUSTOMER_ID_LENGTH:
        raise DomainError("customer id must be 1..200 characters", field="customer_id")
    channel = command.channel.strip() if isinstance(command.channel, str) else ""
    if not channel or len(channel) > MAX_CHANNEL_LENGTH:
        raise DomainError("channel must be 1..50 characters", field="channel")
    if command.quote_version is not None and command.quote_version < 1:
        raise DomainError("quote version starts at 1", field="quote_version")
    lines = list(command.lines)
    if not lines:
        raise DomainError("an order needs at least one line", field="lines", code="no-lines")
    currencies = {line.line_total.currency for line in lines}
    if len(currencies) > 1:
        raise DomainError(
            f"all lines must be in one currency, got {sorted(currencies)}",
            field="lines",
            code="mixed-currency",
        )
    for index, line in enumerate(lines):
        if line.line_total.amount < 0:
            raise DomainError(
                "a line total must not be negative", field=f"lines[{index}].line_total.amount"
            )
    amount = sum((line.line_total.amount for line in lines), Decimal(0))
    if amount >= MAX_AMOUNT:
        raise DomainError("order total too large", field="lines", code="too-large")
    total = Money(amount=amount, currency=currencies.pop())
    return [
        OrderPlaced(
            order_id=command.order_id,
            customer_id=customer_id,
            quote_id=command.quote_id,
            quote_version=command.quote_version,
            opportunity_id=command.opportunity_id,
            lines=lines,
            total=total,
            channel=channel,
        ),
        PurchaseMade(
            order_id=command.order_id,
            customer_id=customer_id,
            total=total,
            channel=channel,
            opportunity_id=command.opportunity_id,
            quote_id=command.quote_id,
        ),
    ]


def _require(state: Order) -> None:
    if not state.exists:
        raise DomainError("no such order", code="not-found")


def _reason(reason: object) -> str:
    text = reason.strip() if isinstance(reason, str) else ""
    if not text:
        raise DomainError("a reason is required", field="reason")
    if len(text) > MAX_REASON_LENGTH:
        raise DomainError("reason is longer than 2000 characters", field="reason")
    return text


def evolve(state: Order, event: DomainEvent) -> Order:
    match event:
        case OrderPlaced():
            return Order(
                exists=True,
                customer_id=event.customer_id,
                lines=tuple(event.lines),
                total=event.total,
                quote_id=event.quote_id,
                opportunity_id=event.opportunity_id,
            )
        case OrderDelivered():
            return replace(state, status="delivered")
        case OrderCancelled():
            return replace(state, status="cancelled")
        case OrderReturned():
            return replace(state, status="returned")
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Order())


def stream_id(order_id: UUID) -> str:
    return f"order-{order_id}"
