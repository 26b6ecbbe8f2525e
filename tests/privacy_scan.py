"""Looking for a person's data everywhere the CRM keeps anything: every table of every
schema, the raw bytes of every topic, the log files. For the erasure proof."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer

from tests.kafka_helpers import read_topic


async def tables_holding(conn: asyncpg.Connection, needles: Sequence[str]) -> dict[str, list[str]]:
    """``schema.table`` -> the needles found in any row's text (case-insensitive)."""
    tables = await conn.fetch(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_type = 'BASE TABLE' "
        "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
    )
    found: dict[str, list[str]] = {}
    lowered = [n.lower() for n in needles]
    for row in tables:
        name = f'"{row["table_schema"]}"."{row["table_name"]}"'
        hits = await conn.fetch(
            f"SELECT n FROM unnest($1::text[]) AS n WHERE EXISTS ("
            f"SELECT 1 FROM {name} AS t WHERE strpos(lower(t::text), n) > 0)",
            lowered,
        )
        if hits:
            found[name] = [h["n"] for h in hits]
    return found


async def topics_holding(bootstrap: str, needles: Sequence[str]) -> dict[str, list[str]]:
    """topic -> the needles found in any record's key, value or headers (raw bytes)."""
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await probe.start()
    try:
        topics = sorted(t for t in await probe.topics() if not t.startswith("__"))
    finally:
        await probe.stop()
    wanted = [n.lower().encode() for n in needles]
    found: dict[str, list[str]] = {}
    for topic in topics:
        for record in await read_topic(bootstrap, topic, timeout=120):
            raw = b"\0".join(
                [record.key or b"", record.value or b"",
                 *(k.encode() + b"=" + (v or b"") for k, v in record.headers or ())]
            ).lower()  # fmt: skip
            for needle in wanted:
                if needle in raw:
                    found.setdefault(topic, []).append(needle.decode())
    return {topic: sorted(set(hits)) for topic, hits in found.items()}


def logs_holding(files: Iterable[Path], needles: Sequence[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in files:
        text = path.read_bytes().lower()
        hits = [n for n in needles if n.lower().encode() in text]
        if hits:
            found[str(path)] = hits
    return found
