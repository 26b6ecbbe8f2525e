"""The `crm` operators' CLI against real Kafka and PostgreSQL.

Each command runs through typer's CliRunner in a worker thread (the command calls
asyncio.run, which cannot nest inside the test's running loop).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import OffsetAndMetadata
from click.testing import Result
from typer.testing import CliRunner

from contracts.envelope import CloudEvent
from contracts.events.sales import OpportunityOpened
from contracts.money import Money
from services.platform.cli import app
from services.platform.eventstore import NO_STREAM, EventStore
from services.platform.kafka import make_producer
from services.platform.privacy.data_keys import data_keys_from_environment
from services.platform.relay import OutboxRelay
from services.platform.relay_main import EVENTSTORE_SQL
from tests.kafka_helpers import read_topic

pytestmark = pytest.mark.integration


async def crm(infra: Any, *args: str) -> Result:
    """Run `crm --bootstrap ... --database-url ... <args>` and return its result."""
    runner = CliRunner()
    argv = ["--bootstrap", infra.kafka_bootstrap, "--database-url", infra.database_url, *args]
    return await asyncio.to_thread(runner.invoke, app, argv, catch_exceptions=False)


def cloud_event(customer: str) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()),
        source="/test/shop",
        type="crm.sales.purchase_made",
        time=datetime.now(UTC),
        customerid=customer,
        data={"customer_id": customer},
    )


def dlt_headers(source_topic: str, offset: int, group: str = "billing") -> list[tuple[str, bytes]]:
    return [
        ("dlt.source.topic", source_topic.encode()),
        ("dlt.source.partition", b"2"),
        ("dlt.source.offset", str(offset).encode()),
        ("dlt.consumer.group", group.encode()),
        ("dlt.error.class", b"ValueError"),
        ("dlt.error.message", b"amount must be positive"),
        ("dlt.attempts", b"3"),
        ("dlt.failed.at", b"2024-05-01T12:00:00+00:00"),
    ]


async def produce(
    bootstrap: str,
    topic: str,
    records: list[tuple[int, bytes | None, bytes | None, list[tuple[str, bytes]]]],
) -> list[tuple[int, int]]:
    """Produce (partition, key, value, headers) records; return their (partition, offset)."""
    producer = make_producer(bootstrap)
    await producer.start()
    try:
        placed = []
        for partition, key, value, headers in records:
            meta = await producer.send_and_wait(
                topic, value=value, key=key, headers=headers, partition=partition
            )
            placed.append((meta.partition, meta.offset))
        return placed
    finally:
        await producer.stop()


async def end_offsets(bootstrap: str, topic: str, partitions: int = 3) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        ends = await consumer.end_offsets(tps)
        return int(sum(ends.values()))
    finally:
        await consumer.stop()


async def test_dlq_list_shows_dead_letters_with_their_headers(infra, topic_factory):
    dlq = await topic_factory("dlq")
    source = await topic_factory("events")
    event = cloud_event("cust-7")
    placed = await produce(
        infra.kafka_bootstrap,
        dlq,
        [
            (1, b"cust-7", event.to_json_bytes(), dlt_headers(source, 41)),
            (0, b"cust-8", b"\x00\x01not json at all", dlt_headers(source, 42, "timeline")),
        ],
    )

    result = await crm(infra, "dlq", "list", "--topic", dlq, "--json")

    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert listed["total"] == 2
    by_address = {(r["partition"], r["offset"]): r for r in listed["records"]}
    assert set(by_address) == set(placed)
    good = by_address[placed[0]]
    assert good["source_topic"] == source
    assert good["source_partition"] == 2
    assert good["source_offset"] == 41
    assert good["consumer_group"] == "billing"
    assert good["error_class"] == "ValueError"
    assert good["error_message"] == "amount must be positive"
    assert good["attempts"] == 3
    assert good["failed_at"] == "2024-05-01T12:00:00+00:00"
    assert good["event"] == {"id": event.id, "type": "crm.sales.purchase_made"}
    assert good["key"] == "cust-7"
    poison = by_address[placed[1]]
    assert poison["consumer_group"] == "timeline"
    assert poison["event"]["preview"].endswith("not json at all")

    table = await crm(infra, "dlq", "list", "--topic", dlq, "--group", "billing")
    assert table.exit_code == 0, table.output
    assert f"1:{placed[0][1]}" in table.stdout
    assert f"{source}:2:41" in table.stdout
    assert event.id in table.stdout
    assert "1 of 1 dead-lettered record(s)" in table.stdout
    assert "timeline" not in table.stdout


async def test_redrive_republishes_exactly_the_chosen_record(infra, topic_factory):
    dlq = await topic_factory("dlq")
    source = await topic_factory("events")
    events = [cloud_event(f"cust-{n}") for n in range(3)]
    originals = [("content-type", b"application/cloudevents+json"), ("x-trace", b"abc")]
    placed = await produce(
        infra.kafka_bootstrap,
        dlq,
        [
            (n % 3, f"cust-{n}".encode(), e.to_json_bytes(), originals + dlt_headers(source, n))
            for n, e in enumerate(events)
        ],
    )
    chosen_partition, chosen_offset = placed[1]
    address = f"{chosen_partition}:{chosen_offset}"

    dry = await crm(infra, "dlq", "redrive", "--topic", dlq, "--offset", address, "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"would re-drive {dlq}:{address} -> {source}" in dry.stdout
    assert await end_offsets(infra.kafka_bootstrap, source) == 0

    result = await crm(infra, "dlq", "redrive", "--topic", dlq, "--offset", address)

    assert result.exit_code == 0, result.output
    assert f"re-drove {dlq}:{address} -> {source}:" in result.stdout
    assert await end_offsets(infra.kafka_bootstrap, source) == 1
    [record] = await read_topic(infra.kafka_bootstrap, source)
    assert record.key == b"cust-1"
    assert record.value == events[1].to_json_bytes()
    assert list(record.headers) == [
        *originals,
        ("dlt.redriven.from", f"{dlq}:{address}".encode()),
    ]
    # The dead letters themselves stay where they are.
    assert await end_offsets(infra.kafka_bootstrap, dlq) == 3


async def test_redrive_all_of_one_group(infra, topic_factory):
    dlq = await topic_factory("dlq")
    source = await topic_factory("events")
    events = [cloud_event(f"cust-{n}") for n in range(4)]
    await produce(
        infra.kafka_bootstrap,
        dlq,
        [
            (0, b"k", e.to_json_bytes(), dlt_headers(source, n, "a" if n % 2 else "b"))
            for n, e in enumerate(events)
        ],
    )

    result = await crm(infra, "dlq", "redrive", "--topic", dlq, "--all", "--group", "a")

    assert result.exit_code == 0, result.output
    records = await read_topic(infra.kafka_bootstrap, source)
    # Group "a" failed on events 1 and 3; they go back in dead-letter order.
    assert [r.value for r in records] == [events[1].to_json_bytes(), events[3].to_json_bytes()]
    assert [dict(r.headers)["dlt.redriven.from"] for r in records] == [
        f"{dlq}:0:1".encode(),
        f"{dlq}:0:3".encode(),
    ]


async def test_redrive_refuses_what_does_not_exist_and_publishes_nothing(infra, topic_factory):
    dlq = await topic_factory("dlq")
    source = await topic_factory("events")
    [(partition, offset), (bare_partition, bare_offset)] = await produce(
        infra.kafka_bootstrap,
        dlq,
        [
            (0, b"k", cloud_event("c").to_json_bytes(), dlt_headers(source, 1)),
            (1, b"k", b"{}", [("dlt.error.class", b"X")]),  # no dlt.source.topic
        ],
    )

    # A valid offset together with a missing one: all are checked before any publish.
    missing = await crm(
        infra, "dlq", "redrive", "--topic", dlq, "--offset", f"{partition}:{offset}",
        "--offset", f"{partition}:{offset + 5}",
    )  # fmt: skip
    assert missing.exit_code == 2, missing.output
    assert f"{dlq}:{partition}:{offset + 5} does not exist" in missing.stderr

    no_partition = await crm(infra, "dlq", "redrive", "--topic", dlq, "--offset", "7:0")
    assert no_partition.exit_code == 2, no_partition.output
    assert "has no partition 7" in no_partition.stderr

    no_source = await crm(
        infra, "dlq", "redrive", "--topic", dlq, "--offset", f"{bare_partition}:{bare_offset}"
    )
    assert no_source.exit_code == 2, no_source.output
    assert "no dlt.source.topic header" in no_source.stderr

    malformed = await crm(infra, "dlq", "redrive", "--topic", dlq, "--offset", "zero")
    assert malformed.exit_code == 2, malformed.output

    assert await end_offsets(infra.kafka_bootstrap, source) == 0


async def test_topics_reports_end_offsets_and_group_lag(infra, topic_factory, unique):
    topic = await topic_factory("events", partitions=3)
    other = await topic_factory("other", partitions=1)
    await produce(
        infra.kafka_bootstrap,
        topic,
        [(0, b"k", b"v", [])] * 5 + [(1, b"k", b"v", [])] * 3,
    )
    behind, done = f"cli-behind-{unique}", f"cli-done-{unique}"
    await commit(
        infra.kafka_bootstrap, behind, {TopicPartition(topic, 0): 2, TopicPartition(topic, 1): 3}
    )
    await commit(infra.kafka_bootstrap, done, {TopicPartition(topic, 0): 5})

    result = await crm(infra, "topics", "--prefix", f"test.{unique}.", "--json")

    assert result.exit_code == 0, result.output
    report = {t["topic"]: t for t in json.loads(result.stdout)["topics"]}
    assert set(report) == {topic, other}
    entry = report[topic]
    assert entry["partitions"] == 3
    assert entry["end_offset"] == 8
    assert entry["records"] == 8
    assert entry["partition_offsets"] == {
        "0": {"start": 0, "end": 5},
        "1": {"start": 0, "end": 3},
        "2": {"start": 0, "end": 0},
    }
    assert set(entry["groups"]) == {behind, done}
    assert entry["groups"][behind]["lag"] == 3
    assert entry["groups"][behind]["partitions"]["0"] == {"committed": 2, "end": 5, "lag": 3}
    assert entry["groups"][behind]["uncommitted_partitions"] == [2]
    assert entry["groups"][done]["lag"] == 0
    assert report[other]["end_offset"] == 0
    assert report[other]["groups"] == {}

    table = await crm(infra, "topics", "--prefix", topic)
    assert table.exit_code == 0, table.output
    [row] = [line.split() for line in table.stdout.splitlines() if line.startswith(topic)]
    assert row[:4] == [topic, "3", "8", "8"]


async def commit(bootstrap: str, group: str, offsets: dict[TopicPartition, int]) -> None:
    """Commit offsets for ``group`` without consuming (as a stopped consumer would have)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(list(offsets))
        await consumer.commit({tp: OffsetAndMetadata(o, "") for tp, o in offsets.items()})
    finally:
        await consumer.stop()


