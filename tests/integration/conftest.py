"""Fixtures shared by the integration tests of the sales service."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from services.platform.relay_main import EVENTSTORE_SQL
from services.sales.application.runtime import SalesRuntime
from services.sales.bootstrap import bootstrap
from services.sales.entrypoints.http import create_app
from services.sales.migrations import SALES_STATE as SALES_SQL


@pytest.fixture
async def sales(schema, pool_factory) -> AsyncIterator[tuple[httpx.AsyncClient, SalesRuntime]]:
    """The sales API in-process on a throwaway schema, and its runtime."""
    pool = await pool_factory(schema, EVENTSTORE_SQL, SALES_SQL)
    runtime = bootstrap(pool)
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://sales") as client:
        yield client, runtime
