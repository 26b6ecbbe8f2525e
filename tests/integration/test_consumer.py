"""The consumer runtime against real Kafka and PostgreSQL: once, in order, poison isolated."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from contracts.envelope import CloudEvent
from contracts.events.sales import PurchaseMade
from contracts.money import Money
from services.platform.consumer import INBOX_SQL, ConsumedEvent, EventConsumer, run_consumers
from services.platform.db import Connection
from services.platform.kafka import make_producer
from services.platform.privacy.data_keys import data_keys_from_environment
from tests.kafka_helpers import publish, read_topic

pytestmark = pytest.mark.integration

SIDE_EFFECT_SQL = Path(__file__).with_name("side_effect.sql")


def purchase_event(customer: str, amount: str = "10.00") -> CloudEvent:
    event = PurchaseMade(
        order_id=uuid.uuid4(),
        customer_id=customer,
        total=Money(amount=Decimal(amount), currency="BRL"),
        channel="web",
    )
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/test/shop",
        type=event.event_type,
        time=datetime.now(UTC),
        customerid=customer,
        data=event.model_dump(mode="json"),
    )


async def add_to_total(conn: Connection, consumed: ConsumedEvent) -> None:
    """A deliberately non-idempotent side effect: applying twice would double the total."""
    assert isinstance(consumed.event, PurchaseMade)
    await conn.execute(
        "INSERT INTO totals (customer_id, total, purchases) VALUES ($1, $2, 1) "
        "ON CONFLICT (customer_id) DO UPDATE SET total = totals.total + excluded.total, "
        "purchases = totals.purchases + 1",
        consumed.event.customer_id,
        consumed.event.total.amount,
    )


async def run_until(consumer: EventConsumer, bootstrap: str, condition, timeout: float = 30):
    stop = asyncio.Event()
    task = asyncio.create_task(run_consumers(bootstrap, [consumer], stop))
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while not await condition():
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError("consumer did not reach the expected state")
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task


async def acknowledged(bootstrap: str, group: str, topic: str) -> int:
    """Records of ``topic`` that ``group`` has acknowledged: the sum of its committed offsets."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset > 0)


def make_consumer(infra, pool, topic, dlt, handler, group="test-group") -> EventConsumer:
    return EventConsumer(
        group=group,
        topics=[topic],
        pool=pool,
        keys=data_keys_from_environment(pool),
        handler=handler,
        producer_factory=partial(make_producer, infra.kafka_bootstrap),
        dead_letter_topic=dlt,
        max_attempts=3,
        retry_backoff=0.01,
    )


async def test_side_effect_applied_twice_equals_once(infra, schema, pool_factory, topic_factory):
    pool = await pool_factory(schema, INBOX_SQL, SIDE_EFFECT_SQL)
    topic, dlt = await topic_factory(), await topic_factory("dlt")
    first, second = purchase_event("cust-1", "10.00"), purchase_event("cust-1", "5.50")
    # The relay is at-least-once: the same event can reach the topic twice.
    await publish(infra.kafka_bootstrap, topic, [first, second, first, second, first])
    consumer = make_consumer(infra, pool, topic, dlt, add_to_total)

    async def done() -> bool:
        # All five records acknowledged (offsets are acknowledged only after the database
        # commit), so the duplicates have been handled too, not merely the first two.
        return await acknowledged(infra.kafka_bootstrap, "test-group", topic) == 5

    await run_until(consumer, infra.kafka_bootstrap, done)
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 2
    row = await pool.fetchrow("SELECT total, purchases FROM totals WHERE customer_id = 'cust-1'")
    assert (row["total"], row["purchases"]) == (Decimal("15.50"), 2)

    # Redelivery after a rebalance or crash: the same records handled again change nothing.
    records = await read_topic(infra.kafka_bootstrap, topic, until=lambda r: len(r) >= 5)
    await consumer.process(records)
    await consumer.process(records)
    row = await pool.fetchrow("SELECT total, purchases FROM totals WHERE customer_id = 'cust-1'")
    assert (row["total"], row["purchases"]) == (Decimal("15.50"), 2)


