"""The gateway in front of the real sales, privacy and support services, all listening on
real ports, for tests.

Each service gets its own schema; the gateway its own key ring, topic and settings.
Reads go to the shared reader schemas (``timeline``, ``customer360``) like in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx

from services.gateway.app import GatewayRuntime, GatewaySettings, create_app
from services.gateway.auth import KeyRing
from services.platform.db import apply_sql, create_pool
from services.platform.relay_main import EVENTSTORE_SQL
from services.platform.runtime import health_routes, serve_asgi
from services.privacy.bootstrap import bootstrap as privacy_bootstrap
from services.privacy.entrypoints.http import create_app as create_privacy_app
from services.privacy.migrations import PRIVACY_SETS
from services.sales.application.runtime import SalesRuntime
from services.sales.entrypoints.http import create_app as create_sales_app
from services.sales.migrations import SALES_STATE as SALES_SQL
from services.support.bootstrap import bootstrap as support_bootstrap
from services.support.entrypoints.http import create_app as create_support_app
from services.support.migrations import SUPPORT_SETS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    gateway_url: str
    sales_url: str
    keys: KeyRing
    runtime: GatewayRuntime
    sales: SalesRuntime
    support_url: str
    support_pool: Any
    """The support service's pool (its schema: seed known customers there)."""

    def token(self, role: str, subject: str = "user-1", team: str | None = None, **kw: Any) -> str:
        return self.keys.issue(subject, role, team=team, **kw)

    def headers(
        self, role: str, subject: str = "user-1", team: str | None = None
    ) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, subject, team)}"}

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.gateway_url, timeout=30)


@contextlib.asynccontextmanager
async def gateway_stack(
    database_url: str, kafka_bootstrap: str, schema: str, **settings: Any
) -> AsyncIterator[Stack]:
    sales_pool = await create_pool(database_url, schema, max_size=10)
    await apply_sql(sales_pool, schema, [EVENTSTORE_SQL, SALES_SQL])
    sales = SalesRuntime.create(sales_pool)
    sales_app = create_sales_app(sales)
    sales_app.router.routes.extend(health_routes({}))
    # The privacy context too, in a schema of its own: every catalogued context is served.
    privacy_schema = f"{schema}_privacy"
    privacy_pool = await create_pool(database_url, privacy_schema, max_size=4)
    await apply_sql(privacy_pool, privacy_schema, list(PRIVACY_SETS))
    privacy_app = create_privacy_app(privacy_bootstrap(privacy_pool))
    privacy_app.router.routes.extend(health_routes({}))
    support_schema = f"{schema}_support"
    support_pool = await create_pool(database_url, support_schema, max_size=10)
    await apply_sql(support_pool, support_schema, list(SUPPORT_SETS))
    support_app = create_support_app(support_bootstrap(support_pool))
    support_app.router.routes.extend(health_routes({}))
    keys = KeyRing({"test-1": "a-test-signing-key-of-enough-length-1234"}, "test-1")
    sales_port, gateway_port, privacy_port = free_port(), free_port(), free_port()
    support_port = free_port()
    sales_url = f"http://127.0.0.1:{sales_port}"
    privacy_url = f"http://127.0.0.1:{privacy_port}"
    support_url = f"http://127.0.0.1:{support_port}"
    upstreams = {"sales": sales_url, "privacy": privacy_url, "support": support_url}
    runtime = await GatewayRuntime.create(
        GatewaySettings(upstreams=upstreams, **settings),
        database_url,
        kafka_bootstrap,
        keys,
    )
    stop = asyncio.Event()
    servers = [
        asyncio.create_task(serve_asgi(sales_app, sales_port, stop, "sales-api")),
        asyncio.create_task(serve_asgi(privacy_app, privacy_port, stop, "privacy-api")),
        asyncio.create_task(serve_asgi(support_app, support_port, stop, "support-api")),
        asyncio.create_task(serve_asgi(create_app(runtime), gateway_port, stop, "gateway")),
    ]
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    try:
        await _wait_until_serving(
            [
                f"{sales_url}/healthz",
                f"{privacy_url}/healthz",
                f"{support_url}/healthz",
                f"{gateway_url}/openapi.json",
            ],
            servers,
            timeout=10,
        )
    except BaseException:
        runtime.stop.set()
        stop.set()
        await asyncio.gather(*servers, return_exceptions=True)
        await runtime.close()
        await _close(sales_pool, (privacy_pool, privacy_schema), (support_pool, support_schema))
        raise
    try:
        yield Stack(gateway_url, sales_url, keys, runtime, sales, support_url, support_pool)
    finally:
        runtime.stop.set()
        stop.set()
        await asyncio.gather(*servers, return_exceptions=True)
        await runtime.close()
        await _close(sales_pool, (privacy_pool, privacy_schema), (support_pool, support_schema))


async def _close(sales_pool: Any, *others: tuple[Any, str]) -> None:
    for pool, name in others:
        await pool.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await pool.close()
    await sales_pool.close()


async def _wait_until_serving(
    urls: list[str], servers: list[asyncio.Task[None]], timeout: float
) -> None:
    """Until every URL answers 200; a server that died or a deadline passed fails the test
    with what was waited for and what was last seen, instead of going on half started."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: dict[str, str] = dict.fromkeys(urls, "no answer yet")
    async with httpx.AsyncClient(timeout=2) as probe:
        while True:
            for url in [u for u, seen in last.items() if seen != "200"]:
                try:
                    last[url] = str((await probe.get(url)).status_code)
                except httpx.HTTPError as exc:
                    last[url] = repr(exc)
            if all(seen == "200" for seen in last.values()):
                return
            dead = [t for t in servers if t.done()]
            if dead or asyncio.get_running_loop().time() > deadline:
                why = "a server stopped" if dead else f"not serving within {timeout:g} s"
                errors = [repr(t.exception()) for t in dead if not t.cancelled()]
                raise RuntimeError(f"test stack {why}: waited for {last}; {errors}")
            await asyncio.sleep(0.05)
