"""Projection benchmarks (issue: projections).

- replay: rebuild the timeline from a topic of N events (default 1,000,000) next to a
  bare aiokafka consumer reading the same topic;
- timeline_page: p99 of a timeline page query with 10,000,000 entries in the table;
- search: p99 of customer search over 1,000,000 profiles;
- freshness: p99 from append commit to timeline row at 1,000 events/s (see end_to_end in
  bench/backbone.py, which measures exactly that).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from bench.common import Endpoints, percentile
from contracts.envelope import CloudEvent, partition_key
from contracts.events.sales import PurchaseMade
from contracts.money import Money
from contracts.topics import TopicSpec
from projections.registry import timeline
from projections.timeline.projector import entry_row
from services.platform.consumer import parse_record
from services.platform.kafka import (
    ensure_topics,
    make_producer,
    stop_consumer,
    topic_partitions,
)
from services.platform.projection import rebuild, replay_workers
from services.platform.runtime import replay_gc

REPLAY_TOPIC = "bench.replay.purchases"
CEILING_EVENTS = 200_000


async def _topic_size(bootstrap: str, topic: str) -> int:
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await reader.start()
    try:
        tps = await topic_partitions(reader, topic)
        return sum((await reader.end_offsets(tps)).values())
    finally:
        await stop_consumer(reader)


async def _fill(bootstrap: str, topic: str, count: int) -> None:
    """Publish ``count`` purchase events (once; later runs reuse the topic)."""
    await ensure_topics(bootstrap, [TopicSpec(topic, 6, "benchmark replay source")])
    have = await _topic_size(bootstrap, topic)
    if have >= count:
        return
    producer = make_producer(bootstrap, linger_ms=20)
    await producer.start()
    now = datetime.now(UTC)
    try:
        futures = []
        for n in range(have, count):
            customer = f"cust-{n % 50_000}"
            event = PurchaseMade(
                order_id=uuid.uuid4(), customer_id=customer,
                total=Money(amount=Decimal("99.90"), currency="BRL"), channel="web",
            )  # fmt: skip
            envelope = CloudEvent(
                id=str(uuid.uuid4()), source="/bench/shop", type=event.event_type, time=now,
                customerid=customer, streamid=f"order-{n}", streamversion=1,
                data=event.model_dump(mode="json"),
            )  # fmt: skip
            futures.append(
                await producer.send(
                    topic, envelope.to_json_bytes(), key=partition_key(envelope),
                    headers=envelope.kafka_headers(),
                )
            )  # fmt: skip
            if len(futures) >= 20_000:
                await asyncio.gather(*futures)
                futures.clear()
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


Batch = dict[TopicPartition, list[ConsumerRecord[Any, Any]]]


async def _read_from_start(
    bootstrap: str, topic: str, count: int, handle: Callable[[Batch], Awaitable[None]] | None
) -> float:
    """Records/s reading ``topic`` from offset 0 until ``count`` records, each polled
    batch handed to ``handle`` (None: only counted, the bare baseline)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, max_partition_fetch_bytes=4 << 20
    )
    await consumer.start()
    try:
        tps = await topic_partitions(consumer, topic)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen = 0
        started = time.perf_counter()
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            if handle is not None:
                await handle(batch)
            seen += sum(len(records) for records in batch.values())
        return seen / (time.perf_counter() - started)
    finally:
        await stop_consumer(consumer)


async def _python_ceiling(bootstrap: str, topic: str, count: int) -> float:
    """Events/s of the projector's Python work alone: read, parse and validate each record
    against its contract, build its timeline row. No database: the most a rebuild could
    reach in this process, whatever PostgreSQL does."""

    async def project(batch: Batch) -> None:
        for records in batch.values():
            for record in records:
                entry_row(parse_record(record))

    with replay_gc():  # as a rebuild runs
        return await _read_from_start(bootstrap, topic, count, project)


