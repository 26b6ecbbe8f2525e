"""Publishing to topics in tests, and reading a whole topic back independent of any
consumer group."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from contracts.envelope import CloudEvent, partition_key
from services.platform.kafka import make_producer, stop_consumer


async def read_topic(
    bootstrap: str,
    topic: str,
    *,
    until: Callable[[list[ConsumerRecord[Any, Any]]], bool] | None = None,
    timeout: float = 30.0,
) -> list[ConsumerRecord[Any, Any]]:
    """Every record of ``topic`` from offset 0; waits until ``until(records)`` holds.

    Without ``until`` it reads up to the end offsets seen at the start.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        tps = await _assign_from_start(consumer, topic)
        ends = await consumer.end_offsets(tps)
        records: list[ConsumerRecord[Any, Any]] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for recs in batch.values():
                records.extend(recs)
            if until is not None:
                if until(records):
                    return records
            else:
                positions = [await consumer.position(tp) for tp in tps]
                if all(pos >= ends[tp] for pos, tp in zip(positions, tps, strict=True)):
                    return records
        if until is not None:
            raise TimeoutError(f"condition not met on {topic}; read {len(records)} records")
        return records
    finally:
        await stop_consumer(consumer)


@contextlib.asynccontextmanager
async def tail_topic(bootstrap: str, topic: str) -> AsyncIterator[list[ConsumerRecord[Any, Any]]]:
    """Every record of ``topic`` from offset 0, in a list that grows while the block runs:
    for waiting on what has been published so far."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[ConsumerRecord[Any, Any]] = []

    async def follow() -> None:
        await _assign_from_start(consumer, topic)
        while True:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)

    follower = asyncio.create_task(follow())
    try:
        yield records
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await stop_consumer(consumer)


async def _assign_from_start(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """Assign every partition of ``topic`` (a new topic's metadata may take a moment to
    arrive) and seek to the beginning; the partitions."""
    partitions = consumer.partitions_for_topic(topic)
    for _ in range(50):
        if partitions:
            break
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
        await asyncio.sleep(0.1)
    tps = [TopicPartition(topic, p) for p in sorted(partitions or ())]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    return tps


async def publish_to(
    bootstrap: str, items: list[tuple[str, CloudEvent | bytes]], key: bytes = b"cust-1"
) -> None:
    """Publish (topic, item) pairs in the given order, each acknowledged before the next;
    raw bytes (not an event) go under ``key``."""
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        for topic, item in items:
            if isinstance(item, CloudEvent):
                await producer.send_and_wait(
                    topic,
                    item.to_json_bytes(),
                    key=partition_key(item),
                    headers=item.kafka_headers(),
                )
            else:
                await producer.send_and_wait(topic, item, key=key)
    finally:
        await producer.stop()


async def publish(bootstrap: str, topic: str, events: list[CloudEvent | bytes]) -> None:
    """Publish to one topic, in order."""
    await publish_to(bootstrap, [(topic, event) for event in events])
