"""Self-service on real PostgreSQL: exchanging a delivered item (a return label with a
postage code) and the late-delivery refund, exactly once per order whatever is repeated,
raced or crashed; refused requests get a 4xx naming the field and append nothing."""

from __future__ import annotations

import asyncio
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
from uuid import UUID, uuid4

import pytest

from contracts.envelope import CloudEvent
from contracts.events.sales import OrderDelivered, OrderLine, OrderPlaced
from contracts.money import Money
from services.platform.consumer import ConsumedEvent
from services.support.adapters.local_payments import LocalPayments
from services.support.application.refunds import ReportLateDelivery, refund_late_deliveries
from services.support.application.runner import run_command
from services.support.application.runtime import Actor
from services.support.domain.self_service_config import SelfServiceRules
from services.support.entrypoints import directory_consumer
from tests.integration.conftest import SupportApi

pytestmark = pytest.mark.integration

CUSTOMER_ID = "cust-ss"
CUSTOMER = {"x-actor-id": CUSTOMER_ID, "x-actor-role": "customer"}
AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
# config/self_service.json: a 30-day return window.
RETURN_WINDOW = timedelta(days=30)


async def _order(api: SupportApi, **columns: Any) -> UUID:
    order_id = uuid4()
    await api.know_customer(CUSTOMER_ID)
    await api.know_order(order_id, CUSTOMER_ID, products=["sku-fridge", "sku-shelf"],
                         total=Decimal("1899.90"), currency="BRL", **columns)  # fmt: skip
    return order_id


async def _event_types(api: SupportApi, prefix: str) -> list[str]:
    rows = await api.runtime.pool.fetch(
        "SELECT event_type FROM events WHERE stream_id LIKE $1 ORDER BY global_position",
        f"{prefix}%",
    )
    return [r["event_type"].rsplit(".", 1)[-1] for r in rows]


async def _count(api: SupportApi, table: str) -> int:
    return int(await api.runtime.pool.fetchval(f"SELECT count(*) FROM {table}"))


def _exchange(product_id: str = "sku-fridge") -> dict[str, Any]:
    return {"product_id": product_id, "quantity": 1, "reason": "A porta veio amassada."}


# -- exchanges ----------------------------------------------------------------------------


async def test_a_delivered_item_in_the_window_gets_a_return_label(support: SupportApi) -> None:
    order_id = await _order(support, delivered_at=support.clock.now - timedelta(days=5))
    response = await support.client.post(f"/orders/{order_id}/exchanges", json=_exchange(),
                                         headers=CUSTOMER)  # fmt: skip
    assert response.status_code == 201, response.text
    answer = response.json()
    # The local carrier's code: ten characters of Base32 (letters and digits 2-7).
    assert re.fullmatch(r"[A-Z2-7]{10}", answer["postage_code"]), answer
    assert await _event_types(support, "exchange-") == ["exchange_requested",
                                                        "return_label_issued"]  # fmt: skip
    listed = (await support.client.get(f"/orders/{order_id}/exchanges", headers=AGENT)).json()
    assert [(e["product_id"], e["postage_code"], e["requested_via"]) for e in listed["items"]] == [
        ("sku-fridge", answer["postage_code"], "self_service")
    ]


async def test_the_last_day_of_the_window_is_still_inside(support: SupportApi) -> None:
    order_id = await _order(support, delivered_at=support.clock.now - RETURN_WINDOW)
    response = await support.client.post(f"/orders/{order_id}/exchanges", json=_exchange(),
                                         headers=CUSTOMER)  # fmt: skip
    assert response.status_code == 201, response.text


