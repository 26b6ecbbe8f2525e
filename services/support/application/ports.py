"""The self-service's ports to the outside world: a carrier that issues return labels and
a payment provider that refunds. Adapters live in ``services.support.adapters``; the
composition root picks them (``CRM_SUPPORT_CARRIER``, ``CRM_SUPPORT_PAYMENTS``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol
from uuid import UUID

from services.support.domain.exchange import Label

__all__ = ["Carrier", "Label", "LabelRequest", "Payments"]


@dataclass(frozen=True)
class LabelRequest:
    """The exchange a label is for. Its id is the carrier's idempotency key: asked again
    for the same exchange, a carrier must hand back the same label."""

    exchange_id: UUID
    order_id: UUID
    customer_id: str
    product_id: str
    quantity: int
    requested_at: datetime
    valid_until: datetime


class Carrier(Protocol):
    async def issue_label(self, exchange: LabelRequest) -> Label: ...


class Payments(Protocol):
    name: str
    """The provider's name, recorded on the refund."""

    async def refund(self, order_id: UUID, amount: Decimal, currency: str,
                     idempotency_key: str) -> str:  # fmt: skip
        """Refund once per ``idempotency_key`` and return the provider's reference; a
        repeat with the same key returns the first refund's reference, refunds nothing."""
        ...