async def test_poison_and_failing_handler_go_to_dead_letter_and_partition_keeps_flowing(
    infra, schema, pool_factory, topic_factory
):
    pool = await pool_factory(schema, INBOX_SQL, SIDE_EFFECT_SQL)
    topic, dlt = await topic_factory(partitions=1), await topic_factory("dlt", partitions=1)
    doomed = purchase_event("cust-1", "666.00")
    good_before, good_after = purchase_event("cust-1", "1.00"), purchase_event("cust-1", "2.00")
    attempts: list[str] = []

    async def handler(conn: Connection, consumed: ConsumedEvent) -> None:
        if consumed.envelope.id == doomed.id:
            attempts.append(consumed.envelope.id)
            raise RuntimeError("handler bug: cannot handle this order")
        await add_to_total(conn, consumed)

    invalid_contract = purchase_event("cust-1").model_copy(update={"data": {"order_id": "x"}})
    await publish(
        infra.kafka_bootstrap,
        topic,
        [good_before, b"{not json", doomed, invalid_contract, good_after],
    )
    consumer = make_consumer(infra, pool, topic, dlt, handler)

    async def done() -> bool:
        return await pool.fetchval("SELECT count(*) FROM inbox") == 2

    await run_until(consumer, infra.kafka_bootstrap, done)
    row = await pool.fetchrow("SELECT total, purchases FROM totals WHERE customer_id = 'cust-1'")
    assert (row["total"], row["purchases"]) == (Decimal("3.00"), 2)
    assert len(attempts) == 3  # max_attempts

    dead = await read_topic(infra.kafka_bootstrap, dlt, until=lambda r: len(r) >= 3)
    assert len(dead) == 3
    by_offset = {int(dict(r.headers)["dlt.source.offset"]): dict(r.headers) for r in dead}
    assert set(by_offset) == {1, 2, 3}
    for headers in by_offset.values():
        assert headers["dlt.source.topic"] == topic.encode()
        assert headers["dlt.source.partition"] == b"0"
        assert headers["dlt.consumer.group"] == b"test-group"
    assert by_offset[1]["dlt.error.class"] == b"PoisonRecord"
    assert by_offset[2]["dlt.error.class"] == b"RuntimeError"
    assert b"handler bug" in by_offset[2]["dlt.error.message"]
    assert by_offset[2]["dlt.attempts"] == b"3"
    assert by_offset[3]["dlt.error.class"] == b"PoisonRecord"
    assert b"order_id" in by_offset[3]["dlt.error.message"]
    # The original bytes are kept so the message can be inspected and re-driven.
    assert {r.value for r in dead} >= {b"{not json", doomed.to_json_bytes()}


async def test_transient_failure_is_retried_not_dead_lettered(
    infra, schema, pool_factory, topic_factory
):
    pool = await pool_factory(schema, INBOX_SQL, SIDE_EFFECT_SQL)
    topic, dlt = await topic_factory(partitions=1), await topic_factory("dlt", partitions=1)
    events = [purchase_event("cust-1", "1.00") for _ in range(5)]
    failures = {"left": 4}

    async def flaky(conn: Connection, consumed: ConsumedEvent) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise ConnectionResetError("database went away")
        await add_to_total(conn, consumed)

    await publish(infra.kafka_bootstrap, topic, list(events))
    consumer = make_consumer(infra, pool, topic, dlt, flaky)

    async def done() -> bool:
        return await pool.fetchval("SELECT count(*) FROM inbox") == 5

    await run_until(consumer, infra.kafka_bootstrap, done)
    row = await pool.fetchrow("SELECT total, purchases FROM totals WHERE customer_id = 'cust-1'")
    assert (row["total"], row["purchases"]) == (Decimal("5.00"), 5)
    assert await read_topic(infra.kafka_bootstrap, dlt) == []