REFUSED_EXCHANGES = {
    "not delivered": ({}, "sku-fridge", 422, "order_id"),
    "outside the window": ({"delivered_days_ago": 31}, "sku-fridge", 422, "order_id"),
    "already returned": ({"delivered_days_ago": 5, "returned": True}, "sku-fridge", 422,
                         "order_id"),
    "item not in the order": ({"delivered_days_ago": 5}, "sku-tv", 422, "product_id"),
    "unknown order": ({"unknown": True}, "sku-fridge", 404, "order_id"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(REFUSED_EXCHANGES), ids=list(REFUSED_EXCHANGES))
async def test_an_ineligible_exchange_is_refused_naming_the_field(
    support: SupportApi, case: str
) -> None:
    facts, product_id, status, field = REFUSED_EXCHANGES[case]
    now = support.clock.now
    columns: dict[str, Any] = {}
    if "delivered_days_ago" in facts:
        columns["delivered_at"] = now - timedelta(days=facts["delivered_days_ago"])
    if facts.get("returned"):
        columns["returned_at"] = now - timedelta(days=1)
    order_id = uuid4() if facts.get("unknown") else await _order(support, **columns)
    response = await support.client.post(f"/orders/{order_id}/exchanges",
                                         json=_exchange(product_id), headers=AGENT)  # fmt: skip
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]
    assert await _event_types(support, "exchange-") == []
    assert await _count(support, "exchanges") == 0


async def test_a_second_exchange_of_the_same_line_is_refused(support: SupportApi) -> None:
    order_id = await _order(support, delivered_at=support.clock.now - timedelta(days=2))
    first = await support.client.post(f"/orders/{order_id}/exchanges", json=_exchange(),
                                      headers=CUSTOMER)  # fmt: skip
    assert first.status_code == 201, first.text
    again = await support.client.post(f"/orders/{order_id}/exchanges", json=_exchange(),
                                      headers=CUSTOMER)  # fmt: skip
    assert again.status_code == 409, again.text
    assert [e["field"] for e in again.json()["errors"]] == ["product_id"]
    assert await _count(support, "exchanges") == 1


async def test_a_customer_may_not_touch_another_customers_order(support: SupportApi) -> None:
    order_id = await _order(support, delivered_at=support.clock.now - timedelta(days=2),
                            promised_delivery_date=date(2026, 11, 1))  # fmt: skip
    stranger = {"x-actor-id": "cust-other", "x-actor-role": "customer"}
    for path, body in (("exchanges", _exchange()), ("late-delivery", None)):
        response = await support.client.post(f"/orders/{order_id}/{path}", json=body,
                                             headers=stranger)  # fmt: skip
        assert response.status_code == 403, (path, response.text)
    listed = await support.client.get(f"/orders/{order_id}/exchanges", headers=stranger)
    assert listed.status_code == 403
    assert await _event_types(support, "") == []


# -- late-delivery refunds -------------------------------------------------------------------


def _late(api: SupportApi, days: int = 3) -> dict[str, Any]:
    return {"promised_delivery_date": api.clock.now.date() - timedelta(days=days)}


async def _payments(api: SupportApi) -> list[str]:
    rows = await api.runtime.pool.fetch("SELECT reference FROM local_payment_refunds")
    return [r["reference"] for r in rows]


async def test_a_late_order_reported_by_the_customer_is_refunded(support: SupportApi) -> None:
    order_id = await _order(support, **_late(support))
    response = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["amount"] == {"amount": "1899.90", "currency": "BRL"}
    assert await _event_types(support, "refund-") == ["refund_issued"]
    assert await _payments(support) == [answer["payment_reference"]]


async def test_the_same_report_repeated_refunds_once(support: SupportApi) -> None:
    order_id = await _order(support, **_late(support))
    answers = [
        (await support.client.post(f"/orders/{order_id}/late-delivery", headers=who)).json()
        for who in (CUSTOMER, CUSTOMER, AGENT)
    ]
    assert len({(a["refund_id"], a["payment_reference"]) for a in answers}) == 1
    # Concurrent repeats too: the order's row lock puts them one after the other.
    racing = await asyncio.gather(*[
        support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
        for _ in range(5)
    ])  # fmt: skip
    assert {r.json()["payment_reference"] for r in racing} == {answers[0]["payment_reference"]}
    assert await _event_types(support, "refund-") == ["refund_issued"]
    assert len(await _payments(support)) == 1


REFUSED_REFUNDS = {
    "delivered": "delivered",
    "before the promised date passed": "not-late",
    "on the promised day itself": "not-late",
    "no promised date": "no-promised-date",
}