async def test_relay_status_shows_checkpoint_and_lag(infra, schema, pool_factory, topic_factory):
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    topic = await topic_factory()
    store = EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
    for n in range(5):
        await store.append(
            f"opp-{n}",
            NO_STREAM,
            [
                OpportunityOpened(
                    opportunity_id=uuid.uuid4(),
                    customer_id=f"c-{n}",
                    title="deal",
                    amount=Money(amount=1, currency="EUR"),
                )
            ],
        )
    relay = OutboxRelay(pool, partial(make_producer, infra.kafka_bootstrap), topic, batch_size=3)
    try:
        async with pool.acquire() as conn:
            assert await relay.publish_batch(conn) == 3
    finally:
        await relay.close()

    result = await crm(infra, "relay-status", "--schema", schema, "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["events"] == 5
    [checkpoint] = report["relays"]
    assert checkpoint["relay"] == f"relay:{topic}"
    assert checkpoint["published_total"] == 3
    assert checkpoint["lag"] == 2

    unknown = await crm(infra, "relay-status", "--schema", f"{schema}_none")
    assert unknown.exit_code == 2, unknown.output
    assert "has no event store" in unknown.stderr


async def test_unreachable_kafka_is_a_one_line_error(infra):
    runner = CliRunner()
    result = await asyncio.to_thread(
        runner.invoke, app, ["--bootstrap", "127.0.0.1:9", "topics"], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: Kafka at 127.0.0.1:9:")
    assert "Traceback" not in result.output