async def _parse_and_copy(bootstrap: str, database_url: str, topic: str, count: int) -> float:
    """Events/s of a bare consumer that also parses each record's JSON and writes it:
    one ``COPY`` of (source, id, customer, time, payload) per 5,000 records into a table
    keyed by (source, id), one commit each. No contract, no inbox, no summary."""
    conn = await asyncpg.connect(database_url)
    table = f"bench_parse_copy_{uuid.uuid4().hex[:6]}"
    await conn.execute(
        f"CREATE TABLE {table} (event_source text, event_id text, customer_id text, "
        "occurred_at timestamptz, payload jsonb, PRIMARY KEY (event_source, event_id))"
    )

    async def copy(batch: Batch) -> None:
        rows = []
        for records in batch.values():
            for record in records:
                event = orjson.loads(record.value)
                rows.append((
                    event["source"], event["id"], event.get("customerid"),
                    datetime.fromisoformat(event["time"]), orjson.dumps(event["data"]).decode(),
                ))  # fmt: skip
        if rows:
            async with conn.transaction():
                await conn.copy_records_to_table(table, records=rows)

    try:
        return await _read_from_start(bootstrap, topic, count, copy)
    finally:
        await conn.execute(f"DROP TABLE {table}")
        await conn.close()


async def bench_replay(ep: Endpoints, count: int = 1_000_000) -> dict[str, Any]:
    await _fill(ep.kafka_bootstrap, REPLAY_TOPIC, count)
    total = await _topic_size(ep.kafka_bootstrap, REPLAY_TOPIC)
    bare_rate = await _read_from_start(ep.kafka_bootstrap, REPLAY_TOPIC, total, None)
    ceiling = await _python_ceiling(ep.kafka_bootstrap, REPLAY_TOPIC, CEILING_EVENTS)
    parse_copy = await _parse_and_copy(ep.kafka_bootstrap, ep.database_url, REPLAY_TOPIC, total)
    name = f"bench_replay_{uuid.uuid4().hex[:6]}"
    dlt = f"bench.{name}.dlt"
    await ensure_topics(ep.kafka_bootstrap, [TopicSpec(dlt, 1, "bench")])
    spec = dataclasses.replace(timeline(), name=name, topics=(REPLAY_TOPIC,), dead_letter_topic=dlt)
    started = time.perf_counter()
    await rebuild(ep.kafka_bootstrap, ep.database_url, spec)
    seconds = time.perf_counter() - started
    conn = await asyncpg.connect(ep.database_url)
    try:
        rows = await conn.fetchval(f"SELECT count(*) FROM {name}.timeline_entries")
        for schema in (name, f"{name}_v1"):
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await conn.execute("DELETE FROM crm_projections.versions WHERE projection = $1", name)
    finally:
        await conn.close()
    rate = total / seconds
    return {
        "metric": "timeline rebuild from offset 0 (consume, validate, inbox, insert, commit), "
        "one replaying process per core",
        "unit": "events/s",
        "value": round(rate, 1),
        "baseline": "bare aiokafka consumer reading the same topic (no parsing, no database)",
        "baseline_value": round(bare_rate, 1),
        "ratio": round(rate / bare_rate, 3),
        "target": ">= 0.3 of baseline",
        "target_met": rate / bare_rate >= 0.3,
        "parameters": {
            "events": total,
            "rows": rows,
            "partitions": 6,
            "customers": 50_000,
            "replay_processes": min(replay_workers(spec), 6),
        },
        "python_ceiling": {
            "what": "read + parse + validate + build the row, no database (first "
            f"{CEILING_EVENTS:,} events): the most this projector reaches on one core",
            "events_per_s": round(ceiling, 1),
            "ratio_to_baseline": round(ceiling / bare_rate, 3),
            "us_per_event": round(1e6 / ceiling, 1),
        },
        "parse_and_copy_reference": {
            "what": "bare consumer that also parses each record's JSON and COPYs it, keyed, "
            "one commit per 5,000 (no contract, inbox or summary), every event",
            "events_per_s": round(parse_copy, 1),
            "our_ratio_to_it": round(rate / parse_copy, 3),
        },
    }


# --------------------------------------------------------------------------- search
FIRST = ["José", "Maria", "João", "Ana", "Luiz", "Juliana", "Carlos", "Fernanda", "Martín",
         "Sofía", "Lucía", "Mateo", "Valentina", "Pedro", "Camila", "Rafael"]  # fmt: skip
LAST = ["da Silva", "Santos", "Oliveira", "Souza", "Pereira", "Gómez", "Fernández",
        "Rodríguez", "López", "Almeida", "Costa", "Ribeiro", "Martins", "Carvalho"]  # fmt: skip