@pytest.mark.parametrize("case", list(REFUSED_REFUNDS), ids=list(REFUSED_REFUNDS))
async def test_a_refund_that_is_not_due_is_refused(support: SupportApi, case: str) -> None:
    today = support.clock.now.date()
    columns: dict[str, Any] = {
        "delivered": {**_late(support), "delivered_at": support.clock.now - timedelta(days=1)},
        "before the promised date passed": {"promised_delivery_date": today + timedelta(days=2)},
        "on the promised day itself": {"promised_delivery_date": today},
        "no promised date": {},
    }[case]
    order_id = await _order(support, **columns)
    response = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert response.status_code == 422, response.text
    assert [(e["field"], e["type"]) for e in response.json()["errors"]] == [
        ("order_id", REFUSED_REFUNDS[case])
    ]
    assert await _event_types(support, "") == []
    assert (await _count(support, "refunds"), await _payments(support)) == (0, [])


async def test_a_refund_for_an_unknown_order_is_404(support: SupportApi) -> None:
    response = await support.client.post(f"/orders/{uuid4()}/late-delivery", headers=AGENT)
    assert response.status_code == 404, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["order_id"]
    assert await _payments(support) == []


def _automatic(api: SupportApi) -> None:
    api.runtime.self_service = SelfServiceRules(auto_refund_late_deliveries=True,
                                                late_delivery_grace_days=2)  # fmt: skip


async def test_the_timer_refunds_after_the_grace_period_when_automatic(
    support: SupportApi,
) -> None:
    order_id = await _order(support, **_late(support, days=2))
    assert await refund_late_deliveries(support.runtime) == 0  # off by default
    _automatic(support)
    assert await refund_late_deliveries(support.runtime) == 0  # within the 2-day grace
    support.clock.advance(days=1)
    assert await refund_late_deliveries(support.runtime) == 1
    assert await refund_late_deliveries(support.runtime) == 0
    assert await _event_types(support, f"refund-{order_id}") == ["refund_issued"]
    assert len(await _payments(support)) == 1


async def test_a_report_racing_the_timer_refunds_once(support: SupportApi) -> None:
    _automatic(support)
    orders = [await _order(support, **_late(support, days=5)) for _ in range(5)]
    reports = [support.client.post(f"/orders/{o}/late-delivery", headers=CUSTOMER)
               for o in orders]  # fmt: skip
    results = await asyncio.gather(refund_late_deliveries(support.runtime),
                                   refund_late_deliveries(support.runtime), *reports)  # fmt: skip
    assert all(r.status_code == 200 for r in results[2:]), [r.text for r in results[2:]]
    assert await _event_types(support, "refund-") == ["refund_issued"] * len(orders)
    assert len(await _payments(support)) == len(orders)
    assert await _count(support, "refunds") == len(orders)


class SimulatedCrash(Exception):
    """The process dies after the provider refunded and before the commit."""


class CrashAfterRefund:
    """The real local provider, and then a crash inside the caller's transaction."""

    def __init__(self, payments: LocalPayments) -> None:
        self.name = payments.name
        self._payments = payments

    async def refund(self, order_id: UUID, amount: Decimal, currency: str,
                     idempotency_key: str) -> str:  # fmt: skip
        await self._payments.refund(order_id, amount, currency, idempotency_key)
        raise SimulatedCrash


async def test_a_crash_after_the_provider_paid_is_retried_without_paying_twice(
    support: SupportApi,
) -> None:
    order_id = await _order(support, **_late(support))
    local = LocalPayments(support.runtime.pool)
    support.runtime.payments = CrashAfterRefund(local)
    report = ReportLateDelivery(order_id, Actor(CUSTOMER_ID, "customer"))
    with pytest.raises(SimulatedCrash):
        await run_command(support.runtime, report)
    # The provider paid; our transaction rolled back: no event, no ledger row.
    paid = await _payments(support)
    assert len(paid) == 1
    assert (await _event_types(support, ""), await _count(support, "refunds")) == ([], 0)

    support.runtime.payments = local  # the process restarted
    response = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert response.status_code == 200, response.text
    assert response.json()["payment_reference"] == paid[0]
    assert await _payments(support) == paid
    assert await _event_types(support, "refund-") == ["refund_issued"]


