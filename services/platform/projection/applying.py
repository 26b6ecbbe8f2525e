"""The consumer runtime applying a projection's events to one version, live or replaying."""

from __future__ import annotations

import asyncio
from functools import partial

import asyncpg

from contracts.topics import TOPICS, TopicSpec
from services.platform.consumer import (
    EventConsumer,
    run_consumers,
)
from services.platform.db import create_pool
from services.platform.kafka import (
    ensure_topics,
    make_producer,
)
from services.platform.logging import get_logger
from services.platform.privacy.data_keys import data_keys_from_environment
from services.platform.projection.spec import ProjectionSpec, Version

log = get_logger(__name__)

LIVE_BATCH = 500
"""Records per poll when following the live stream: small batches, fresh rows."""
REPLAY_BATCH = 5000
"""Records per poll when replaying from offset 0: fewer, larger transactions."""


async def consume_live(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    version: Version,
    stop: asyncio.Event,
) -> None:
    pool = await create_pool(database_url, version.schema, max_size=4)
    try:
        consumer = make_applier(bootstrap, pool, spec, version, LIVE_BATCH)
        await run_consumers(bootstrap, [consumer], stop)
    finally:
        await pool.close()


def make_applier(
    bootstrap: str, pool: asyncpg.Pool, spec: ProjectionSpec, version: Version, batch_size: int
) -> EventConsumer:
    """The consumer runtime applying ``spec``'s events to ``version``: live or replaying."""
    return EventConsumer(
        group=version.group,
        topics=spec.topics,
        pool=pool,
        handler=spec.handler,
        batch_handler=spec.batch_handler,
        keys=data_keys_from_environment(pool),
        producer_factory=partial(make_producer, bootstrap),
        dead_letter_topic=spec.dead_letter_topic,
        batch_size=batch_size,
    )


async def ensure_projection_topics(bootstrap: str, spec: ProjectionSpec) -> None:
    """The topics ``spec`` reads and dead-letters to: the catalogue's, or ad hoc ones."""
    known = {t.name: t for t in TOPICS}
    await ensure_topics(
        bootstrap,
        [known.get(n, TopicSpec(n, 3, "ad hoc")) for n in (*spec.topics, spec.dead_letter_topic)],
    )
