"""Time travel: the profile as it stood at a past instant, folded from the timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from contracts.events.sales import AccountRegistered, OrderDelivered, OrderLine, OrderPlaced
from contracts.money import Money
from projections.customer360.projector import SCHEMA_SQL as PROFILE_SQL
from projections.customer360.projector import project as project_profile
from projections.customer360.queries import get_profile
from projections.customer360.time_travel import profile_as_of
from projections.timeline.projector import SCHEMA_SQL as TIMELINE_SQL
from projections.timeline.projector import project as project_timeline
from tests.integration.test_customer360 import consumed

pytestmark = pytest.mark.integration


async def test_profile_as_of_a_past_instant_and_now_equals_the_live_one(unique, pool_factory):
    timeline = await pool_factory(f"tt_{unique}", TIMELINE_SQL)
    profiles = await pool_factory(f"tp_{unique}", PROFILE_SQL)
    account_id = uuid.uuid4()
    customer = str(account_id)
    order_id = uuid.uuid4()
    total = Money(amount=Decimal("500.00"), currency="BRL")
    t0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    history = [
        (AccountRegistered(account_id=account_id, customer_id=customer, name="Padaria Sol"), t0),
        (OrderPlaced(order_id=order_id, customer_id=customer, total=total,
                     lines=[OrderLine(product_id="CRM-SEAT", quantity=Decimal(1),
                                      line_total=total)]), t0 + timedelta(days=3)),
        (OrderDelivered(order_id=order_id, customer_id=customer), t0 + timedelta(days=9)),
    ]  # fmt: skip
    for event, at in history:
        async with timeline.acquire() as conn, conn.transaction():
            await project_timeline(conn, consumed(event, at))
        async with profiles.acquire() as conn, conn.transaction():
            await project_profile(conn, consumed(event, at))

    async with timeline.acquire() as conn:
        before_any = await profile_as_of(conn, customer, t0 - timedelta(days=1))
        registered = await profile_as_of(conn, customer, t0 + timedelta(days=1))
        ordered = await profile_as_of(conn, customer, t0 + timedelta(days=5))
        today = await profile_as_of(conn, customer, datetime.now(UTC))
    assert before_any is None
    assert (registered.lifecycle, registered.display_name) == ("new_customer", "Padaria Sol")
    assert ordered.lifecycle == "first_order"
    assert today.lifecycle == "first_order_delivered"
    async with profiles.acquire() as conn:
        live = await get_profile(conn, customer)
    assert today.model_dump(mode="json") == live
