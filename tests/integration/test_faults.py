"""Faults lose nothing acknowledged: kill -9 of the relay, a broker stopped and restarted."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from functools import partial
from pathlib import Path

import orjson
import pytest

from contracts.events.sales import PurchaseMade
from contracts.money import Money
from contracts.topics import TopicSpec
from projections.timeline.projector import SCHEMA_SQL as TIMELINE_SQL
from projections.timeline.projector import project
from services.platform.consumer import INBOX_SQL, EventConsumer, run_consumers
from services.platform.eventstore import EventStore
from services.platform.kafka import ensure_topics, make_producer
from services.platform.privacy.data_keys import data_keys_from_environment
from services.platform.relay import OutboxRelay
from services.platform.relay_main import EVENTSTORE_SQL
from tests.kafka_helpers import read_topic, tail_topic

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
KILLS = 5


def purchase(customer: str) -> PurchaseMade:
    return PurchaseMade(
        order_id=uuid.uuid4(),
        customer_id=customer,
        total=Money(amount=Decimal("99.90"), currency="BRL"),
    )


async def append_steadily(
    store: EventStore,
    ids: list[str],
    per_second: float,
    count: int | None = None,
    stop: asyncio.Event | None = None,
) -> list[str]:
    """Append single-event commands, one new stream each, at a steady pace, into ``ids``,
    until ``count`` of them or ``stop``."""
    n = 0
    while (count is None or n < count) and not (stop is not None and stop.is_set()):
        result = await store.append(f"order-{n}", 0, [purchase(f"cust-{n % 17}")])
        ids.append(str(result.event_ids[0]))
        n += 1
        await asyncio.sleep(1 / per_second)  # the load's pace, not a wait for anything
    return ids


async def until(condition: Callable[[], Awaitable[bool] | bool], what: str, timeout: float = 60):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        met = condition()
        if met if isinstance(met, bool) else await met:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for {what}")
        await asyncio.sleep(0.05)


def _holds(records: list[object], count: int) -> bool:
    return len(records) >= count


def start_relay_process(infra, schema: str, topic: str) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CRM_DATABASE_URL": infra.database_url,
        "CRM_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "CRM_LOG_LEVEL": "WARNING",
        # Widen the window between the broker's ack and the checkpoint so that kills
        # land in it: the case where a crash must re-publish, not lose.
        "CRM_RELAY_CHECKPOINT_DELAY": "0.05",
        "PYTHONPATH": str(ROOT),
    }
    command = ["-m", "services.platform.relay_main", "--schema", schema, "--topic", topic]
    return subprocess.Popen(
        [sys.executable, *command],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.timeout(240)
async def test_relay_killed_repeatedly_loses_nothing_and_read_model_holds_each_once(
    infra, schema, pool_factory, topic_factory
):
    pool = await pool_factory(schema, EVENTSTORE_SQL, INBOX_SQL, TIMELINE_SQL)
    topic, dlt = await topic_factory(), await topic_factory("dlt")
    store = EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
    consumer = EventConsumer(
        group=f"timeline-{schema}",
        topics=[topic],
        pool=pool,
        keys=data_keys_from_environment(pool),
        handler=project,
        producer_factory=partial(make_producer, infra.kafka_bootstrap),
        dead_letter_topic=dlt,
    )
    stop_consumer, stop_writing = asyncio.Event(), asyncio.Event()
    consumer_task = asyncio.create_task(
        run_consumers(infra.kafka_bootstrap, [consumer], stop_consumer)
    )
    appended: list[str] = []
    writer = asyncio.create_task(append_steadily(store, appended, 60, stop=stop_writing))
    try:
        async with tail_topic(infra.kafka_bootstrap, topic) as published_so_far:
            for kill in range(KILLS):
                process = start_relay_process(infra, schema, topic)
                # killed while it publishes: after it sent a fresh share of the appends
                # (the writer goes on meanwhile), not after some time that may or may not
                # have let it start
                target = len(published_so_far) + 30
                await until(partial(_holds, published_so_far, target),
                            f"relay {kill + 1} to publish 30 events")  # fmt: skip
                process.send_signal(signal.SIGKILL)
                process.wait()
        stop_writing.set()
        await writer
        final = start_relay_process(infra, schema, topic)
        try:
            records = await read_topic(
                infra.kafka_bootstrap,
                topic,
                until=lambda r: set(appended) <= {orjson.loads(x.value)["id"] for x in r},
                timeout=60,
            )

            async def projected() -> bool:
                count = await pool.fetchval("SELECT count(*) FROM timeline_entries")
                return bool(count >= len(appended))

            await until(projected, "the read model to hold every appended event")
        finally:
            final.send_signal(signal.SIGTERM)
            final.wait(timeout=30)
    finally:
        stop_writing.set()
        await writer
        stop_consumer.set()
        await consumer_task

    published = [orjson.loads(r.value)["id"] for r in records]
    # At least once on Kafka: every appended event is there ...
    assert set(published) == set(appended)
    # ... and the kills did hit the window after send, before checkpoint (re-sends).
    assert len(published) > len(set(published)), "no kill landed between send and checkpoint"
    # Exactly once in the read model.
    rows = await pool.fetch("SELECT event_id FROM timeline_entries")
    assert sorted(r["event_id"] for r in rows) == sorted(appended)
    assert await pool.fetchval("SELECT count(*) FROM inbox") == len(appended)


@pytest.mark.timeout(300)
async def test_broker_stopped_and_restarted_while_relay_runs_loses_nothing(
    infra, schema, pool_factory, tmp_path
):
    from deploy.local.launcher import LocalConfig, start_kafka, stop_kafka

    # A broker of our own, so stopping it disturbs no other test.
    broker = LocalConfig(
        local_dir=tmp_path / "broker",
        kafka_port=29192,
        kafka_controller_port=29193,
        pg_port=29194,
    )
    bootstrap = f"127.0.0.1:{broker.kafka_port}"
    await asyncio.to_thread(start_kafka, broker)
    try:
        topic = f"test.{schema}.restart"
        await ensure_topics(bootstrap, [TopicSpec(topic, 3, "test")])
        pool = await pool_factory(schema, EVENTSTORE_SQL)
        store = EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
        relay = OutboxRelay(pool, partial(make_producer, bootstrap), topic)
        stop = asyncio.Event()
        relay_task = asyncio.create_task(relay.run(stop))
        appended: list[str] = []
        writer = asyncio.create_task(append_steadily(store, appended, 50, count=400))
        try:
            async with tail_topic(bootstrap, topic) as published_so_far:
                await until(lambda: len(published_so_far) >= 20, "the relay to publish 20 events")
            await asyncio.to_thread(stop_kafka, broker, True)  # kill -9 of the broker
            at_kill = len(appended)
            # appends go on while Kafka is down: wait for 50 of them, not for some seconds
            await until(lambda: len(appended) >= at_kill + 50 or writer.done(), "50 appends")
            during_outage = appended[at_kill:]
            await asyncio.to_thread(start_kafka, broker)
            await writer
            records = await read_topic(
                bootstrap,
                topic,
                until=lambda r: set(appended) <= {orjson.loads(x.value)["id"] for x in r},
                timeout=90,
            )
        finally:
            # a failing test must fail, not hang: the relay holds one of the pool's connections
            stop.set()
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await relay_task
        assert len(during_outage) >= 50, "the writer stopped before the broker went down"
        published = {orjson.loads(r.value)["id"] for r in records}
        assert set(during_outage) <= published  # appended while it was down, published after
        assert published == set(appended)
        assert await relay.lag() == 0
    finally:
        await asyncio.to_thread(stop_kafka, broker, False)