CITIES = [("São Paulo", "SP", "BR"), ("Rio de Janeiro", "RJ", "BR"), ("Curitiba", "PR", "BR"),
          ("Porto Alegre", "RS", "BR"), ("Buenos Aires", "BA", "AR"),
          ("Córdoba", "CB", "AR")]  # fmt: skip

_FILL_PROFILES = """
INSERT INTO customer_profiles (customer_id, profile, display_name, search_text, phones_digits,
    tax_numbers, emails, city, state, country, lifecycle, updated_at)
SELECT 'c-' || n, jsonb_build_object('company_name', company), name,
       name || ' ' || company || ' ' || city || ' ' || state || ' ' || email || ' ' || tax
       || ' ' || phone,
       ARRAY[phone], ARRAY[tax], ARRAY[email], city, state, country, 'active', now()
FROM (
    SELECT n,
           ($1::text[])[1 + n % array_length($1, 1)] || ' '
               || ($2::text[])[1 + (n / 7) % array_length($2, 1)] || ' ' || n AS name,
           'Empresa ' || (n % 50000) || ' Ltda' AS company,
           ($3::text[])[1 + n % array_length($3, 1)] AS city,
           ($4::text[])[1 + n % array_length($4, 1)] AS state,
           ($5::text[])[1 + n % array_length($5, 1)] AS country,
           'cliente' || n || '@exemplo.com.br' AS email,
           lpad(n::text, 14, '0') AS tax,
           '55119' || lpad(n::text, 8, '0') AS phone
    FROM generate_series($6::int, $7::int) AS n
) AS g
"""


async def bench_search(ep: Endpoints, customers: int = 1_000_000, queries: int = 400):
    """Customer search p99 over ``customers`` profiles, next to a primary-key lookup."""
    from projections.customer360.projector import SCHEMA_SQL
    from projections.customer360.queries import search
    from services.platform.db import apply_sql, create_pool

    schema = "bench_search_v4"  # v4: profiles store their normalised text and its words
    pool = await create_pool(ep.database_url, schema, max_size=2)
    try:
        await apply_sql(pool, schema, [SCHEMA_SQL])
        have = await pool.fetchval("SELECT count(*) FROM customer_profiles")
        if have < customers:  # filled once, reused by later runs
            await pool.execute("TRUNCATE customer_profiles")
            for start in range(0, customers, 100_000):
                await pool.execute(
                    _FILL_PROFILES, FIRST, LAST, [c[0] for c in CITIES], [c[1] for c in CITIES],
                    [c[2] for c in CITIES], start, min(customers, start + 100_000) - 1,
                )  # fmt: skip
            await pool.execute("TRUNCATE search_words")
        if not await pool.fetchval("SELECT EXISTS (SELECT 1 FROM search_words)"):
            # The projector adds each profile's name and place words as it writes the
            # profile (projections/customer360/projector.py); the bulk fill does it here.
            await pool.execute(
                "INSERT INTO search_words SELECT DISTINCT w FROM customer_profiles, "
                "regexp_split_to_table(lower(public.crm_unaccent(display_name || ' ' || "
                "(profile->>'company_name') || ' ' || city || ' ' || state)), '[^a-z]+') AS w "
                "WHERE length(w) >= 2 ON CONFLICT DO NOTHING"
            )
            # As autovacuum would after a bulk load: GIN pending lists merged, statistics.
            await pool.execute("VACUUM ANALYZE customer_profiles")
            await pool.execute("VACUUM ANALYZE search_words")
        samples = [
            "jose silva 4242", "maria oliveira 777", "empresa 4242", "(11) 9000-0123",
            "cliente98765@exemplo.com.br", "00000000054321", "sao paulo juliana 1234",
            "jose slva 4242", "fernandes 1234", "empresa 4242 ltda", "camila almeida",
        ]  # fmt: skip
        ours: list[float] = []
        bare: list[float] = []
        async with pool.acquire() as conn:
            for i in range(queries):
                text = samples[i % len(samples)]
                started = time.perf_counter()
                await search(conn, text, limit=20)
                ours.append((time.perf_counter() - started) * 1000)
                started = time.perf_counter()
                await conn.fetchrow(
                    "SELECT * FROM customer_profiles WHERE customer_id = $1", f"c-{i * 997}"
                )
                bare.append((time.perf_counter() - started) * 1000)
    finally:
        await pool.close()
    return _p99_result(
        "customer search p99 (names, accents, phones, tax ids, e-mails)", ours,
        "primary-key lookup of one profile on the same table", bare, 50,
        {"customers": customers, "queries": queries, "samples": samples},
    )  # fmt: skip


