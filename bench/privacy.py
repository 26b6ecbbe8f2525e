"""Privacy benchmarks (issue 11): what sealing costs writers and rebuilds, and how long an
erasure takes to reach every read model.

- privacy_append: commands whose events carry personal data, sealed with their subjects'
  keys (new subjects' keys created on the way), next to the same appends in plain text;
- privacy_replay: a timeline rebuild of a topic of sealed events next to the same rebuild
  of the same events in plain text;
- erasure: seconds from an erasure (key destroyed, event published) until the timeline
  and the customer 360 both recorded that they forgot a subject with 10,000 events, next
  to the time one ordinary event of the subject takes to reach both.

Each uses a key registry schema of its own, so benchmarks never fill ``crm_privacy``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

from bench.backbone import _fresh_schema
from bench.common import Endpoints, median
from contracts.envelope import CloudEvent, partition_key
from contracts.events.privacy import PersonalDataErased
from contracts.events.sales import ActivityLogged, ContactRegistered
from contracts.registry import DomainEvent
from contracts.topics import TopicSpec
from projections.registry import customer360, timeline
from services.platform.db import apply_sql
from services.platform.eventstore import EventStore
from services.platform.kafka import ensure_topics, make_producer
from services.platform.privacy.codec import seal_cloudevents
from services.platform.privacy.data_keys import DATA_KEYS, SCHEMA_SETTING, DataKeys
from services.platform.privacy.master import master_key_from_environment
from services.platform.projection import rebuild, run_live
from services.platform.relay_main import EVENTSTORE_SQL


def activity(customer: str, n: int) -> ActivityLogged:
    return ActivityLogged(
        activity_id=uuid.uuid4(), customer_id=customer, kind="call",
        subject=f"Ligação de retorno {n} para Maria Aparecida dos Santos",
        notes="Cliente pediu proposta por e-mail maria.aparecida@exemplo.com.br; "
        "telefone +5511987654321; CPF 529.982.247-25 conferido.",
        happened_at=datetime.now(UTC),
    )  # fmt: skip


@contextlib.contextmanager
def _key_schema(name: str) -> Iterator[None]:
    """Readers in this process (and the replaying processes it starts) use ``name``."""
    before = os.environ.get(SCHEMA_SETTING)
    os.environ[SCHEMA_SETTING] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SCHEMA_SETTING, None)
        else:
            os.environ[SCHEMA_SETTING] = before


async def _key_registry(pool: asyncpg.Pool, schema: str) -> DataKeys:
    await apply_sql(pool, schema, [DATA_KEYS])
    return await DataKeys.open(pool, master_key_from_environment(), schema)


async def _drop(ep: Endpoints, *schemas: str) -> None:
    conn = await asyncpg.connect(ep.database_url)
    try:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


# --------------------------------------------------------------------------- append
async def bench_privacy_append(
    ep: Endpoints, writers: int = 8, per_writer: int = 400, rounds: int = 3
) -> dict[str, Any]:
    pool = await _fresh_schema(ep, "bench_privacy_append", EVENTSTORE_SQL, max_size=writers + 4)
    keys = await _key_registry(pool, "bench_privacy_append")
    sealed_store = EventStore(pool, "/crm/bench", keys=keys)
    plain_store = EventStore(pool, "/crm/bench", keys=None)
    per_subject = 10  # each subject: 10 events, the first makes its key
    subjects_per_round = writers * per_writer // per_subject

    def events(round_: int, side: str) -> list[DomainEvent]:
        # A customer's commands come one after another (one writer), not all at once.
        return [activity(f"{side}-r{round_}-c{n // per_subject}", n)
                for n in range(writers * per_writer)]  # fmt: skip

    async def run(store: EventStore, batch: list[DomainEvent], round_: int, side: str) -> float:
        async def writer(w: int) -> None:
            for k in range(per_writer):
                stream, version = f"{side}-r{round_}-w{w}-s{k // 50}", k % 50
                await store.append(stream, version, [batch[w * per_writer + k]])

        start = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        return writers * per_writer / (time.perf_counter() - start)

    sealed, plain = [], []
    for round_ in range(rounds):  # interleaved, so drift affects both sides alike
        plain.append(await run(plain_store, events(round_, "p"), round_, "p"))
        sealed.append(await run(sealed_store, events(round_, "s"), round_, "s"))
    # The same subjects again: every key known, as for most of a CRM's traffic.
    known_plain = await run(plain_store, events(0, "p"), rounds, "p")
    known_sealed = await run(sealed_store, events(0, "s"), rounds, "s")
    stored = await pool.fetchval(
        "SELECT count(*) FROM events WHERE stream_id LIKE 's-%' AND payload ? 'personal'"
    )
    await pool.close()
    await _drop(ep, "bench_privacy_append")
    value, baseline = median(sealed), median(plain)
    return {
        "metric": "append throughput of single-event commands carrying personal data, sealed",
        "unit": "events/s",
        "value": round(value, 1),
        "baseline": "the same appends with personal fields in plain text (no key registry)",
        "baseline_value": round(baseline, 1),
        "ratio": round(value / baseline, 3),
        "target": ">= 0.8 of baseline",
        "target_met": value / baseline >= 0.8,
        "parameters": {
            "writers": writers, "events_per_writer": per_writer, "rounds": rounds,
            "new_subjects_per_round": subjects_per_round,
            "events_per_subject": per_subject,
            "sealed_events_stored": stored,
            "known_subjects_only": {"sealed": round(known_sealed), "plain": round(known_plain),
                                    "ratio": round(known_sealed / known_plain, 3)},
            "rounds_sealed": [round(x) for x in sealed], "rounds_plain": [round(x) for x in plain],
        },
    }  # fmt: skip


# --------------------------------------------------------------------------- replay
async def _publish(ep: Endpoints, topic: str, envelopes: list[CloudEvent]) -> None:
    await ensure_topics(ep.kafka_bootstrap, [TopicSpec(topic, 6, "benchmark")])
    producer = make_producer(ep.kafka_bootstrap, linger_ms=20)
    await producer.start()
    try:
        for start in range(0, len(envelopes), 20_000):
            sends = [
                await producer.send(topic, e.to_json_bytes(), key=partition_key(e),
                                    headers=e.kafka_headers())
                for e in envelopes[start : start + 20_000]
            ]  # fmt: skip
            await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def _delete_topics(ep: Endpoints, *topics: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=ep.kafka_bootstrap)
    await admin.start()
    try:
        await admin.delete_topics(list(topics))
    finally:
        await admin.close()


def _envelope(event: DomainEvent, n: int) -> CloudEvent:
    return CloudEvent(
        id=str(uuid.uuid4()), source="/bench/crm", type=event.event_type,
        time=datetime.now(UTC), customerid=event.customer(), streamid=f"activity-{n}",
        streamversion=1, schemaversion=type(event).schema_version,
        data=event.model_dump(mode="json"),
    )  # fmt: skip


async def _timed_rebuild(ep: Endpoints, topic: str, dlt: str) -> tuple[float, str]:
    name = f"bench_pr_{uuid.uuid4().hex[:6]}"
    spec = dataclasses.replace(timeline(), name=name, topics=(topic,), dead_letter_topic=dlt)
    started = time.perf_counter()
    await rebuild(ep.kafka_bootstrap, ep.database_url, spec)
    seconds = time.perf_counter() - started
    conn = await asyncpg.connect(ep.database_url)
    try:
        await conn.execute("DELETE FROM crm_projections.versions WHERE projection = $1", name)
    finally:
        await conn.close()
    await _drop(ep, name, f"{name}_v1")
    return seconds, name


async def bench_privacy_replay(
    ep: Endpoints, count: int = 100_000, customers: int = 5_000
) -> dict[str, Any]:
    key_schema = f"bench_privacy_keys_{uuid.uuid4().hex[:6]}"
    pool = await asyncpg.create_pool(ep.database_url, min_size=1, max_size=4)
    assert pool is not None
    keys = await _key_registry(pool, key_schema)
    events = [activity(f"cust-{n % customers}", n) for n in range(count)]
    plain = [_envelope(e, n) for n, e in enumerate(events)]
    sealed = await seal_cloudevents(keys, list(zip(plain, events, strict=True)))
    tag = uuid.uuid4().hex[:6]
    plain_topic, sealed_topic = f"bench.privacy.{tag}.plain", f"bench.privacy.{tag}.sealed"
    dlt = f"bench.privacy.{tag}.dlt"
    await ensure_topics(ep.kafka_bootstrap, [TopicSpec(dlt, 1, "benchmark")])
    await _publish(ep, plain_topic, plain)
    await _publish(ep, sealed_topic, sealed)
    opened, bare = [], []
    with _key_schema(key_schema):
        for _ in range(2):  # interleaved
            seconds, _name = await _timed_rebuild(ep, plain_topic, dlt)
            bare.append(count / seconds)
            seconds, _name = await _timed_rebuild(ep, sealed_topic, dlt)
            opened.append(count / seconds)
    await pool.close()
    await _drop(ep, key_schema)
    await _delete_topics(ep, plain_topic, sealed_topic, dlt)
    value, baseline = median(opened), median(bare)
    return {
        "metric": "timeline rebuild from offset 0 of events whose personal fields are sealed "
        "(keys fetched per batch, boxes opened)",
        "unit": "events/s",
        "value": round(value, 1),
        "baseline": "the same rebuild of the same events in plain text",
        "baseline_value": round(baseline, 1),
        "ratio": round(value / baseline, 3),
        "target": ">= 0.8 of baseline",
        "target_met": value / baseline >= 0.8,
        "parameters": {
            "events": count,
            "subjects": customers,
            "partitions": 6,
            "runs_sealed": [round(x) for x in opened],
            "runs_plain": [round(x) for x in bare],
        },
    }


# -------------------------------------------------------------------------- erasure
@contextlib.asynccontextmanager
async def _live(ep: Endpoints, topics: tuple[str, ...], dlt: str) -> AsyncIterator[list[str]]:
    """Both projections following ``topics`` live, under names of their own."""
    tag = uuid.uuid4().hex[:6]
    specs = [
        dataclasses.replace(make(), name=f"bench_er_{make.__name__}_{tag}", topics=topics,
                            dead_letter_topic=dlt)
        for make in (timeline, customer360)
    ]  # fmt: skip
    stop = asyncio.Event()
    tasks = [asyncio.create_task(run_live(ep.kafka_bootstrap, ep.database_url, s, stop, 0.2))
             for s in specs]  # fmt: skip
    try:
        yield [s.name for s in specs]
    finally:
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
        conn = await asyncpg.connect(ep.database_url)
        try:
            for spec in specs:
                await conn.execute(
                    "DELETE FROM crm_projections.versions WHERE projection = $1", spec.name
                )
        finally:
            await conn.close()
        await _drop(ep, *(s for spec in specs for s in (spec.name, f"{spec.name}_v1")))


async def _until(check: Any, within: float) -> float:
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > within:
            raise TimeoutError("the read models did not get there in time")
        await asyncio.sleep(0.02)
    return time.perf_counter() - started


async def bench_erasure(ep: Endpoints, events: int = 10_000) -> dict[str, Any]:
    key_schema = f"bench_privacy_keys_{uuid.uuid4().hex[:6]}"
    pool = await asyncpg.create_pool(ep.database_url, min_size=1, max_size=4)
    assert pool is not None
    keys = await _key_registry(pool, key_schema)
    subject = str(uuid.uuid4())
    history: list[DomainEvent] = [
        ContactRegistered(contact_id=uuid.UUID(subject), customer_id=subject,
                          first_name="Maria", last_name="Aparecida", emails=["m@exemplo.com"]),
        *(activity(subject, n) for n in range(events - 1)),
    ]  # fmt: skip
    plain = [_envelope(e, n) for n, e in enumerate(history)]
    sealed = await seal_cloudevents(keys, list(zip(plain, history, strict=True)))
    tag = uuid.uuid4().hex[:6]
    sales, privacy, dlt = (f"bench.erasure.{tag}.{t}" for t in ("sales", "privacy", "dlt"))
    await ensure_topics(ep.kafka_bootstrap, [TopicSpec(t, 3, "benchmark")
                                             for t in (sales, privacy, dlt)])  # fmt: skip
    await _publish(ep, sales, sealed)
    conn = await asyncpg.connect(ep.database_url)
    try:
        with _key_schema(key_schema):
            async with _live(ep, (sales, privacy), dlt) as (tl, c360):

                async def applied(count: int) -> bool:
                    try:
                        return await _applied(count)
                    except asyncpg.UndefinedTableError:  # the projections are starting
                        return False

                async def _applied(count: int) -> bool:
                    got = await conn.fetchval(
                        f"SELECT count(*) FROM {tl}.timeline_entries WHERE customer_id = $1",
                        subject,
                    )
                    profile = await conn.fetchval(
                        f"SELECT count(*) FROM {c360}.customer_profiles WHERE customer_id = $1",
                        subject,
                    )
                    return bool(got >= count and profile)

                await _until(lambda: applied(events), 600)
                one_more = activity(subject, events)
                [envelope] = await seal_cloudevents(keys, [(_envelope(one_more, events), one_more)])
                started = time.perf_counter()
                await _publish(ep, sales, [envelope])
                await _until(lambda: applied(events + 1), 120)
                one_event = time.perf_counter() - started

                request = uuid.uuid4()
                erased = PersonalDataErased(
                    request_id=request, customer_id=subject, requested_by="bench",
                    erased_at=datetime.now(UTC),
                )  # fmt: skip
                started = time.perf_counter()
                async with pool.acquire() as keys_conn:
                    await keys.destroy(keys_conn, [subject])
                await _publish(ep, privacy, [_envelope(erased, 0)])

                async def forgotten() -> bool:
                    stores = await conn.fetchval(
                        f"SELECT count(*) FROM {key_schema}.erasure_progress WHERE request_id = $1",
                        request,
                    )
                    return bool(stores >= 2)

                await _until(forgotten, 300)
                seconds = time.perf_counter() - started
                leftover = await conn.fetchval(
                    f"SELECT count(*) FROM {tl}.timeline_entries WHERE customer_id = $1 "
                    "AND payload::text LIKE '%Maria Aparecida%'",
                    subject,
                )
    finally:
        await conn.close()
        await pool.close()
        await _drop(ep, key_schema)
        await _delete_topics(ep, sales, privacy, dlt)
    return {
        "metric": "erasure of one subject with 10,000 events: key destroyed and event "
        "published, until the timeline and the customer 360 both forgot the subject",
        "unit": "s",
        "value": round(seconds, 3),
        "baseline": "one ordinary event of the subject reaching both read models",
        "baseline_value": round(one_event, 3),
        "ratio": round(seconds / one_event, 2),
        "target": "< 10 s",
        "target_met": seconds < 10,
        "parameters": {
            "events_of_the_subject": events + 1,
            "entries_still_naming_the_subject_after": leftover,
        },
    }
