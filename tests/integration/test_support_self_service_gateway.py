"""Self-service through the gateway: a customer's token (its subject is the customer id)
reaches the customer's own orders only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import uuid4

import httpx
import pytest

from tests.gateway_stack import Stack, gateway_stack

pytestmark = pytest.mark.integration


@pytest.fixture
async def stack(infra, schema, topic_factory) -> AsyncIterator[Stack]:  # type: ignore[no-untyped-def]
    topic = await topic_factory("external")
    async with gateway_stack(
        infra.database_url, infra.kafka_bootstrap, schema, events_topic=topic
    ) as running:
        yield running


async def test_a_customer_exchanges_and_reports_only_their_own_orders(stack: Stack) -> None:
    own, late = uuid4(), uuid4()
    await stack.support_pool.execute(
        "INSERT INTO known_customers (customer_id, known_at) VALUES ('cust-a', now()), "
        "('cust-b', now())"
    )
    await stack.support_pool.execute(
        "INSERT INTO known_orders (order_id, customer_id, products, total, currency, "
        "delivered_at, promised_delivery_date) VALUES "
        "($1, 'cust-a', ARRAY['sku-1'], 100, 'BRL', now() - interval '2 days', NULL), "
        "($2, 'cust-a', ARRAY['sku-1'], 100, 'BRL', NULL, current_date - 5)",
        own, late,
    )  # fmt: skip
    owner, stranger = stack.headers("customer", "cust-a"), stack.headers("customer", "cust-b")
    body = {"product_id": "sku-1", "reason": "Veio quebrado."}
    base = "/v1/support/orders"
    async with stack.client() as http:

        async def attempt(headers: dict[str, str]) -> list[httpx.Response]:
            exchange = await http.post(f"{base}/{own}/exchanges", json=body, headers=headers)
            refund = await http.post(f"{base}/{late}/late-delivery", headers=headers)
            listed = await http.get(f"{base}/{own}/exchanges", headers=headers)
            return [exchange, refund, listed]

        refused = await attempt(stranger)
        assert [r.status_code for r in refused] == [403, 403, 403]
        assert await stack.support_pool.fetchval("SELECT count(*) FROM events") == 0
        exchange, refund, listed = await attempt(owner)
    assert exchange.status_code == 201, exchange.text
    assert refund.status_code == 200, refund.text
    assert [e["product_id"] for e in listed.json()["items"]] == ["sku-1"]
