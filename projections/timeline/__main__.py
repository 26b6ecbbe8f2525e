"""Run the timeline projector: ``python -m projections.timeline``.

Options exist so benchmarks and tests can run it on their own schema and topics;
``make run`` uses the defaults (schema ``timeline``, the catalogue's topics).
"""

from __future__ import annotations

import argparse
import asyncio
from functools import partial

from contracts.topics import DEAD_LETTER, EXTERNAL, SALES, SUPPORT, TOPICS, TopicSpec
from projections.timeline.projector import GROUP, SCHEMA_SQL, project
from services.platform.consumer import INBOX_SQL, EventConsumer, run_consumers
from services.platform.db import apply_sql, create_pool
from services.platform.kafka import ensure_topics, make_producer
from services.platform.runtime import run_process, serve_health
from services.platform.settings import Settings


async def main(args: argparse.Namespace, settings: Settings, stop: asyncio.Event) -> None:
    pool = await create_pool(settings.database_url, args.schema, max_size=4)
    try:
        await apply_sql(pool, args.schema, [INBOX_SQL, SCHEMA_SQL])
        known = {t.name: t for t in TOPICS}
        await ensure_topics(
            settings.kafka_bootstrap,
            [known.get(name, TopicSpec(name, 3, "ad hoc")) for name in [*args.topic, args.dlt]],
        )
        consumer = EventConsumer(
            group=args.group,
            topics=args.topic,
            pool=pool,
            handler=project,
            producer_factory=partial(make_producer, settings.kafka_bootstrap),
            dead_letter_topic=args.dlt,
        )

        async def ready() -> bool:
            return consumer.ready.is_set()

        health = asyncio.create_task(
            serve_health(
                settings.http_port, {"consumer": ready}, stop, args.group, host=settings.http_host
            )
        )
        await run_consumers(settings.kafka_bootstrap, [consumer], stop)
        await health
    finally:
        await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m projections.timeline")
    parser.add_argument("--schema", default="timeline")
    parser.add_argument("--group", default=GROUP)
    parser.add_argument("--topic", action="append", help="repeatable; default: every context")
    parser.add_argument("--dlt", default=DEAD_LETTER.name)
    arguments = parser.parse_args()
    arguments.topic = arguments.topic or [SALES.name, SUPPORT.name, EXTERNAL.name]
    run_process(arguments.group, partial(main, arguments))
