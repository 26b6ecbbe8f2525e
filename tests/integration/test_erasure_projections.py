"""Every read model forgets an erased subject, and a rebuild from offset 0 agrees.

Real Kafka and PostgreSQL: a subject's events are published sealed with its key, both
projections follow the topics live, the key is destroyed and ``PersonalDataErased``
published; the projections' rows must then hold no trace of the subject's personal data
(another subject's stay whole), and a rebuild of each projection (every sealed event
now opening erased) must give the very rows the live erasure left.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from contracts.envelope import CloudEvent
from contracts.events.privacy import PersonalDataErased
from contracts.events.sales import (
    AccountRegistered,
    ActivityLogged,
    Address,
    ContactRegistered,
    OpportunityOpened,
    PurchaseMade,
    TaxId,
)
from contracts.money import Money
from contracts.registry import DomainEvent
from projections.customer360.model import Profile
from projections.customer360.time_travel import profile_as_of
from projections.registry import customer360, timeline
from projections.timeline.projector import SCHEMA_SQL as TIMELINE_SQL
from projections.timeline.projector import project, project_batch
from services.platform.privacy.codec import seal_cloudevents
from services.platform.privacy.data_keys import DataKeys
from services.platform.projection import ProjectionSpec, rebuild, run_live
from tests.kafka_helpers import publish
from tests.projection_helpers import cloud_event, consumed, one_by_one_and_batched

pytestmark = pytest.mark.integration

T0 = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
TRACES = (
    "Helena",
    "Vasconcelos",
    "helena@vasconcelos.com.br",
    "5511987651234",
    "52998224725",
    "Jundiai",
    "Jundiaí",
    "Fazenda",
)
"""The erased subject's personal values (and its city, a search column)."""


def subject_history(subject: str) -> list[DomainEvent]:
    account = uuid.UUID(subject)
    return [
        AccountRegistered(
            account_id=account,
            customer_id=subject,
            name="Fazenda Vasconcelos",
            kind="company",
            tax_id=TaxId(scheme="cpf", number="52998224725", country="BR"),
            phones=["+5511987651234"],
            emails=["helena@vasconcelos.com.br"],
            address=Address(city="Jundiaí", state="SP", country="BR"),
        ),
        ContactRegistered(
            contact_id=uuid.uuid4(),
            customer_id=subject,
            account_id=account,
            first_name="Helena",
            last_name="Vasconcelos",
            emails=["helena@vasconcelos.com.br"],
        ),
        OpportunityOpened(
            opportunity_id=uuid.uuid4(),
            customer_id=subject,
            title="Irrigação Helena",
            amount=Money(amount=Decimal("5000"), currency="BRL"),
        ),
        ActivityLogged(
            activity_id=uuid.uuid4(),
            customer_id=subject,
            kind="call",
            subject="Helena pediu proposta",
            happened_at=T0 + timedelta(days=2),
        ),
        PurchaseMade(
            order_id=uuid.uuid4(),
            customer_id=subject,
            total=Money(amount=Decimal("320.50"), currency="BRL"),
        ),
    ]


def bystander_history(other: str) -> list[DomainEvent]:
    return [
        AccountRegistered(
            account_id=uuid.UUID(other),
            customer_id=other,
            name="Oficina Ribeiro",
            kind="company",
            phones=["+5511911112222"],
            address=Address(city="Campinas", state="SP", country="BR"),
        ),
    ]


def envelopes(events: list[DomainEvent]) -> list[CloudEvent]:
    return [cloud_event(e, T0 + timedelta(days=n)) for n, e in enumerate(events)]


@contextlib.asynccontextmanager
async def throwaway(
    database_url: str, topic_factory: Callable[..., Awaitable[str]]
) -> AsyncIterator[tuple[ProjectionSpec, ProjectionSpec, str, str]]:
    """Both projections under names of their own, reading a sales and a privacy topic
    of their own; their schemas and catalogue rows are gone afterwards."""
    tag = uuid.uuid4().hex[:8]
    sales, privacy, dlt = (
        await topic_factory(),
        await topic_factory("privacy"),
        await topic_factory("dlt"),
    )
    specs = [
        dataclasses.replace(
            make(), name=f"{prefix}_{tag}", topics=(sales, privacy), dead_letter_topic=dlt
        )
        for prefix, make in (("tl", timeline), ("c360", customer360))
    ]
    yield specs[0], specs[1], sales, privacy
    conn = await asyncpg.connect(database_url)
    try:
        for spec in specs:
            versions = await conn.fetch(
                "SELECT schema_name FROM crm_projections.versions WHERE projection = $1",
                spec.name,
            )
            for schema in (spec.name, *(row["schema_name"] for row in versions)):
                await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            await conn.execute(
                "DELETE FROM crm_projections.versions WHERE projection = $1", spec.name
            )
    finally:
        await conn.close()


