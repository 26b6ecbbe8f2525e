"""Feeding projectors in tests: events as they come off a topic, checking a projection's
batch writer against its one-event handler, and a timeline projection of a test's own."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiokafka import ConsumerRecord

from contracts.envelope import CloudEvent, partition_key
from contracts.registry import DomainEvent
from projections.registry import timeline
from services.platform.consumer import ConsumedEvent, parse_record
from services.platform.projection import ProjectionSpec

_offsets = itertools.count()


def cloud_event(
    event: DomainEvent, at: datetime, source: str = "/crm/sales", **attributes: Any
) -> CloudEvent:
    """``event`` in its envelope, occurred ``at``, naming its customer; ``attributes`` are
    further CloudEvent attributes (``streamid``, ``correlationid`` …)."""
    return CloudEvent(
        id=str(uuid.uuid4()),
        source=source,
        type=event.event_type,
        time=at,
        customerid=event.customer(),
        data=event.model_dump(mode="json"),
        **attributes,
    )


def consumed(event: DomainEvent, at: datetime, topic: str = "crm.sales.events") -> ConsumedEvent:
    """``event`` as a projector gets it: read off ``topic`` and parsed like any record."""
    envelope = cloud_event(event, at)
    value = envelope.to_json_bytes()
    record: ConsumerRecord[Any, Any] = ConsumerRecord(
        topic, 0, next(_offsets), 0, 0, partition_key(envelope), value, None, 0, len(value),
        envelope.kafka_headers(),
    )  # fmt: skip
    return parse_record(record, {})  # plain data: no keys needed


@contextlib.asynccontextmanager
async def one_by_one_and_batched(
    pool_factory: Callable[..., Awaitable[asyncpg.Pool]],
    schema: str,
    sql: Path,
    project: Callable[[Any, ConsumedEvent], Awaitable[None]],
    project_batch: Callable[[Any, Sequence[ConsumedEvent]], Awaitable[None]],
    events: Sequence[ConsumedEvent],
    before: Sequence[ConsumedEvent] = (),
) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Two fresh schemas holding ``before`` (one transaction), then ``events`` (another):
    applied one at a time with ``project`` in the first, as one run with
    ``project_batch`` in the second. Yields their pools; the second schema is dropped
    afterwards."""
    one_by_one = await pool_factory(schema, sql)
    batched = await pool_factory(f"{schema}_b", sql)
    try:
        for pool in (one_by_one, batched):
            async with pool.acquire() as conn, conn.transaction():
                for event in before:
                    await project(conn, event)
        async with one_by_one.acquire() as conn, conn.transaction():
            for event in events:
                await project(conn, event)
        async with batched.acquire() as conn, conn.transaction():
            await project_batch(conn, events)
        yield one_by_one, batched
    finally:
        await batched.execute(f'DROP SCHEMA "{schema}_b" CASCADE')


@contextlib.asynccontextmanager
async def throwaway_timeline(
    database_url: str, topic_factory: Callable[..., Awaitable[str]]
) -> AsyncIterator[ProjectionSpec]:
    """A timeline of its own name, on a topic of its own; its schemas and catalogue rows
    are gone afterwards."""
    name = f"tl_{uuid.uuid4().hex[:8]}"
    topic, dlt = await topic_factory(), await topic_factory("dlt")
    yield dataclasses.replace(timeline(), name=name, topics=(topic,), dead_letter_topic=dlt)
    conn = await asyncpg.connect(database_url)
    try:
        versions = await conn.fetch(
            "SELECT schema_name FROM crm_projections.versions WHERE projection = $1", name
        )
        for schema in (name, *(row["schema_name"] for row in versions)):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.execute("DELETE FROM crm_projections.versions WHERE projection = $1", name)
    finally:
        await conn.close()