# ---------------------------------------------------------------------- timeline page
_FILL_TIMELINE = """
INSERT INTO timeline_entries (event_source, event_id, customer_id, named_customer_id,
    occurred_at, context, origin, channel, event_type, summary, actor, links, stream_id,
    stream_version, payload)
SELECT '/bench', n::text, customer, customer,
       timestamptz '2024-01-01' + (n || ' seconds')::interval, 'sales', 'internal', 'web',
       'crm.sales.activity_logged', 'Call: follow-up ' || n, 'seller-1', '{}'::jsonb,
       'activity-' || n, 1, '{}'::jsonb
FROM generate_series($1::bigint, $2::bigint) AS n,
     LATERAL (SELECT CASE WHEN n % 10 = 0 THEN 'whale-' || (n / 10) % 10
                          ELSE 'c-' || (n % 99991) END AS customer) AS c
"""


async def bench_timeline_page(
    ep: Endpoints, entries: int = 10_000_000, queries: int = 400
) -> dict[str, Any]:
    """p99 of a timeline page (50 entries, newest first, next page by cursor) in a table of
    ``entries`` rows: ten customers with 100,000 entries each, the rest with ~100."""
    from projections.timeline.projector import SCHEMA_SQL
    from projections.timeline.queries import page
    from services.platform.db import apply_sql, create_pool

    schema = "bench_timeline_v3"  # v3: entries record the customer the event named
    pool = await create_pool(ep.database_url, schema, max_size=2)
    try:
        await apply_sql(pool, schema, [SCHEMA_SQL])
        have = await pool.fetchval(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = 'timeline_entries'::regclass"
        )
        if have < entries * 0.99:  # filled once, reused by later runs
            await pool.execute("TRUNCATE timeline_entries")
            for start in range(0, entries, 1_000_000):
                await pool.execute(_FILL_TIMELINE, start, min(entries, start + 1_000_000) - 1)
            await pool.execute("VACUUM ANALYZE timeline_entries")
        ours: list[float] = []
        bare: list[float] = []
        async with pool.acquire() as conn:
            for i in range(queries):
                customer = f"whale-{i % 10}" if i % 2 else f"c-{(i * 7919) % 99991}"
                started = time.perf_counter()
                first = await page(conn, customer, limit=50)
                if first.next_cursor:
                    await page(conn, customer, limit=50, cursor=first.next_cursor)
                ours.append((time.perf_counter() - started) * 1000 / 2)
                started = time.perf_counter()
                await conn.fetchrow(
                    "SELECT * FROM timeline_entries "
                    "WHERE event_source = '/bench' AND event_id = $1",
                    str(i * 1013),
                )
                bare.append((time.perf_counter() - started) * 1000)
        total = await pool.fetchval("SELECT count(*) FROM timeline_entries")
    finally:
        await pool.close()
    return _p99_result(
        "timeline page query p99 (50 entries, keyset cursor)", ours,
        "primary-key lookup of one entry on the same table", bare, 20,
        {"entries": total, "queries": queries, "whales": 10, "whale_entries": total // 10 // 10},
    )  # fmt: skip


def _p99_result(
    metric: str,
    ours: list[float],
    baseline: str,
    bare: list[float],
    target_ms: float,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    """A query latency benchmark's result: our p99 next to the bare query's (ms)."""
    p99, b99 = percentile(ours, 99), percentile(bare, 99)
    return {
        "metric": metric,
        "unit": "ms",
        "value": round(p99, 2),
        "p50_ms": round(percentile(ours, 50), 2),
        "baseline": baseline,
        "baseline_value": round(b99, 2),
        "ratio": round(p99 / b99, 1),
        "target": f"p99 < {target_ms:g} ms",
        "target_met": p99 < target_ms,
        "parameters": parameters,
    }
