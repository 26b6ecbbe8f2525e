"""Self-service on real PostgreSQL: exchanges of delivered items with a return label,
late-delivery refunds exactly once per order, and the bad input that must get a 4xx and
append nothing. The clock is the fixture's: 2026-11-23 13:00 UTC."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import pytest

from contracts.events.sales import OrderLine, OrderPlaced
from contracts.money import Money
from services.support.application.refunds import (
    complete_decided_refunds,
    refund_late_deliveries,
)
from services.support.entrypoints.directory_consumer import apply
from tests.integration.conftest import SupportApi
from tests.projection_helpers import consumed

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
CUSTOMER = {"x-actor-id": "cust-1", "x-actor-role": "customer"}
SOMEONE_ELSE = {"x-actor-id": "cust-2", "x-actor-role": "customer"}
DELIVERED = datetime(2026, 11, 10, 15, tzinfo=UTC)  # 13 days before the clock: in the window


async def _order(api: SupportApi, **columns: Any) -> UUID:
    order_id = uuid4()
    await api.know_customer("cust-1")
    values = {"currency": "BRL", "total": Decimal("899.90"), "products": ["geladeira-x"],
              "placed_at": datetime(2026, 11, 1, tzinfo=UTC), **columns}  # fmt: skip
    await api.know_order(order_id, "cust-1", **values)
    return order_id


async def _events(api: SupportApi, prefix: str) -> list[str]:
    rows = await api.runtime.pool.fetch(
        "SELECT event_type FROM events WHERE stream_id LIKE $1 ORDER BY global_position",
        f"{prefix}%",
    )
    return [r["event_type"].rsplit(".", 1)[-1] for r in rows]


async def _exchange(api: SupportApi, order_id: UUID, headers: dict[str, str] = CUSTOMER,
                    **body: Any) -> Any:  # fmt: skip
    payload = {"product_id": "geladeira-x", "reason": "Porta amassada", **body}
    return await api.client.post(f"/orders/{order_id}/exchanges", json=payload, headers=headers)


async def test_a_delivered_item_in_the_window_is_exchanged_with_a_return_label(
    support: SupportApi,
) -> None:
    order_id = await _order(support, delivered_at=DELIVERED)
    answer = await _exchange(support, order_id)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["carrier"] == "local" and body["postage_code"]
    assert await _events(support, "exchange-") == ["exchange_requested", "return_label_issued"]
    listed = await support.client.get(f"/orders/{order_id}/exchanges", headers=CUSTOMER)
    assert [(e["product_id"], e["postage_code"], e["status"]) for e in listed.json()["items"]] == [
        ("geladeira-x", body["postage_code"], "open")]  # fmt: skip


@pytest.mark.parametrize(
    ("columns", "body", "status", "field"),
    [
        ({}, {}, 422, "order_id"),  # not delivered
        ({"delivered_at": datetime(2026, 10, 1, tzinfo=UTC)}, {}, 422, "order_id"),  # window over
        ({"delivered_at": DELIVERED, "returned_at": DELIVERED}, {}, 422, "order_id"),
        ({"delivered_at": DELIVERED}, {"product_id": "fogao-y"}, 422, "product_id"),
        ({"delivered_at": DELIVERED}, {"quantity": 0}, 422, "quantity"),
        ({"delivered_at": DELIVERED}, {"reason": "   "}, 422, "reason"),
    ],
    ids=[
        "not-delivered",
        "window-over",
        "already-returned",
        "not-on-order",
        "no-quantity",
        "blank-reason",
    ],
)
async def test_an_ineligible_exchange_is_refused_naming_the_field_and_appends_nothing(
    support: SupportApi, columns: dict[str, Any], body: dict[str, Any], status: int, field: str
) -> None:
    order_id = await _order(support, **columns)
    answer = await _exchange(support, order_id, **body)
    assert answer.status_code == status, answer.text
    problem = answer.json()
    assert field in str(problem), problem
    assert await _events(support, "exchange-") == []
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM exchanges") == 0


async def test_an_unknown_order_is_404_and_another_customers_order_is_403(
    support: SupportApi,
) -> None:
    unknown = await _exchange(support, uuid4())
    assert unknown.status_code == 404, unknown.text
    assert "order_id" in str(unknown.json())
    order_id = await _order(support, delivered_at=DELIVERED)
    foreign = await _exchange(support, order_id, headers=SOMEONE_ELSE)
    assert foreign.status_code == 403, foreign.text
    late = await support.client.post(f"/orders/{order_id}/late-delivery", headers=SOMEONE_ELSE)
    assert late.status_code == 403, late.text
    assert await _events(support, "exchange-") == [] and await _events(support, "refund-") == []


async def test_one_open_exchange_per_order_line_even_when_asked_twice_at_once(
    support: SupportApi,
) -> None:
    order_id = await _order(support, delivered_at=DELIVERED)
    first, second = await asyncio.gather(_exchange(support, order_id), _exchange(support, order_id))
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    assert await _events(support, "exchange-") == ["exchange_requested", "return_label_issued"]


# ---------------------------------------------------------------- late-delivery refunds


async def _late_order(api: SupportApi) -> UUID:
    return await _order(api, promised_delivery_date=date(2026, 11, 20))


async def _refunds(api: SupportApi, order_id: UUID) -> tuple[int, int, int]:
    """(RefundIssued events, ledger rows, payments made at the provider) of the order."""
    pool = api.runtime.pool
    events = await pool.fetchval(
        "SELECT count(*) FROM events WHERE stream_id = $1 AND event_type LIKE '%refund_issued'",
        f"refund-{order_id}",
    )
    ledger = await pool.fetchval("SELECT count(*) FROM refunds WHERE order_id = $1", order_id)
    paid = await pool.fetchval(
        "SELECT count(*) FROM local_payment_refunds WHERE order_id = $1", order_id
    )
    return events, ledger, paid


async def test_a_late_order_reported_is_refunded_once_however_often_it_is_reported(
    support: SupportApi,
) -> None:
    order_id = await _late_order(support)
    answers = [await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
               for _ in range(3)]  # fmt: skip
    assert [a.status_code for a in answers] == [200, 200, 200], [a.text for a in answers]
    assert {a.json()["refund_id"] for a in answers} == {answers[0].json()["refund_id"]}
    assert answers[0].json()["amount"] == {"amount": "899.90", "currency": "BRL"}
    assert await _refunds(support, order_id) == (1, 1, 1)


async def test_a_report_racing_the_automatic_timer_refunds_once(support: SupportApi) -> None:
    rules = support.runtime.self_service
    support.runtime.self_service = replace(rules, auto_refund_late_deliveries=True,
                                           late_delivery_grace_days=0)  # fmt: skip
    order_id = await _late_order(support)
    report, refunded = await asyncio.gather(
        support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER),
        refund_late_deliveries(support.runtime),
    )
    assert report.status_code == 200, report.text
    assert refunded in (0, 1)  # whichever came second found the first's refund
    assert await refund_late_deliveries(support.runtime) == 0  # a later tick: nothing left
    assert await _refunds(support, order_id) == (1, 1, 1)


async def test_redelivered_order_events_do_not_refund_again(support: SupportApi) -> None:
    support.runtime.self_service = replace(support.runtime.self_service,
                                           auto_refund_late_deliveries=True,
                                           late_delivery_grace_days=0)  # fmt: skip
    order_id = uuid4()
    placed = OrderPlaced(
        order_id=order_id, customer_id="cust-1", promised_delivery_date=date(2026, 11, 20),
        lines=[OrderLine(product_id="geladeira-x", quantity=Decimal(1),
                         line_total=Money(amount=Decimal("899.90"), currency="BRL"))],
        total=Money(amount=Decimal("899.90"), currency="BRL"),
    )  # fmt: skip
    for _ in range(2):  # the order placed, then the same event again (a redelivery)
        async with support.runtime.pool.acquire() as conn, conn.transaction():
            await apply(support.runtime, conn, consumed(placed, datetime(2026, 11, 1, tzinfo=UTC)))
        await refund_late_deliveries(support.runtime)
    assert await _refunds(support, order_id) == (1, 1, 1)


class CrashAfterPaying:
    """The payment provider answers, then our process dies before its commit."""

    def __init__(self, real: Any) -> None:
        self.real, self.name = real, real.name

    async def refund(self, order_id: UUID, amount: Decimal, currency: str,
                     idempotency_key: str) -> str:  # fmt: skip
        await self.real.refund(order_id, amount, currency, idempotency_key=idempotency_key)
        raise ConnectionResetError("the process died after the provider refunded")


async def test_a_crash_after_the_provider_paid_is_retried_without_paying_twice(
    support: SupportApi,
) -> None:
    order_id = await _late_order(support)
    real = support.runtime.payments
    support.runtime.payments = CrashAfterPaying(real)
    crashed = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert crashed.status_code == 503 and "Retry-After" in crashed.headers, crashed.text
    # The provider refunded (once, however often the handler retried); our transaction
    # rolled back: no event, no ledger row.
    assert await _refunds(support, order_id) == (0, 0, 1)
    support.runtime.payments = real
    retried = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert retried.status_code == 200, retried.text
    paid = await support.runtime.pool.fetchval(
        "SELECT reference FROM local_payment_refunds WHERE order_id = $1", order_id
    )
    assert retried.json()["payment_reference"] == paid  # the provider's first refund, recorded
    assert await _refunds(support, order_id) == (1, 1, 1)


async def test_a_refund_paid_before_a_crash_is_recorded_even_if_the_order_arrives_meanwhile(
    support: SupportApi,
) -> None:
    order_id = await _late_order(support)
    real = support.runtime.payments
    support.runtime.payments = CrashAfterPaying(real)
    crashed = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert crashed.status_code == 503, crashed.text
    support.runtime.payments = real
    # The parcel turns up before the customer retries: the provider has paid all the same,
    # so the refund must be recorded, not refused as "delivered" and left unaccounted for.
    await support.runtime.pool.execute(
        "UPDATE known_orders SET delivered_at = $2 WHERE order_id = $1",
        order_id, support.clock.now,
    )  # fmt: skip
    retried = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert retried.status_code == 200, retried.text
    assert await _refunds(support, order_id) == (1, 1, 1)


async def test_a_refund_paid_before_a_crash_and_never_retried_is_completed_by_the_timer(
    support: SupportApi,
) -> None:
    assert not support.runtime.self_service.auto_refund_late_deliveries  # the default: off
    order_id = await _late_order(support)
    real = support.runtime.payments
    support.runtime.payments = CrashAfterPaying(real)
    crashed = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert crashed.status_code == 503, crashed.text
    support.runtime.payments = real
    assert await refund_late_deliveries(support.runtime) == 0  # automatic mode is off
    assert await complete_decided_refunds(support.runtime) == 1
    assert await complete_decided_refunds(support.runtime) == 0  # nothing left to complete
    assert await _refunds(support, order_id) == (1, 1, 1)


@pytest.mark.parametrize(
    ("columns", "field"),
    [
        ({"promised_delivery_date": date(2026, 11, 20), "delivered_at": DELIVERED}, "order_id"),
        ({"promised_delivery_date": date(2026, 11, 25)}, "order_id"),  # not late yet
        ({"promised_delivery_date": date(2026, 11, 23)}, "order_id"),  # promised for today
        ({}, "order_id"),  # no promised date
    ],
    ids=["delivered", "before-promised-date", "on-promised-date", "no-promised-date"],
)
async def test_a_refund_that_is_not_due_is_refused_and_appends_nothing(
    support: SupportApi, columns: dict[str, Any], field: str
) -> None:
    order_id = await _order(support, **columns)
    answer = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert answer.status_code == 422, answer.text
    assert field in str(answer.json())
    assert await _refunds(support, order_id) == (0, 0, 0)
