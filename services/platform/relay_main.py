"""Run one store's outbox relay as its own process.

``python -m services.platform.relay_main --schema sales --topic crm.sales.events``
"""

from __future__ import annotations

import argparse
import asyncio
import os
from functools import partial
from pathlib import Path

from contracts.topics import TOPICS, TopicSpec
from services.platform.db import apply_sql, create_pool
from services.platform.kafka import ensure_topics, make_producer
from services.platform.relay import OutboxRelay
from services.platform.runtime import run_process, serve_health
from services.platform.settings import Settings

EVENTSTORE_SQL = Path(__file__).with_name("eventstore.sql")


async def relay_main(schema: str, topic: str, settings: Settings, stop: asyncio.Event) -> None:
    pool = await create_pool(settings.database_url, schema, min_size=2, max_size=3)
    try:
        await apply_sql(pool, schema, [EVENTSTORE_SQL])
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
            serve_health(settings.http_port, {"relay": ready}, stop, f"relay:{schema}")
        )
        await relay.run(stop)
        await health
    finally:
        await pool.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schema", required=True, help="PostgreSQL schema of the event store")
    parser.add_argument("--topic", required=True, help="Kafka topic to publish to")
    args = parser.parse_args(argv)
    run_process(f"relay:{args.schema}", partial(relay_main, args.schema, args.topic))


if __name__ == "__main__":
    main()
