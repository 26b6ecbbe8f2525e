"""What the self-service rules need to know of an order (learnt from the sales topic)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID


@dataclass(frozen=True)
class OrderFacts:
    order_id: UUID
    customer_id: str
    products: tuple[str, ...] = ()
    total: Decimal | None = None
    currency: str | None = None
    promised_delivery_date: date | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    returned_at: datetime | None = None
