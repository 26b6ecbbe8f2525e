"""Run the privacy service: ``python -m services.privacy api|relay``.

``api`` serves erasures, holds, exports and the audit trail (with /healthz, /readyz,
/metrics); ``relay`` publishes the privacy store's events (``PersonalDataErased``) to
``crm.privacy.events``, where every read model learns to forget a subject.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from functools import partial

from contracts.catalogue import PRIVACY_CONTEXT
from services.platform.migrate import migrated_pool
from services.platform.relay_main import relay_main
from services.platform.runtime import health_routes, run_process, serve_asgi
from services.platform.settings import Settings
from services.privacy.bootstrap import bootstrap
from services.privacy.entrypoints.http import create_app
from services.privacy.migrations import PRIVACY_SETS, privacy_schema

SCHEMA = privacy_schema()


async def api_main(host: str, port: int, settings: Settings, stop: asyncio.Event) -> None:
    pool = await migrated_pool(settings.database_url, SCHEMA, PRIVACY_SETS, max_size=10)
    try:
        app = create_app(bootstrap(pool))

        async def database_ready() -> bool:
            return bool(await pool.fetchval("SELECT true"))

        app.router.routes.extend(health_routes({"database": database_ready}))
        await serve_asgi(app, port, stop, "privacy-api", host=host)
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.privacy")
    sub = parser.add_subparsers(dest="part", required=True)
    api = sub.add_parser("api")
    api.add_argument("--host", default=os.environ.get("CRM_HTTP_HOST", "127.0.0.1"))
    api.add_argument("--port", type=int, default=int(os.environ.get("CRM_PRIVACY_PORT", "8102")))
    sub.add_parser("relay")
    args = parser.parse_args()
    if args.part == "api":
        run_process("privacy-api", partial(api_main, args.host, args.port))
    else:
        run_process("privacy-relay", partial(relay_main, SCHEMA, PRIVACY_CONTEXT.topic))


if __name__ == "__main__":
    main()