async def test_a_delivery_learnt_after_the_refund_leaves_the_one_refund(
    support: SupportApi,
) -> None:
    order_id = await _order(support, **_late(support))
    first = (await support.client.post(f"/orders/{order_id}/late-delivery",
                                       headers=CUSTOMER)).json()  # fmt: skip
    await support.runtime.pool.execute(
        "UPDATE known_orders SET delivered_at = $2 WHERE order_id = $1",
        order_id, support.clock.now,
    )  # fmt: skip
    again = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert again.status_code == 200, again.text
    assert again.json()["refund_id"] == first["refund_id"]
    assert await _event_types(support, "refund-") == ["refund_issued"]


# -- the order's facts replayed into the directory consumer ----------------------------------


def _consumed(event: Any, at: datetime) -> ConsumedEvent:
    envelope = CloudEvent(
        id=str(uuid4()), source="/crm/sales", type=event.event_type, time=at, data={}
    )
    return ConsumedEvent(envelope=envelope, event=event, record=cast(Any, None))


async def _apply(api: SupportApi, event: Any, at: datetime) -> None:
    async with api.runtime.pool.acquire() as conn, conn.transaction():
        await directory_consumer.apply(api.runtime, conn, _consumed(event, at))


def _placed(order_id: UUID, promised: date) -> OrderPlaced:
    line = OrderLine(product_id="sku-fridge", quantity=Decimal(1),
                     line_total=Money(amount=Decimal("1899.90"), currency="BRL"))  # fmt: skip
    return OrderPlaced(order_id=order_id, customer_id=CUSTOMER_ID, lines=[line],
                       total=line.line_total, promised_delivery_date=promised)  # fmt: skip


async def test_replayed_order_events_neither_refund_twice_nor_move_dates(
    support: SupportApi,
) -> None:
    _automatic(support)
    now, order_id = support.clock.now, uuid4()
    placed = _placed(order_id, now.date() - timedelta(days=5))
    await _apply(support, placed, now - timedelta(days=10))
    assert await refund_late_deliveries(support.runtime) == 1
    # The same facts again (a replay under new envelope ids), and a late delivery, twice.
    delivered = OrderDelivered(order_id=order_id, customer_id=CUSTOMER_ID)
    for at in (now, now + timedelta(hours=1)):
        await _apply(support, placed, now - timedelta(days=10))
        await _apply(support, delivered, at)
    assert await refund_late_deliveries(support.runtime) == 0
    report = await support.client.post(f"/orders/{order_id}/late-delivery", headers=CUSTOMER)
    assert report.status_code == 200, report.text
    assert await _event_types(support, "refund-") == ["refund_issued"]
    assert len(await _payments(support)) == 1
    # The first delivery counts: a redelivered one does not move the date.
    delivered_at = await support.runtime.pool.fetchval(
        "SELECT delivered_at FROM known_orders WHERE order_id = $1", order_id
    )
    assert delivered_at == now


async def test_a_replayed_delivery_does_not_reopen_the_return_window(
    support: SupportApi,
) -> None:
    now, order_id = support.clock.now, uuid4()
    await _apply(support, _placed(order_id, now.date() - timedelta(days=45)),
                 now - timedelta(days=50))  # fmt: skip
    delivered = OrderDelivered(order_id=order_id, customer_id=CUSTOMER_ID)
    await _apply(support, delivered, now - timedelta(days=40))
    await _apply(support, delivered, now)  # redelivered today
    response = await support.client.post(f"/orders/{order_id}/exchanges", json=_exchange(),
                                         headers=CUSTOMER)  # fmt: skip
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["type"] == "return-window-over"


BAD_BODIES = {
    "quantity": {**_exchange(), "quantity": 0},
    "reason": {**_exchange(), "reason": "   "},
    "product_id": {"quantity": 1, "reason": "Quebrou."},
}


@pytest.mark.parametrize("field", list(BAD_BODIES))
async def test_a_malformed_exchange_request_names_the_field(
    support: SupportApi, field: str
) -> None:
    order_id = await _order(support, delivered_at=support.clock.now - timedelta(days=1))
    response = await support.client.post(f"/orders/{order_id}/exchanges",
                                         json=BAD_BODIES[field], headers=CUSTOMER)  # fmt: skip
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]
    assert await _event_types(support, "") == []
