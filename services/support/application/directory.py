"""The customers and orders support knows (learnt from the sales topic by the worker):
who a case may be opened for, and which orders are theirs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID

from services.platform.db import Connection
from services.platform.decider import DomainError


@dataclass(frozen=True)
class KnownCustomer:
    customer_id: str
    tier: str


@dataclass(frozen=True)
class KnownOrder:
    order_id: UUID
    customer_id: str
    currency: str | None
    total: Decimal | None
    products: tuple[str, ...]
    placed_at: datetime | None
    promised_delivery_date: date | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    returned_at: datetime | None


async def customer(conn: Connection, customer_id: str) -> KnownCustomer:
    """The customer a case is for, following merges; unknown or erased: 404 naming the field."""
    row = await conn.fetchrow(
        "SELECT coalesce(s.customer_id, c.customer_id) AS customer_id, "
        "coalesce(s.tier, c.tier) AS tier, coalesce(s.erased, c.erased) AS erased "
        "FROM known_customers c LEFT JOIN known_customers s ON s.customer_id = c.merged_into "
        "WHERE c.customer_id = $1",
        customer_id,
    )
    if row is None or row["erased"]:
        raise DomainError(f"no customer {customer_id!r} is known to customer service",
                          field="customer_id", code="not-found")  # fmt: skip
    return KnownCustomer(row["customer_id"], row["tier"])


async def order(conn: Connection, order_id: UUID, customer_id: str | None = None) -> KnownOrder:
    """An order (of ``customer_id``, when given); unknown or another's: 404/422 naming it."""
    row = await conn.fetchrow("SELECT * FROM known_orders WHERE order_id = $1", order_id)
    if row is None:
        raise DomainError(f"no order {order_id} is known to customer service",
                          field="order_id", code="not-found")  # fmt: skip
    if customer_id is not None and row["customer_id"] != customer_id:
        raise DomainError("the order is not the customer's", field="order_id")
    return KnownOrder(
        row["order_id"], row["customer_id"], row["currency"], row["total"],
        tuple(row["products"]), row["placed_at"], row["promised_delivery_date"],
        row["delivered_at"], row["cancelled_at"], row["returned_at"],
    )  # fmt: skip
