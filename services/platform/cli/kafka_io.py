"""Passive Kafka access for the ``crm`` commands: no consumer group is joined and no
offset is committed, so inspecting a topic never disturbs a running consumer."""

from __future__ import annotations

import time
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.platform.cli.common import CliError
from services.platform.kafka import stop_consumer

READ_TIMEOUT = 30.0
"""Seconds allowed to read a topic up to the end offsets seen when the command started."""


def admin_client(bootstrap: str) -> Any:
    return AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)


def reader_for(bootstrap: str) -> Any:
    """A consumer without a group: it can only be assigned partitions, never commits."""
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=15000,
    )


async def stop_reader(reader: Any) -> None:
    await stop_consumer(reader)


async def describe(admin: Any, topics: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Topic metadata by name; topics the broker does not know are left out."""
    described: list[dict[str, Any]] = await admin.describe_topics(topics)
    return {t["topic"]: t for t in described if t["error_code"] == 0}


async def partitions_of(admin: Any, topic: str) -> list[int]:
    found = (await describe(admin, [topic])).get(topic)
    if found is None:
        raise CliError(f"topic {topic} does not exist")
    return sorted(int(p["partition"]) for p in found["partitions"])


def header(record: Any, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return None if value is None else bytes(value).decode("utf-8", "replace")
    return None


async def read_to_end(reader: Any, topic: str, partitions: list[int]) -> list[Any]:
    """Every record of ``topic`` up to the end offsets as they are now, by assign()."""
    tps = [TopicPartition(topic, p) for p in partitions]
    reader.assign(tps)
    starts: dict[Any, int] = await reader.beginning_offsets(tps)
    ends: dict[Any, int] = await reader.end_offsets(tps)
    remaining = set()
    for tp in tps:
        if ends[tp] > starts[tp]:
            reader.seek(tp, starts[tp])
            remaining.add(tp)
    records: list[Any] = []
    deadline = time.monotonic() + READ_TIMEOUT
    while remaining:
        if time.monotonic() > deadline:
            raise TimeoutError(f"reading {topic} did not reach its end offsets")
        batch = await reader.getmany(*remaining, timeout_ms=500)
        for tp, recs in batch.items():
            records.extend(r for r in recs if r.offset < ends[tp])
        for tp in list(remaining):
            if await reader.position(tp) >= ends[tp]:
                remaining.discard(tp)
    return records