async def wait_for(conn: asyncpg.Connection, query: str, *args: Any, timeout: float = 60) -> None:
    """Until ``query`` (one boolean) holds; the projections' schemas may not exist yet."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        with contextlib.suppress(asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
            if await conn.fetchval(query, *args):
                return
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"waited {timeout:g} s for: {query} {args}")
        await asyncio.sleep(0.2)


TIMELINE_ROWS = (
    "SELECT to_jsonb(t) - 'projected_at' AS r FROM {}.timeline_entries t "
    "WHERE named_customer_id = $1 ORDER BY event_source, event_id"
)
PROFILE_ROWS = "SELECT to_jsonb(p) AS r FROM {}.customer_profiles p WHERE customer_id = $1"


async def rows(conn: asyncpg.Connection, query: str, schema: str, customer: str) -> list[str]:
    return [r["r"] for r in await conn.fetch(query.format(schema), customer)]


@pytest.mark.timeout(300)
async def test_both_projections_forget_the_subject_and_a_rebuild_agrees(
    infra, topic_factory, data_keys: DataKeys
):
    subject, other = str(uuid.uuid4()), str(uuid.uuid4())
    async with throwaway(infra.database_url, topic_factory) as (tl, c360, sales, privacy):
        events = subject_history(subject) + bystander_history(other)
        sealed = await seal_cloudevents(
            data_keys, list(zip(envelopes(events), events, strict=True))
        )
        assert not any("Helena" in e.model_dump_json() for e in sealed)  # sealed on the wire
        await publish(infra.kafka_bootstrap, sales, list(sealed))
        stop = asyncio.Event()
        live = [
            asyncio.create_task(
                run_live(infra.kafka_bootstrap, infra.database_url, spec, stop, poll=0.5)
            )
            for spec in (tl, c360)
        ]
        conn = await asyncpg.connect(infra.database_url)
        try:
            await wait_for(
                conn,
                f"SELECT count(*) = 5 FROM {tl.name}.timeline_entries WHERE named_customer_id = $1",
                subject,
            )
            await wait_for(
                conn,
                f"SELECT display_name = 'Fazenda Vasconcelos' AND "
                f"lifetime_value ? 'BRL' FROM {c360.name}.customer_profiles "
                "WHERE customer_id = $1",
                subject,
            )
            await wait_for(
                conn,
                f"SELECT EXISTS (SELECT 1 FROM {c360.name}.search_words "
                "WHERE word = 'vasconcelos')",
            )
            # The erasure: the privacy context destroys the key, then says so.
            async with conn.transaction():
                assert await data_keys.destroy(conn, [subject]) == [subject]
            request = uuid.uuid4()
            erasure = PersonalDataErased(
                request_id=request,
                customer_id=subject,
                requested_by="dpo-7",
                erased_at=T0 + timedelta(days=30),
            )
            await publish(
                infra.kafka_bootstrap,
                privacy,
                [cloud_event(erasure, T0 + timedelta(days=30), source="/crm/privacy")],
            )
            await wait_for(
                conn,
                f"SELECT (profile->>'erased')::boolean FROM "
                f"{c360.name}.customer_profiles WHERE customer_id = $1",
                subject,
            )
            await wait_for(
                conn,
                f"SELECT EXISTS (SELECT 1 FROM {tl.name}.timeline_entries "
                "WHERE named_customer_id = $1 AND summary = 'Personal data erased') "
                f"AND NOT EXISTS (SELECT 1 FROM {tl.name}.timeline_entries "
                "WHERE named_customer_id = $1 AND summary LIKE '%Helena%')",
                subject,
            )

            tl_live = await rows(conn, TIMELINE_ROWS, tl.name, subject)
            c360_live = await rows(conn, PROFILE_ROWS, c360.name, subject)
            assert len(tl_live) == 6 and len(c360_live) == 1
            words = [
                r["word"] for r in await conn.fetch(f"SELECT word FROM {c360.name}.search_words")
            ]
            everything = " ".join([*tl_live, *c360_live, *words]).lower()
            for trace in TRACES:
                assert trace.lower() not in everything, trace
            # What is nobody's personal data stays: the purchase and the deal's amount.
            assert '"320.50"' in c360_live[0] and "Purchase of 320.50 BRL" in " ".join(tl_live)
            found = await conn.fetchval(
                f"SELECT count(*) FROM {c360.name}.customer_profiles WHERE search_text <> '' "
                "AND (search_norm LIKE '%helena%' OR '5511987651234' = ANY(phones_digits) "
                "OR city IS NOT NULL) AND customer_id = $1",
                subject,
            )
            assert found == 0
            # Time travel folds the erased entries, the erasure among them: the live profile.
            past = await asyncpg.connect(
                infra.database_url, server_settings={"search_path": f"{tl.name}, public"}
            )
            try:
                then = await profile_as_of(past, subject, T0 + timedelta(days=60))
            finally:
                await past.close()
            stored = await conn.fetchval(
                f"SELECT profile FROM {c360.name}.customer_profiles WHERE customer_id = $1",
                subject,
            )
            assert then is not None and then == Profile.model_validate_json(stored)
            # The bystander keeps everything, its dictionary words included.
            assert (
                await conn.fetchval(
                    f"SELECT display_name FROM {c360.name}.customer_profiles "
                    "WHERE customer_id = $1",
                    other,
                )
                == "Oficina Ribeiro"
            )
            assert {"oficina", "ribeiro", "campinas"} <= set(words)
            assert await conn.fetchval(
                f"SELECT summary FROM {tl.name}.timeline_entries WHERE named_customer_id = $1",
                other,
            ) == ("Account registered: Oficina Ribeiro (company)")
            done = await conn.fetch(
                "SELECT store, subject_id FROM crm_privacy.erasure_progress WHERE request_id = $1",
                request,
            )
            assert sorted(tuple(r) for r in done) == [
                ("customer360", subject),
                ("timeline", subject),
            ]
        finally:
            stop.set()
            await asyncio.gather(*live)
        try:
            # Rebuilt from offset 0 with the key gone: the same rows as the live erasure left.
            for spec in (tl, c360):
                assert (await rebuild(infra.kafka_bootstrap, infra.database_url, spec)).number == 2
            assert await rows(conn, TIMELINE_ROWS, f"{tl.name}_v2", subject) == tl_live
            assert await rows(conn, PROFILE_ROWS, f"{c360.name}_v2", subject) == c360_live
        finally:
            await conn.close()


@pytest.mark.timeout(180)
async def test_forgetting_ten_thousand_timeline_entries_is_one_quick_rewrite(pool_factory, schema):
    subject = str(uuid.uuid4())
    calls = [
        consumed(
            ActivityLogged(
                activity_id=uuid.uuid4(),
                customer_id=subject,
                kind="call",
                subject=f"Helena call {n}",
                happened_at=T0,
            ),
            T0,
        )
        for n in range(10_000)
    ]
    pool = await pool_factory(schema, TIMELINE_SQL)
    async with pool.acquire() as conn, conn.transaction():
        await project_batch(conn, calls)
    erasure = PersonalDataErased(
        request_id=uuid.uuid4(), customer_id=subject, requested_by="dpo-7", erased_at=T0
    )
    started = time.monotonic()
    async with pool.acquire() as conn, conn.transaction():
        await project(conn, consumed(erasure, T0, topic="crm.privacy.events"))
    elapsed = time.monotonic() - started
    left = await pool.fetchval(
        "SELECT count(*) FROM timeline_entries WHERE payload->>'subject' LIKE 'Helena%' "
        "OR summary LIKE '%Helena%'"
    )
    erased = await pool.fetchval(
        "SELECT count(*) FROM timeline_entries WHERE summary = 'Call: [erased], outcome: [erased]'"
    )
    # An erased optional text reads "[erased]" too, had it a value or not (as a rebuild).
    assert (left, erased) == (0, 10_000)
    assert elapsed < 5, f"forgetting 10,000 entries took {elapsed:.1f} s"


@pytest.mark.parametrize("projection", ["timeline", "customer360"])
async def test_a_batch_with_an_erasure_writes_the_rows_of_one_event_at_a_time(
    pool_factory, schema, projection
):
    """Events of the subject before and after its erasure, in one batch: the batch writer
    gives the same rows, search words included, as the one-event handler."""
    subject, other = str(uuid.uuid4()), str(uuid.uuid4())
    history = subject_history(subject)
    erasure = PersonalDataErased(
        request_id=uuid.uuid4(), customer_id=subject, requested_by="dpo-7", erased_at=T0
    )
    at = [T0 + timedelta(days=n) for n in range(len(history))]
    before = [consumed(history[0], at[0])]
    events = [
        *(consumed(e, t) for e, t in zip(history[1:3], at[1:3], strict=True)),
        consumed(bystander_history(other)[0], T0),
        consumed(erasure, T0 + timedelta(days=10), topic="crm.privacy.events"),
        *(consumed(e, t) for e, t in zip(history[3:], at[3:], strict=True)),
    ]
    spec = timeline() if projection == "timeline" else customer360()
    queries = (
        ["SELECT to_jsonb(t) - 'projected_at' FROM timeline_entries t ORDER BY event_id"]
        if projection == "timeline"
        else [
            "SELECT to_jsonb(p) FROM customer_profiles p ORDER BY customer_id",
            "SELECT word FROM search_words ORDER BY word",
        ]
    )
    assert spec.batch_handler is not None
    async with one_by_one_and_batched(
        pool_factory, schema, spec.sql_files[0], spec.handler, spec.batch_handler, events, before
    ) as (one_by_one, batched):
        for query in queries:
            expected = [tuple(r) for r in await one_by_one.fetch(query)]
            assert expected, query
            assert [tuple(r) for r in await batched.fetch(query)] == expected
        written = [str(r) for q in queries for r in await one_by_one.fetch(q)]
        everything = " ".join(written)
        assert "Oficina" in everything  # the bystander, written in the same batch
        for trace in TRACES:
            assert trace.lower() not in everything.lower(), trace