async def test_offsets_are_committed_only_after_the_database_commit(
    infra, schema, pool_factory, topic_factory
):
    """A consumer that stops mid-way resumes from its last committed batch, losing nothing."""
    pool = await pool_factory(schema, INBOX_SQL, SIDE_EFFECT_SQL)
    topic, dlt = await topic_factory(partitions=1), await topic_factory("dlt", partitions=1)
    await publish(infra.kafka_bootstrap, topic, [purchase_event("cust-1") for _ in range(20)])
    gate = asyncio.Event()
    refused: list[int] = []  # offsets the handler was asked for while the database was "down"

    async def blocked_after_ten(conn: Connection, consumed: ConsumedEvent) -> None:
        if consumed.offset >= 10 and not gate.is_set():
            refused.append(consumed.offset)
            raise ConnectionError("database unreachable")  # transient: rewound, retried
        await add_to_total(conn, consumed)

    consumer = make_consumer(infra, pool, topic, dlt, blocked_after_ten)

    async def stuck_at_ten() -> bool:
        # Tried record 10 again after failing it once: the consumer rewound, not moved on.
        return refused.count(10) >= 2

    await run_until(consumer, infra.kafka_bootstrap, stuck_at_ten)
    handled = await pool.fetchval("SELECT count(*) FROM inbox")
    assert handled <= 10
    # Nothing acknowledged on Kafka that the database does not hold: a restart resumes
    # from a committed record, never past an uncommitted one.
    assert await acknowledged(infra.kafka_bootstrap, "test-group", topic) <= handled
    gate.set()
    again = make_consumer(infra, pool, topic, dlt, blocked_after_ten)

    async def all_in() -> bool:
        return await pool.fetchval("SELECT count(*) FROM inbox") == 20

    await run_until(again, infra.kafka_bootstrap, all_in)
    assert await pool.fetchval("SELECT purchases FROM totals") == 20


async def test_records_faststream_could_not_decode_are_dead_lettered_not_dropped(
    infra, schema, pool_factory, topic_factory
):
    """FastStream's own parser chokes on some records; ours must see every one."""
    pool = await pool_factory(schema, INBOX_SQL, SIDE_EFFECT_SQL)
    topic, dlt = await topic_factory(partitions=1), await topic_factory("dlt", partitions=1)
    good = purchase_event("cust-1", "1.00")
    binary = purchase_event("cust-1", "2.00")
    producer = make_producer(infra.kafka_bootstrap)
    await producer.start()
    try:
        sends = [
            # JSON without any content-type header
            (b'{"hello": "world"}', []),
            # a header that is not UTF-8
            (good.to_json_bytes(), [("content-type", b"\xff\xfe"), ("x-bin", b"\x80")]),
            # binary-mode CloudEvent: attributes in ce_ headers, data in the value
            (
                orjson.dumps(binary.data),
                [
                    ("content-type", b"application/json"),
                    ("ce_specversion", b"1.0"),
                    ("ce_id", binary.id.encode()),
                    ("ce_source", binary.source.encode()),
                    ("ce_type", binary.type.encode()),
                    ("ce_time", binary.time.isoformat().encode()),
                    ("ce_customerid", b"cust-1"),
                ],
            ),
            # content-type JSON but not JSON
            (b"not json at all", [("content-type", b"application/json")]),
        ]
        for value, headers in sends:
            await producer.send_and_wait(topic, value, key=b"cust-1", headers=headers)
    finally:
        await producer.stop()
    consumer = make_consumer(infra, pool, topic, dlt, add_to_total)

    async def done() -> bool:
        return await pool.fetchval("SELECT count(*) FROM inbox") == 2

    await run_until(consumer, infra.kafka_bootstrap, done)
    row = await pool.fetchrow("SELECT total, purchases FROM totals WHERE customer_id = 'cust-1'")
    assert (row["total"], row["purchases"]) == (Decimal("3.00"), 2)
    dead = await read_topic(infra.kafka_bootstrap, dlt, until=lambda r: len(r) >= 2)
    assert sorted(int(dict(r.headers)["dlt.source.offset"]) for r in dead) == [0, 3]
