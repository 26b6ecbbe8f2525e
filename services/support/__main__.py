"""Run the support service: ``python -m services.support api|relay|worker|mail``.

``api`` serves cases, problems, knowledge, surveys and self-service (with /healthz,
/readyz, /metrics); ``relay`` publishes the support store's events to
``crm.support.events``; ``worker`` learns customers and orders from sales, opens cases
for other systems' complaints, forgets erased customers and runs the timers (SLA
warnings and breaches, closing after the reopen period); ``mail`` is the inbound SMTP
listener. Separate processes, so any can die and restart without the others.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from functools import partial

import asyncpg

from contracts.catalogue import SUPPORT_CONTEXT
from contracts.topics import DEAD_LETTER, EXTERNAL, PRIVACY, SALES
from services.platform.consumer import run_consumers
from services.platform.kafka import ensure_topics
from services.platform.migrate import migrated_pool
from services.platform.relay_main import relay_main
from services.platform.runtime import health_routes, run_process, serve_asgi, serve_health
from services.platform.settings import Settings
from services.support.application.runtime import SupportRuntime
from services.support.application.timers import run_timers
from services.support.bootstrap import SupportConfig, bootstrap, load_config
from services.support.entrypoints.directory_consumer import directory_consumer
from services.support.entrypoints.http import create_app
from services.support.entrypoints.mail import MailListenerConfig, mail_main
from services.support.migrations import SUPPORT_SETS, support_schema

SCHEMA = support_schema()


async def _pool(settings: Settings, max_size: int) -> asyncpg.Pool:
    return await migrated_pool(settings.database_url, SCHEMA, SUPPORT_SETS, max_size)


async def api_main(host: str, port: int, config: SupportConfig, settings: Settings,
                   stop: asyncio.Event) -> None:  # fmt: skip
    pool = await _pool(settings, max_size=20)
    try:
        app = create_app(bootstrap(pool, config=config))

        async def database_ready() -> bool:
            return bool(await pool.fetchval("SELECT true"))

        app.router.routes.extend(health_routes({"database": database_ready}))
        await serve_asgi(app, port, stop, "support-api", host=host)
    finally:
        await pool.close()


async def worker_main(config: SupportConfig, settings: Settings, stop: asyncio.Event) -> None:
    pool = await _pool(settings, max_size=6)
    try:
        runtime = bootstrap(pool, config=config)

        async def ready() -> bool:
            return bool(await pool.fetchval("SELECT true"))

        health = asyncio.create_task(
            serve_health(settings.http_port, {"database": ready}, stop, "support-worker",
                         host=settings.http_host)
        )  # fmt: skip
        await ensure_topics(settings.kafka_bootstrap, [SALES, EXTERNAL, PRIVACY, DEAD_LETTER])
        consumer = directory_consumer(settings.kafka_bootstrap, runtime)
        await asyncio.gather(
            run_timers(runtime, stop),
            run_consumers(settings.kafka_bootstrap, [consumer], stop),
        )
        await health
    finally:
        await pool.close()


async def _mail_runtime(config: SupportConfig, settings: Settings) -> SupportRuntime:
    return bootstrap(await _pool(settings, max_size=4), config=config)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.support")
    sub = parser.add_subparsers(dest="part", required=True)
    api = sub.add_parser("api")
    api.add_argument("--host", default=os.environ.get("CRM_HTTP_HOST", "127.0.0.1"))
    api.add_argument("--port", type=int, default=int(os.environ.get("CRM_SUPPORT_PORT", "8103")))
    for part in ("relay", "worker", "mail"):
        sub.add_parser(part)
    args = parser.parse_args()
    if args.part == "api":
        config = load_config()  # the environment and the config files, read once
        run_process("support-api", partial(api_main, args.host, args.port, config))
    elif args.part == "worker":
        run_process("support-worker", partial(worker_main, load_config()))
    elif args.part == "mail":
        listener = MailListenerConfig(
            os.environ.get("CRM_SUPPORT_SMTP_HOST", "127.0.0.1"),
            int(os.environ.get("CRM_SUPPORT_SMTP_PORT", "2525")),
        )
        make_runtime = partial(_mail_runtime, load_config())
        run_process("support-mail", partial(mail_main, listener, make_runtime))
    else:
        run_process("support-relay", partial(relay_main, SCHEMA, SUPPORT_CONTEXT.topic))


if __name__ == "__main__":
    main()
