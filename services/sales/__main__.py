"""Run the sales service: ``python -m services.sales api|relay|scheduler``.

``api`` serves the command API (with /healthz, /readyz, /metrics); ``relay`` publishes
the sales store's events to ``crm.sales.events``; ``scheduler`` emits follow-up
reminders when they fall due and forgets erased subjects' identity keys (a consumer of
``crm.privacy.events``). They are separate processes so any can die and restart
without the others.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from functools import partial

import asyncpg

from contracts.topics import DEAD_LETTER, PRIVACY, SALES
from services.platform.consumer import run_consumers
from services.platform.kafka import ensure_topics
from services.platform.migrate import migrated_pool
from services.platform.relay_main import relay_main
from services.platform.runtime import health_routes, run_process, serve_asgi, serve_health
from services.platform.settings import Settings
from services.sales.application.scheduler import run_scheduler
from services.sales.bootstrap import SalesConfig, bootstrap, load_config
from services.sales.entrypoints.erasure import erasure_consumer
from services.sales.entrypoints.http import create_app
from services.sales.migrations import SALES_SETS, sales_schema

SCHEMA = sales_schema()


async def _pool(settings: Settings, max_size: int) -> asyncpg.Pool:
    return await migrated_pool(settings.database_url, SCHEMA, SALES_SETS, max_size)


async def api_main(
    host: str, port: int, config: SalesConfig, settings: Settings, stop: asyncio.Event
) -> None:
    pool = await _pool(settings, max_size=20)
    try:
        app = create_app(bootstrap(pool, config=config))

        async def database_ready() -> bool:
            return bool(await pool.fetchval("SELECT true"))

        app.router.routes.extend(health_routes({"database": database_ready}))
        await serve_asgi(app, port, stop, "sales-api", host=host)
    finally:
        await pool.close()


async def scheduler_main(config: SalesConfig, settings: Settings, stop: asyncio.Event) -> None:
    pool = await _pool(settings, max_size=4)
    try:
        runtime = bootstrap(pool, config=config)

        async def ready() -> bool:
            return bool(await pool.fetchval("SELECT true"))

        health = asyncio.create_task(
            serve_health(settings.http_port, {"database": ready}, stop, "sales-scheduler",
                         host=settings.http_host)
        )  # fmt: skip
        await ensure_topics(settings.kafka_bootstrap, [PRIVACY, DEAD_LETTER])
        consumer = erasure_consumer(settings.kafka_bootstrap, pool)
        await asyncio.gather(
            run_scheduler(pool, runtime.store, stop),
            run_consumers(settings.kafka_bootstrap, [consumer], stop),
        )
        await health
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.sales")
    sub = parser.add_subparsers(dest="part", required=True)
    api = sub.add_parser("api")
    # Defaults from the environment: the catalogue's port setting, the image's host.
    api.add_argument("--host", default=os.environ.get("CRM_HTTP_HOST", "127.0.0.1"))
    api.add_argument("--port", type=int, default=int(os.environ.get("CRM_SALES_PORT", "8101")))
    sub.add_parser("relay")
    sub.add_parser("scheduler")
    args = parser.parse_args()
    config = load_config()  # the environment and the config files, read once
    if args.part == "api":
        run_process("sales-api", partial(api_main, args.host, args.port, config))
    elif args.part == "scheduler":
        run_process("sales-scheduler", partial(scheduler_main, config))
    else:
        run_process("sales-relay", partial(relay_main, SCHEMA, SALES.name))


if __name__ == "__main__":
    main()
