"""The orders self-service acts on: one known order, checked against who calls."""

from __future__ import annotations

from uuid import UUID

from services.platform.db import Connection
from services.platform.decider import DomainError
from services.support.application import directory
from services.support.application.runtime import Actor
from services.support.domain.order_facts import OrderFacts

CUSTOMER_ROLE = "customer"


async def order_for(conn: Connection, order_id: UUID, who: Actor, *, lock: bool = False
                    ) -> OrderFacts:  # fmt: skip
    """The order, refused (403) to a customer whose it is not. ``lock`` takes its row
    FOR UPDATE: commands on one order then run one after the other, so each sees what
    the previous one committed (and so does the directory, marking it delivered)."""
    if lock:
        await conn.execute("SELECT 1 FROM known_orders WHERE order_id = $1 FOR UPDATE", order_id)
    known = await directory.order(conn, order_id)
    if who.role == CUSTOMER_ROLE and who.actor_id != known.customer_id:
        raise DomainError("a customer may act only on their own orders", field="order_id",
                          code="forbidden")  # fmt: skip
    return OrderFacts(
        order_id=known.order_id, customer_id=known.customer_id, products=known.products,
        total=known.total, currency=known.currency,
        promised_delivery_date=known.promised_delivery_date, delivered_at=known.delivered_at,
        cancelled_at=known.cancelled_at, returned_at=known.returned_at,
    )  # fmt: skip
