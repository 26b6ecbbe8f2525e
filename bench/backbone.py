"""Backbone benchmarks: append, relay, end-to-end latency (issue: event backbone).

Each runs next to a bare baseline on the same PostgreSQL and broker in the same run and
reports the ratio, because these machines are noisy.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from functools import partial
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer

from bench.common import ROOT, Endpoints, median, percentile
from contracts.envelope import partition_key
from contracts.events.sales import PurchaseMade
from contracts.money import Money
from contracts.topics import TopicSpec
from services.platform.db import apply_sql, create_pool
from services.platform.eventstore import EventStore
from services.platform.kafka import ensure_topics, make_producer
from services.platform.relay import OutboxRelay
from services.platform.relay_main import EVENTSTORE_SQL


def purchase(n: int) -> PurchaseMade:
    return PurchaseMade(
        order_id=uuid.uuid4(),
        customer_id=f"cust-{n % 5000}",
        total=Money(amount=Decimal("149.90"), currency="BRL"),
        channel="web",
    )


async def _fresh_schema(ep: Endpoints, name: str, *sql: Any, max_size: int = 20) -> asyncpg.Pool:
    admin = await asyncpg.connect(ep.database_url)
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await admin.close()
    pool = await create_pool(ep.database_url, name, min_size=2, max_size=max_size)
    await apply_sql(pool, name, list(sql))
    return pool


# --------------------------------------------------------------------------- append
BARE_TABLE = """
CREATE TABLE IF NOT EXISTS bare_events (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id uuid NOT NULL, stream_id text NOT NULL, stream_version integer NOT NULL,
    event_type text NOT NULL, schema_version integer NOT NULL, source text NOT NULL,
    customer_id text, occurred_at timestamptz NOT NULL, payload jsonb NOT NULL)
