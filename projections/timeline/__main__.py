"""Run the timeline projector: ``python -m projections.timeline``."""

from __future__ import annotations

import asyncio
from functools import partial

from contracts.topics import DEAD_LETTER, EXTERNAL, SALES, SUPPORT
from projections.timeline.projector import GROUP, SCHEMA_SQL, project
from services.platform.consumer import INBOX_SQL, EventConsumer, run_consumers
from services.platform.db import apply_sql, create_pool
from services.platform.kafka import ensure_topics, make_producer
from services.platform.runtime import run_process, serve_health
from services.platform.settings import Settings

SCHEMA = "timeline"


async def main(settings: Settings, stop: asyncio.Event) -> None:
    pool = await create_pool(settings.database_url, SCHEMA, max_size=4)
    try:
        await apply_sql(pool, SCHEMA, [INBOX_SQL, SCHEMA_SQL])
        await ensure_topics(settings.kafka_bootstrap, [SALES, SUPPORT, EXTERNAL, DEAD_LETTER])
        consumer = EventConsumer(
            group=GROUP,
            topics=[SALES.name, SUPPORT.name, EXTERNAL.name],
            pool=pool,
            handler=project,
            producer_factory=partial(make_producer, settings.kafka_bootstrap),
            dead_letter_topic=DEAD_LETTER.name,
        )

        async def ready() -> bool:
            return consumer.ready.is_set()

        health = asyncio.create_task(
            serve_health(settings.http_port, {"consumer": ready}, stop, GROUP)
        )
        await run_consumers(settings.kafka_bootstrap, [consumer], stop)
        await health
    finally:
        await pool.close()


if __name__ == "__main__":
    run_process(GROUP, main)
