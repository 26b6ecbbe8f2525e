"""The late-delivery refund of an order (stream ``refund-{order id}``): at most one.

An order is refundable for lateness when it had a promised delivery date, the whole of
that day (UTC) is over and it was neither delivered nor cancelled; the worker's automatic
run waits a further grace period. ``require_eligible`` is checked before the payment
provider is asked; ``decide`` records the refund the provider made, checking again —
unless the refund was ``decided`` by an earlier attempt that may have been paid already:
that one is completed whatever has been learnt of the order since (see
``application.refunds``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID, uuid5

from contracts.events.support_self_service import RefundIssued
from contracts.money import Money
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.support.domain.order_facts import OrderFacts

_REFUND_IDS = UUID("7d0c2b1e-3f55-4c1b-9a43-5a0f4b6f2e10")


def refund_id_for(order_id: UUID) -> UUID:
    """The same order always gets the same refund id, so a retry cannot mint another."""
    return uuid5(_REFUND_IDS, f"late_delivery:{order_id}")


@dataclass(frozen=True)
class IssueRefund:
    order: OrderFacts
    at: datetime
    provider: str
    payment_reference: str
    grace: timedelta = timedelta(0)
    decided: bool = False
    """An earlier attempt judged the order refundable and asked the provider: record it."""


@dataclass(frozen=True)
class Refund:
    issued: bool = False


def require_eligible(order: OrderFacts, at: datetime, grace: timedelta = timedelta(0)) -> Money:
    """The amount to refund, or the rule the order breaks."""
    if order.delivered_at is not None:
        raise DomainError("refund for a delivered order", field="order_id", code="delivered")
    if order.cancelled_at is not None:
        raise DomainError("the order was cancelled", field="order_id", code="order-cancelled")
    if order.promised_delivery_date is None:
        raise DomainError("the order has no promised delivery date", field="order_id",
                          code="no-promised-date")  # fmt: skip
    if at.date() <= order.promised_delivery_date + grace:
        raise DomainError(f"the order is not late: delivery was promised for "
                          f"{order.promised_delivery_date}", field="order_id",
                          code="not-late")  # fmt: skip
    return refund_amount(order)


def refund_amount(order: OrderFacts) -> Money:
    """The whole of the order's total."""
    if order.total is None or order.currency is None:
        raise DomainError("the order's total is unknown", field="order_id")
    return Money(amount=order.total, currency=order.currency)


def decide(command: IssueRefund, state: Refund) -> Sequence[DomainEvent]:
    if state.issued:
        return []  # exactly once per order: a repeat records nothing
    order = command.order
    amount = (refund_amount(order) if command.decided
              else require_eligible(order, command.at, command.grace))  # fmt: skip
    return [RefundIssued(
        customer_id=order.customer_id, order_id=order.order_id,
        refund_id=refund_id_for(order.order_id), amount=amount, provider=command.provider,
        payment_reference=command.payment_reference, issued_at=command.at,
    )]  # fmt: skip


def evolve(state: Refund, event: DomainEvent) -> Refund:
    return Refund(issued=True) if isinstance(event, RefundIssued) else state


decider = Decider(decide=decide, evolve=evolve, initial_state=Refund())


def stream_id(order_id: UUID) -> str:
    return f"refund-{order_id}"