"""


async def bench_append(ep: Endpoints, writers: int = 8, per_writer: int = 500, rounds: int = 3):
    """Single-event commands from concurrent writers vs a bare INSERT + COMMIT."""
    pool = await _fresh_schema(ep, "bench_append", EVENTSTORE_SQL, max_size=writers + 2)
    await pool.execute(BARE_TABLE)
    store = EventStore(pool, "/crm/bench", keys=None)
    events = [purchase(n) for n in range(writers * per_writer)]
    payloads = [e.model_dump_json() for e in events]

    async def store_writer(w: int, round_: int) -> None:
        for k in range(per_writer):
            # A stream per 50 commands: the version check reads a realistic stream.
            stream, version = f"r{round_}-w{w}-s{k // 50}", k % 50
            await store.append(stream, version, [events[w * per_writer + k]])

    async def bare_writer(w: int, round_: int) -> None:
        # Same footing as the store: a pooled connection per command, one statement.
        for k in range(per_writer):
            n = w * per_writer + k
            async with pool.acquire() as conn:
                await conn.execute(
                    "INSERT INTO bare_events (event_id, stream_id, stream_version, event_type, "
                    "schema_version, source, customer_id, occurred_at, payload) "
                    "VALUES ($1, $2, $3, $4, 1, '/crm/bench', $5, now(), $6::jsonb)",
                    uuid.uuid4(),
                    f"r{round_}-w{w}-s{k // 50}",
                    k % 50 + 1,
                    events[n].event_type,
                    events[n].customer_id,
                    payloads[n],
                )

    async def timed(fn: Any, round_: int) -> float:
        start = time.perf_counter()
        await asyncio.gather(*(fn(w, round_) for w in range(writers)))
        return writers * per_writer / (time.perf_counter() - start)

    ours, bare = [], []
    for round_ in range(rounds):  # interleaved, so drift affects both sides alike
        bare.append(await timed(bare_writer, round_))
        ours.append(await timed(store_writer, round_))
    await pool.close()
    value, baseline = median(ours), median(bare)
    return {
        "metric": "append throughput, single-event commands",
        "unit": "events/s",
        "value": round(value, 1),
        "baseline": "bare INSERT + COMMIT of the same row, same concurrency",
        "baseline_value": round(baseline, 1),
        "ratio": round(value / baseline, 3),
        "target": ">= 0.7 of baseline",
        "target_met": value / baseline >= 0.7,
        "parameters": {"writers": writers, "events_per_writer": per_writer, "rounds": rounds,
                       "rounds_ours": [round(x) for x in ours],
                       "rounds_bare": [round(x) for x in bare]},
    }  # fmt: skip


# ---------------------------------------------------------------------------- relay
async def bench_relay(ep: Endpoints, count: int = 30000):
    """Store-to-Kafka throughput of the relay vs a bare producer sending the same records."""
    pool = await _fresh_schema(ep, "bench_relay", EVENTSTORE_SQL)
    store = EventStore(pool, "/crm/bench", keys=None)
    run = uuid.uuid4().hex[:8]
    ours_topic, bare_topic = f"bench.{run}.relay", f"bench.{run}.bare"
    await ensure_topics(
        ep.kafka_bootstrap, [TopicSpec(ours_topic, 6, "bench"), TopicSpec(bare_topic, 6, "bench")]
    )
    batch = 500
    for start in range(0, count, batch):
        await asyncio.gather(
            *(
                store.append(f"order-{n}", 0, [purchase(n)])
                for n in range(start, min(count, start + batch))
            )
        )
    # The bare producer gets exactly the bytes the relay will send, prepared in advance.
    recorded = []
    after = 0
    while len(recorded) < count:
        chunk = await store.read_all(after, 5000)
        recorded.extend(chunk)
        after = chunk[-1].global_position
    envelopes = [r.to_cloudevent() for r in recorded]
    prepared = [(e.to_json_bytes(), partition_key(e), e.kafka_headers()) for e in envelopes]

    producer = make_producer(ep.kafka_bootstrap)
    await producer.start()
    await producer.client.force_metadata_update()
    start = time.perf_counter()
    futures = []
    # The physical limit: send everything, wait for the acknowledgements once at the end.
    for value, key, headers in prepared:
        futures.append(await producer.send(bare_topic, value=value, key=key, headers=headers))
    await asyncio.gather(*futures)
    bare_seconds = time.perf_counter() - start
    await producer.stop()

    relay = OutboxRelay(pool, partial(make_producer, ep.kafka_bootstrap), ours_topic)
    await relay.connect()  # both sides start with a connected producer
    stop = asyncio.Event()
    start = time.perf_counter()
    task = asyncio.create_task(relay.run(stop))
    while relay.published_total < count:  # noqa: ASYNC110 (polling a counter, not an event)
        await asyncio.sleep(0.005)
    relay_seconds = time.perf_counter() - start
    stop.set()
    await task
    await pool.close()
    value, baseline = count / relay_seconds, count / bare_seconds
    return {
        "metric": "relay throughput, store to Kafka (acks=all, idempotent)",
        "unit": "events/s",
        "value": round(value, 1),
        "baseline": "bare aiokafka producer, same records, same acks and idempotence",
        "baseline_value": round(baseline, 1),
        "ratio": round(value / baseline, 3),
        "target": ">= 0.5 of baseline",
        "target_met": value / baseline >= 0.5,
        "parameters": {"events": count, "relay_batch_size": relay.batch_size, "partitions": 6},
    }


# ---------------------------------------------------------------------- end to end
async def bench_end_to_end(ep: Endpoints, rate: int = 1000, seconds: int = 10):
    """Append commit to read-model commit at a steady rate, vs bare Kafka produce->consume."""
    pool = await _fresh_schema(ep, "bench_e2e", EVENTSTORE_SQL, max_size=20)
    store = EventStore(pool, "/crm/bench", keys=None)
    run = uuid.uuid4().hex[:8]
    topic, dlt, bare_topic = f"bench.{run}.e2e", f"bench.{run}.dlt", f"bench.{run}.e2e-bare"
    await ensure_topics(
        ep.kafka_bootstrap,
        [TopicSpec(topic, 6, "b"), TopicSpec(dlt, 1, "b"), TopicSpec(bare_topic, 6, "b")],
    )
    exact = bool(await pool.fetchval("SELECT current_setting('track_commit_timestamp') = 'on'"))
    total = rate * seconds

    # Baseline: the same rate through a bare producer and a bare consumer.
    bare_latencies = await _bare_kafka_latency(ep, bare_topic, rate, total)

    # Relay and projector run as their own processes, as in production (make run).
    env = {
        **os.environ,
        "CRM_DATABASE_URL": ep.database_url,
        "CRM_KAFKA_BOOTSTRAP": ep.kafka_bootstrap,
        "CRM_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(ROOT),
    }
    relay_proc = subprocess.Popen(  # noqa: ASYNC220 (started once, before measuring)
        [sys.executable, "-m", "services.platform.relay_main", "--schema", "bench_e2e",
         "--topic", topic],
        env=env, cwd=ROOT,
    )  # fmt: skip
    projector_proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "projections", "run", "timeline", "--as", f"bench_e2e_{run}",
         "--topic", topic, "--dlt", dlt],
        env=env, cwd=ROOT,
    )  # fmt: skip
    await asyncio.sleep(6)  # processes started, consumer group formed, relay leader
    sem = asyncio.Semaphore(16)

    async def one(n: int) -> None:
        async with sem:
            await store.append(f"order-{n}", 0, [purchase(n)])

    start = time.perf_counter()
    pending = []
    for n in range(total):
        # Open-loop pacing: commands are issued on schedule whatever the latency.
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(one(n)))
    await asyncio.gather(*pending)
    achieved_rate = total / (time.perf_counter() - start)
    deadline = time.monotonic() + 60
    entries = f"bench_e2e_{run}_v1.timeline_entries"  # the version table: views hide xmin
    for _ in range(100):  # the projector creates its version when it starts
        if await pool.fetchval("SELECT to_regclass($1) IS NOT NULL", entries):
            break
        await asyncio.sleep(0.1)
    while await pool.fetchval(f"SELECT count(*) FROM {entries}") < total:
        if time.monotonic() > deadline:
            raise TimeoutError("read model did not catch up")
        await asyncio.sleep(0.2)
    for proc in (relay_proc, projector_proc):
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    if exact:
        query = """
            SELECT extract(epoch FROM pg_xact_commit_timestamp(t.xmin)
                                    - pg_xact_commit_timestamp(e.xmin)) * 1000 AS ms
            FROM {entries} t JOIN events e ON e.event_id::text = t.event_id"""
    else:
        query = """
            SELECT extract(epoch FROM t.projected_at - e.recorded_at) * 1000 AS ms
            FROM {entries} t JOIN events e ON e.event_id::text = t.event_id"""
    latencies = [float(r["ms"]) for r in await pool.fetch(query.format(entries=entries))]
    admin = await asyncpg.connect(ep.database_url)
    try:  # the benchmark's projection is throwaway
        for schema in (f"bench_e2e_{run}_v1", f"bench_e2e_{run}"):
            await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        await admin.execute(
            "DELETE FROM crm_projections.versions WHERE projection = $1", f"bench_e2e_{run}"
        )
    finally:
        await admin.close()
    await pool.close()
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    b50, b99 = percentile(bare_latencies, 50), percentile(bare_latencies, 99)
    return {
        "metric": "end-to-end latency p99, append commit to read-model commit",
        "unit": "ms",
        "value": round(p99, 1),
        "p50_ms": round(p50, 1),
        "p99_ms": round(p99, 1),
        "max_ms": round(max(latencies), 1),
        "baseline": "bare aiokafka produce -> consume p99 at the same rate (no database)",
        "baseline_value": round(b99, 1),
        "baseline_p50_ms": round(b50, 1),
        "ratio": round(p99 / b99, 2) if b99 else None,
        "target": "p99 < 250 ms",
        "target_met": p99 < 250,
        "parameters": {
            "rate_per_s": rate,
            "achieved_rate_per_s": round(achieved_rate, 1),
            "events": total,
            "clock": "pg_xact_commit_timestamp" if exact else "row timestamps",
        },
    }


async def _bare_kafka_latency(ep: Endpoints, topic: str, rate: int, total: int) -> list[float]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=ep.kafka_bootstrap, group_id=f"bare-{topic}",
        auto_offset_reset="earliest", enable_auto_commit=False,
    )  # fmt: skip
    await consumer.start()
    producer = make_producer(ep.kafka_bootstrap)
    await producer.start()
    latencies: list[float] = []

    async def consume() -> None:
        while len(latencies) < total:
            batch = await consumer.getmany(timeout_ms=100)
            now = time.time()
            for records in batch.values():
                for r in records:
                    latencies.append((now - orjson.loads(r.value)["t"]) * 1000)
            if batch:
                await consumer.commit()

    reader = asyncio.create_task(consume())
    await asyncio.sleep(2)
    start = time.perf_counter()
    for n in range(total):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        await producer.send(topic, orjson.dumps({"t": time.time(), "n": n}), key=b"%d" % (n % 5000))
    await producer.flush()
    await asyncio.wait_for(reader, timeout=60)
    await producer.stop()
    await consumer.stop()
    return latencies
