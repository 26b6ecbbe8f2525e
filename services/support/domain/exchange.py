"""The exchange aggregate: a delivered item the customer sends back for another, with the
return label the carrier issued for it.

Eligibility (each refusal names its field): the order was delivered, is within the return
window counted from delivery, was not returned, the product is on the order and has no
other open exchange. That last rule needs every exchange of the order, so the handler
tells the decider (``line_has_open_exchange``) and a unique row enforces it under races.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal
from uuid import UUID

from contracts.events.support_self_service import ExchangeRequested, ReturnLabelIssued
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.support.domain.order_facts import OrderFacts

MAX_QUANTITY = 1000


@dataclass(frozen=True)
class Label:
    """What a carrier hands back for a return."""

    carrier: str
    label_id: str
    postage_code: str
    expires_at: datetime | None = None


@dataclass(frozen=True)
class RequestExchange:
    exchange_id: UUID
    order: OrderFacts
    product_id: str
    quantity: int
    reason: str
    at: datetime
    return_window: timedelta
    requested_via: Literal["self_service", "agent"] = "self_service"
    line_has_open_exchange: bool = False


@dataclass(frozen=True)
class RecordLabel:
    exchange_id: UUID
    label: Label
    at: datetime


Command = RequestExchange | RecordLabel


@dataclass(frozen=True)
class Exchange:
    exists: bool = False
    customer_id: str = ""
    order_id: UUID | None = None
    product_id: str = ""
    label_issued: bool = False


def _eligible(command: RequestExchange) -> None:
    order = command.order
    if order.cancelled_at is not None:
        raise DomainError("the order was cancelled", field="order_id", code="order-cancelled")
    if order.delivered_at is None:
        raise DomainError("the order has not been delivered yet", field="order_id",
                          code="not-delivered")  # fmt: skip
    if command.at > order.delivered_at + command.return_window:
        days = command.return_window.days
        raise DomainError(f"the return window ({days} days from delivery) is over",
                          field="order_id", code="return-window-over")  # fmt: skip
    if order.returned_at is not None:
        raise DomainError("the order was already returned", field="order_id",
                          code="already-returned")  # fmt: skip
    if command.product_id not in order.products:
        raise DomainError("the product is not on the order", field="product_id")
    if not 1 <= command.quantity <= MAX_QUANTITY:
        raise DomainError(f"quantity must be between 1 and {MAX_QUANTITY}", field="quantity")
    if command.line_has_open_exchange:
        raise DomainError("this product of the order already has an open exchange",
                          field="product_id", code="already-exists")  # fmt: skip


def _decide_request(command: RequestExchange, state: Exchange) -> Sequence[DomainEvent]:
    if state.exists:
        raise DomainError("exchange already exists", code="already-exists")
    _eligible(command)
    reason = command.reason.strip()
    if not reason or len(reason) > 2000:
        raise DomainError("reason must be 1 to 2000 characters", field="reason")
    return [ExchangeRequested(
        customer_id=command.order.customer_id, order_id=command.order.order_id,
        exchange_id=command.exchange_id, product_id=command.product_id,
        quantity=command.quantity, reason=reason, requested_via=command.requested_via,
        requested_at=command.at,
    )]  # fmt: skip


def _decide_label(command: RecordLabel, state: Exchange) -> Sequence[DomainEvent]:
    if not state.exists or state.order_id is None:
        raise DomainError("no such exchange", field="exchange_id", code="not-found")
    if state.label_issued:
        return []  # one label per exchange: a retried issue records nothing new
    label = command.label
    return [ReturnLabelIssued(
        customer_id=state.customer_id, order_id=state.order_id,
        exchange_id=command.exchange_id, carrier=label.carrier, label_id=label.label_id,
        postage_code=label.postage_code, expires_at=label.expires_at, issued_at=command.at,
    )]  # fmt: skip


def decide(command: Command, state: Exchange) -> Sequence[DomainEvent]:
    match command:
        case RequestExchange():
            return _decide_request(command, state)
        case RecordLabel():
            return _decide_label(command, state)
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Exchange, event: DomainEvent) -> Exchange:
    match event:
        case ExchangeRequested():
            return Exchange(exists=True, customer_id=event.customer_id,
                            order_id=event.order_id, product_id=event.product_id)  # fmt: skip
        case ReturnLabelIssued():
            return Exchange(state.exists, state.customer_id, state.order_id,
                            state.product_id, label_issued=True)  # fmt: skip
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Exchange())


def stream_id(exchange_id: UUID) -> str:
    return f"exchange-{exchange_id}"
