"""Run one store's outbox relay as its own process.

``python -m services.platform.relay_main --schema sales --topic crm.sales.events``
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
from functools import partial

from contracts.topics import TOPICS, TopicSpec
from services.platform import metrics
from services.platform.db import create_pool
from services.platform.kafka import ensure_topics, make_producer
from services.platform.logging import get_logger
from services.platform.migrate import EVENT_STORE, require_migrated
from services.platform.relay import OutboxRelay
from services.platform.runtime import run_process, serve_health
from services.platform.settings import Settings

EVENTSTORE_SQL = EVENT_STORE
"""The event store's migration set (the name predates migrations)."""
log = get_logger(__name__)


async def relay_main(schema: str, topic: str, settings: Settings, stop: asyncio.Event) -> None:
    pool = await create_pool(settings.database_url, schema, min_size=2, max_size=3)
    try:
        async with pool.acquire() as conn:
            await require_migrated(conn, schema, [EVENT_STORE])
        spec = next((t for t in TOPICS if t.name == topic), TopicSpec(topic, 3, "ad hoc"))
        await ensure_topics(settings.kafka_bootstrap, [spec])
        relay = OutboxRelay(
            pool,
            partial(make_producer, settings.kafka_bootstrap),
            topic,
            checkpoint_delay=float(os.environ.get("CRM_RELAY_CHECKPOINT_DELAY", "0")),
        )

        async def ready() -> bool:
            return relay.ready.is_set()

        health = asyncio.create_task(
            serve_health(
                settings.http_port,
                {"relay": ready},
                stop,
                f"relay:{schema}",
                host=settings.http_host,
            )
        )
        lag = asyncio.create_task(_report_lag(relay, stop))
        await relay.run(stop)
        await asyncio.gather(health, lag)
    finally:
        await pool.close()


async def _report_lag(relay: OutboxRelay, stop: asyncio.Event, every: float = 5.0) -> None:
    while not stop.is_set():
        try:
            metrics.RELAY_LAG.labels(relay.name).set(await relay.lag())
        except Exception as exc:  # a metric must never take the relay down
            log.debug("relay.lag_unavailable", error=repr(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schema", required=True, help="PostgreSQL schema of the event store")
    parser.add_argument("--topic", required=True, help="Kafka topic to publish to")
    args = parser.parse_args(argv)
    run_process(f"relay:{args.schema}", partial(relay_main, args.schema, args.topic))


if __name__ == "__main__":
    main()
