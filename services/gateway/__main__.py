"""Run the gateway: ``python -m services.gateway`` (port ``CRM_GATEWAY_PORT``, 8100)."""

from __future__ import annotations

import asyncio
import os

from services.gateway.app import GatewayRuntime, GatewaySettings, create_app
from services.gateway.plugged import plug_all
from services.platform.runtime import ReadinessCheck, health_routes, run_process, serve_asgi
from services.platform.settings import Settings


async def gateway_main(settings: Settings, stop: asyncio.Event) -> None:
    gateway_settings = GatewaySettings()
    runtime = await GatewayRuntime.create(
        gateway_settings, settings.database_url, settings.kafka_bootstrap
    )
    try:
        contexts = plug_all()
        app = create_app(runtime, contexts=contexts)

        async def database_ready() -> bool:
            return bool(await runtime.pool.fetchval("SELECT true"))

        def context_ready(base_url: str) -> ReadinessCheck:
            async def ready() -> bool:
                async with runtime.http.get(f"{base_url}/healthz") as answer:
                    return answer.status == 200

            return ready

        async def read_models_ready() -> bool:
            # Reads need the projections' reader views: not ready before their first build.
            return bool(
                await runtime.pool.fetchval(
                    "SELECT to_regclass('timeline.timeline_entries') IS NOT NULL "
                    "AND to_regclass('customer360.customer_profiles') IS NOT NULL"
                )
            )

        checks: dict[str, ReadinessCheck] = {
            "database": database_ready, "read_models": read_models_ready,
            **{entry.context.name: context_ready(entry.base_url(
                gateway_settings.upstreams, os.environ)) for entry in contexts},
        }  # fmt: skip
        app.router.routes.extend(health_routes(checks))
        port = int(os.environ.get("CRM_GATEWAY_PORT", "8100"))
        host = os.environ.get("CRM_GATEWAY_HOST", settings.http_host)
        await serve_asgi(app, port, stop, "gateway", host=host)
    finally:
        await runtime.close()


def main() -> None:
    run_process("gateway", gateway_main)


if __name__ == "__main__":
    main()
