"""Fixtures shared by the integration tests of the sales and support services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest

from services.platform.migrate import INBOX as INBOX_SQL
from services.platform.relay_main import EVENTSTORE_SQL
from services.sales.application.runtime import SalesRuntime
from services.sales.bootstrap import bootstrap
from services.sales.entrypoints.http import create_app
from services.sales.migrations import SALES_STATE as SALES_SQL
from services.support.application.runtime import SupportRuntime
from services.support.bootstrap import bootstrap as support_bootstrap
from services.support.entrypoints.http import create_app as create_support_app
from services.support.migrations import SUPPORT_STATE


@pytest.fixture
async def sales(schema, pool_factory) -> AsyncIterator[tuple[httpx.AsyncClient, SalesRuntime]]:
    """The sales API in-process on a throwaway schema, and its runtime."""
    pool = await pool_factory(schema, EVENTSTORE_SQL, SALES_SQL)
    runtime = bootstrap(pool)
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://sales") as client:
        yield client, runtime


class SupportClock:
    """The support runtime's clock in a test: set, advanced, never slept on."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@dataclass
class SupportApi:
    client: httpx.AsyncClient
    runtime: SupportRuntime
    clock: SupportClock

    async def know_customer(self, customer_id: str, tier: str = "standard") -> None:
        await self.runtime.pool.execute(
            "INSERT INTO known_customers (customer_id, tier, known_at) VALUES ($1, $2, now()) "
            "ON CONFLICT (customer_id) DO UPDATE SET tier = excluded.tier",
            customer_id, tier,
        )  # fmt: skip

    async def know_order(self, order_id: UUID, customer_id: str, **columns: Any) -> None:
        names = ["order_id", "customer_id", *columns]
        values = [order_id, customer_id, *columns.values()]
        marks = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        await self.runtime.pool.execute(
            f"INSERT INTO known_orders ({', '.join(names)}) VALUES ({marks})", *values
        )


# A Monday at 10:00 in São Paulo (13:00 UTC): inside the default business hours.
SUPPORT_START = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)


@pytest.fixture
async def support(schema, pool_factory) -> AsyncIterator[SupportApi]:
    """The support API in-process on a throwaway schema, with a clock the test moves."""
    pool = await pool_factory(schema, EVENTSTORE_SQL, SUPPORT_STATE, INBOX_SQL)
    clock = SupportClock(SUPPORT_START)
    runtime = support_bootstrap(pool, clock=clock)
    transport = httpx.ASGITransport(app=create_support_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://support") as client:
        yield SupportApi(client, runtime, clock)
