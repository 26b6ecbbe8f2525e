"""Kafka clients configured for the guarantees: idempotent producers with acks=all."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from contracts.topics import TopicSpec


def make_producer(bootstrap: str, *, linger_ms: int = 5) -> AIOKafkaProducer:
    """An idempotent producer: acks=all, retries without duplicates or reordering."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=linger_ms,
        max_batch_size=256 * 1024,
        request_timeout_ms=15000,
        compression_type=None,
    )


class LazyProducer:
    """A producer started on first use and thrown away after an error.

    aiokafka's idempotent producer can stall after a broker blip (OutOfOrderSequence);
    the cure is a new producer, so callers ``drop()`` it on any Kafka error.
    """

    def __init__(self, factory: Callable[[], AIOKafkaProducer]) -> None:
        self._factory = factory
        self._producer: AIOKafkaProducer | None = None

    async def get(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self._factory()
            try:
                # start() can wait forever for a producer id if the broker vanishes.
                await asyncio.wait_for(producer.start(), timeout=30)
            except BaseException:
                await producer.stop()
                raise
            self._producer = producer
        return self._producer

    async def drop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await asyncio.wait_for(producer.stop(), timeout=5)
            except Exception:  # a broken producer may fail to close; it is gone anyway
                pass


async def stop_consumer(consumer: Any) -> None:
    """Stop an aiokafka consumer, working around aiokafka 0.14 raising CancelledError.

    A group-less consumer awaits its own cancelled background task in ``stop()``; that
    CancelledError is not ours to propagate unless our task really is being cancelled.
    """
    await asyncio.sleep(0)
    try:
        await consumer.stop()
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise


async def topic_partitions(consumer: Any, topic: str, wait: float = 10.0) -> list[TopicPartition]:
    """The topic's partitions, refreshing metadata until the client knows the topic.

    Right after ``start()`` a consumer may not have the topic's metadata yet and would
    report no partitions, which a caller must never mistake for an empty topic.
    """
    deadline = asyncio.get_running_loop().time() + wait
    while True:
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return [TopicPartition(topic, p) for p in sorted(partitions)]
        if asyncio.get_running_loop().time() > deadline:
            raise LookupError(f"topic {topic!r} has no partitions (does it exist?)")
        await consumer._client.force_metadata_update()
        await asyncio.sleep(0.05)


async def ensure_topics(
    bootstrap: str, topics: Iterable[TopicSpec], *, replication_factor: int = 1
) -> None:
    """Create missing topics (auto-creation is off on our brokers); existing ones stay."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = [
            NewTopic(t.name, t.partitions, replication_factor, topic_configs=dict(t.config))
            for t in topics
            if t.name not in existing
        ]
        if wanted:
            try:
                await admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass  # a concurrent starter created it
        # Metadata propagates asynchronously; wait until every topic is listed.
        for _ in range(50):
            if {t.name for t in wanted} <= set(await admin.list_topics()):
                break
            await asyncio.sleep(0.1)
    finally:
        await admin.close()
