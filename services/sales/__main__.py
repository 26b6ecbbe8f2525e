"""Run the sales service: ``python -m services.sales api|relay``.

``api`` serves the command API (with /healthz, /readyz, /metrics); ``relay`` publishes
the sales store's events to ``crm.sales.events``. They are separate processes so either
can die and restart without the other.
"""

from __future__ import annotations

import argparse
import asyncio
from functools import partial

from contracts.topics import SALES
from services.platform.commands import CommandHandler
from services.platform.db import apply_sql, create_pool
from services.platform.eventstore import EventStore
from services.platform.relay_main import EVENTSTORE_SQL, relay_main
from services.platform.runtime import health_routes, run_process, serve_asgi
from services.platform.settings import Settings
from services.sales.entrypoints.http import create_app

SCHEMA = "sales"
SOURCE = "/crm/sales"


async def api_main(host: str, port: int, settings: Settings, stop: asyncio.Event) -> None:
    pool = await create_pool(settings.database_url, SCHEMA, max_size=20)
    try:
        await apply_sql(pool, SCHEMA, [EVENTSTORE_SQL])
        app = create_app()
        app.state.commands = CommandHandler(EventStore(pool, SOURCE), pool)

        async def database_ready() -> bool:
            return bool(await pool.fetchval("SELECT true"))

        app.router.routes.extend(health_routes({"database": database_ready}))
        await serve_asgi(app, port, stop, "sales-api", host=host)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.sales")
    sub = parser.add_subparsers(dest="part", required=True)
    api = sub.add_parser("api")
    api.add_argument("--host", default="127.0.0.1")
    api.add_argument("--port", type=int, default=8101)
    sub.add_parser("relay")
    args = parser.parse_args()
    if args.part == "api":
        run_process("sales-api", partial(api_main, args.host, args.port))
    else:
        run_process("sales-relay", partial(relay_main, SCHEMA, SALES.name))


if __name__ == "__main__":
    main()
