"""Events of the customer-service context's self-service (topic ``crm.support.events``):
exchanges of delivered items with a return label, and refunds of late deliveries."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts.events.support import _SupportEvent
from contracts.money import Money
from contracts.registry import register


class _OrderServiceEvent(_SupportEvent):
    customer_id: str = Field(min_length=1, max_length=200)
    order_id: UUID


@register
class ExchangeRequested(_OrderServiceEvent):
    event_type = "crm.support.exchange_requested"
    personal_fields = ("reason",)

    exchange_id: UUID
    product_id: str = Field(min_length=1, max_length=100)
    quantity: int = Field(1, ge=1)
    reason: str = Field(min_length=1, max_length=2000)
    requested_via: Literal["self_service", "agent"] = "self_service"
    case_id: UUID | None = None
    requested_at: datetime


@register
class ReturnLabelIssued(_OrderServiceEvent):
    """The carrier's postage code, for the customer to post the item back (the marketing
    context sends it, as a transactional message)."""

    event_type = "crm.support.return_label_issued"

    exchange_id: UUID
    carrier: str = Field(min_length=1, max_length=100)
    label_id: str = Field(min_length=1, max_length=200)
    postage_code: str = Field(min_length=1, max_length=100)
    expires_at: datetime | None = None
    issued_at: datetime
    transactional: bool = True


@register
class RefundIssued(_OrderServiceEvent):
    """Exactly once per order and reason, whatever is redelivered or replayed."""

    event_type = "crm.support.refund_issued"

    refund_id: UUID
    amount: Money
    reason: Literal["late_delivery"] = "late_delivery"
    provider: str = Field(min_length=1, max_length=100)
    payment_reference: str = Field(min_length=1, max_length=200)
    case_id: UUID | None = None
    issued_at: datetime
