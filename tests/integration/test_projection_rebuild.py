"""Rebuilding a projection from offset 0 gives the live rows; the swap keeps readers served."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from contracts.envelope import CloudEvent
from contracts.events.sales import PurchaseMade
from contracts.money import Money
from services.platform.kafka import stop_consumer, topic_partitions
from services.platform.projection import ProjectionSpec, live_version, rebuild, replaying, run_live
from tests.kafka_helpers import publish, read_topic
from tests.projection_helpers import throwaway_timeline

pytestmark = pytest.mark.integration


def purchase(customer: str, n: int) -> CloudEvent:
    event = PurchaseMade(
        order_id=uuid.uuid4(),
        customer_id=customer,
        total=Money(amount=Decimal(n), currency="BRL"),
    )
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/test/sales",
        type=event.event_type,
        time=datetime.now(UTC),
        customerid=customer,
        streamid=f"order-{n}",
        streamversion=1,
        data=event.model_dump(mode="json"),
    )


@pytest.fixture
async def spec(infra, topic_factory) -> AsyncIterator[ProjectionSpec]:
    async with throwaway_timeline(infra.database_url, topic_factory) as throwaway:
        yield throwaway


async def wait_rows(conn: asyncpg.Connection, table: str, count: int, timeout: float = 45) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await conn.fetchval(f"SELECT to_regclass('{table}') IS NOT NULL") and (
            await conn.fetchval(f"SELECT count(*) FROM {table}") >= count
        ):
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{table} did not reach {count} rows")
        await asyncio.sleep(0.2)


async def wait_until(condition, what: str, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.05)


def _standing_by(task: asyncio.Task[None]) -> bool:
    """``task`` (a ``run_live``) is suspended in ``_sole_writer`` after being refused the
    writer lock: from there it cannot consume until the lock is free. Read off its frames,
    the runtime saying so only in an info log."""
    coro: object = task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None)
        if frame is not None and frame.f_code.co_name == "_sole_writer":
            return bool(frame.f_locals.get("standing_by"))
        coro = getattr(coro, "cr_await", None)
    return False


@pytest.mark.timeout(240)
async def test_rebuild_equals_live_and_the_swap_keeps_the_projection_live(infra, spec):
    name, [topic] = spec.name, spec.topics
    await publish(infra.kafka_bootstrap, topic, [purchase(f"c-{i % 7}", i) for i in range(60)])
    stop = asyncio.Event()
    live = asyncio.create_task(
        run_live(infra.kafka_bootstrap, infra.database_url, spec, stop, poll=0.5)
    )
    conn = await asyncpg.connect(infra.database_url)
    try:
        await wait_rows(conn, f"{name}.timeline_entries", 60)
        rebuilt = await rebuild(infra.kafka_bootstrap, infra.database_url, spec)
        assert rebuilt.number == 2
        assert (await live_version(conn, name)).number == 2
        # Exactly the live rows, rebuilt from offset 0 into a fresh schema.
        rows = "SELECT to_jsonb(t) - 'projected_at' AS r FROM {}.timeline_entries t ORDER BY 1"
        v1 = [r["r"] for r in await conn.fetch(rows.format(f"{name}_v1"))]
        v2 = [r["r"] for r in await conn.fetch(rows.format(f"{name}_v2"))]
        assert len(v1) == 60 and v1 == v2
        # Readers were switched to the new version, and the projector process followed
        # the swap: new events reach version 2 (the rebuild's own consumer has stopped).
        await publish(infra.kafka_bootstrap, topic, [purchase("c-new", 1000 + i) for i in range(5)])
        await wait_rows(conn, f"{name}_v2.timeline_entries", 65)
        assert await conn.fetchval(f"SELECT count(*) FROM {name}.timeline_entries") == 65
    finally:
        stop.set()
        await live
        await conn.close()


async def test_analysts_read_projections_and_nothing_else(infra, spec):
    name = spec.name
    from services.platform.projection import ensure_live

    await ensure_live(infra.database_url, spec)
    url = infra.database_url.replace("crm:crm@", "crm_analyst:analyst@")
    analyst = await asyncpg.connect(url)
    try:
        assert await analyst.fetchval(f"SELECT count(*) FROM {name}.timeline_entries") == 0
        assert await analyst.fetchval("SHOW default_transaction_read_only") == "on"
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await analyst.execute(f"DELETE FROM {name}.timeline_entries WHERE customer_id = 'x'")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await analyst.fetchval(f"SELECT count(*) FROM {name}_v1.inbox")
    finally:
        await analyst.close()


@pytest.mark.timeout(120)
async def test_rebuild_replays_in_batches_dead_letters_poison_and_applies_duplicates_once(
    infra, spec, monkeypatch
):
    """Two replaying processes; in this one, small batches and parse chunks, so the
    pipeline turns many times: a record that is not an event goes to the dead-letter
    topic, an event on the topic twice gives one row, and the group's committed offsets
    end at the topic's end."""
    monkeypatch.setattr(replaying, "REPLAY_BATCH", 7)
    monkeypatch.setattr(replaying, "REPLAY_PARSE_CHUNK", 3)
    name, [topic] = spec.name, spec.topics
    events = [purchase(f"c-{i % 3}", i) for i in range(40)]
    await publish(infra.kafka_bootstrap, topic, [*events[:20], b"{not json", events[4]])
    await publish(infra.kafka_bootstrap, topic, [*events[20:], events[33]])
    conn = await asyncpg.connect(infra.database_url)
    try:
        rebuilt = await rebuild(infra.kafka_bootstrap, infra.database_url, spec, workers=2)
        ids = await conn.fetch(f"SELECT event_id FROM {name}.timeline_entries")
        assert sorted(r["event_id"] for r in ids) == sorted(e.id for e in events)
        [dead] = await read_topic(
            infra.kafka_bootstrap, spec.dead_letter_topic, until=lambda records: records
        )
        assert dead.value == b"{not json"
        assert dict(dead.headers)["dlt.consumer.group"] == rebuilt.group.encode()
        reader = AIOKafkaConsumer(bootstrap_servers=infra.kafka_bootstrap, group_id=rebuilt.group)
        await reader.start()
        try:
            tps = await topic_partitions(reader, topic)
            ends = await reader.end_offsets(tps)
            assert sum(ends.values()) == 43
            # an empty partition has nothing to commit
            assert {tp: await reader.committed(tp) or 0 for tp in tps} == ends
        finally:
            await stop_consumer(reader)
    finally:
        await conn.close()


@pytest.mark.timeout(120)
async def test_a_second_projector_stands_by_and_takes_over(infra, spec):
    """Two processes for one projection: one writes, the other waits, then takes over."""
    name, [topic] = spec.name, spec.topics
    await publish(infra.kafka_bootstrap, topic, [purchase(f"c-{i % 3}", i) for i in range(10)])
    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    run = partial(run_live, infra.kafka_bootstrap, infra.database_url, spec, poll=0.3)
    first = asyncio.create_task(run(first_stop))
    conn = await asyncpg.connect(infra.database_url)
    admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
    await admin.start()
    second = None
    try:
        await wait_rows(conn, f"{name}.timeline_entries", 10)
        second = asyncio.create_task(run(second_stop))
        await wait_until(lambda: _standing_by(second), "the second projector to stand by")
        [described] = await admin.describe_consumer_groups([f"projection.{name}.v1"])
        [(_error, _group, state, _kind, _protocol, members, *_)] = described.groups
        assert (state, len(members)) == ("Stable", 1) and not second.done()
        first_stop.set()
        await first
        await publish(infra.kafka_bootstrap, topic, [purchase("c-late", 100 + i) for i in range(5)])
        await wait_rows(conn, f"{name}.timeline_entries", 15)  # the second one took over
        assert await conn.fetchval(f"SELECT count(*) FROM {name}.timeline_entries") == 15
    finally:
        first_stop.set()
        second_stop.set()
        await first
        if second is not None:
            await second
        await admin.close()
        await conn.close()
