"""Merged duplicates on the timeline, and the batch writer meaning what the single one does.

A seller who merges two records of one customer sees one history: the merged record's
entries move to the survivor's timeline, and so do entries that still name the merged id
later (or arrive late). Replays write runs of events with one COPY; the rows must be
exactly those the one-event handler writes.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from contracts.events.sales import ActivityLogged, ContactRegistered, PurchaseMade, RecordsMerged
from contracts.money import Money
from projections.customer360.time_travel import profile_as_of
from projections.timeline.projector import SCHEMA_SQL, project, project_batch
from projections.timeline.queries import page, survivor_of
from tests.projection_helpers import consumed, one_by_one_and_batched

pytestmark = pytest.mark.integration

T0 = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)


def contact(first: str, last: str) -> ContactRegistered:
    contact_id = uuid.uuid4()
    return ContactRegistered(
        contact_id=contact_id, customer_id=str(contact_id), first_name=first, last_name=last
    )


def call(customer: str, subject: str) -> ActivityLogged:
    return ActivityLogged(
        activity_id=uuid.uuid4(),
        customer_id=customer,
        kind="call",
        subject=subject,
        happened_at=T0,
    )


def purchase(customer: str, amount: str) -> PurchaseMade:
    return PurchaseMade(
        order_id=uuid.uuid4(), customer_id=customer,
        total=Money(amount=Decimal(amount), currency="BRL"), channel="store",
    )  # fmt: skip


def merge(survivor: ContactRegistered, merged: ContactRegistered) -> RecordsMerged:
    return RecordsMerged(
        kind="contact", survivor_id=survivor.contact_id, merged_id=merged.contact_id,
        customer_id=survivor.customer_id, merged_customer_id=merged.customer_id,
    )  # fmt: skip


async def summaries(conn: Any, customer: str) -> list[str]:
    found = await page(conn, customer, limit=100, newest_first=False)
    return [entry["summary"] for entry in found.entries]


async def test_a_merged_customers_history_moves_to_the_survivor(schema, pool_factory) -> None:
    pool = await pool_factory(schema, SCHEMA_SQL)
    jose, duplicate, third = contact("José", "Silva"), contact("Jose", "Silva"), contact("J", "S")
    events = [
        consumed(jose, T0),
        consumed(duplicate, T0 + timedelta(minutes=1)),
        consumed(call(duplicate.customer_id, "asked for a quote"), T0 + timedelta(minutes=2)),
        consumed(merge(jose, duplicate), T0 + timedelta(minutes=3)),
        # another system still names the merged id after the merge
        consumed(purchase(duplicate.customer_id, "10.00"), T0 + timedelta(minutes=4)),
        consumed(third, T0 + timedelta(minutes=5)),
        # a chain: the survivor is merged into a third record; everything follows
        consumed(merge(third, jose), T0 + timedelta(minutes=6)),
        consumed(call(duplicate.customer_id, "late call"), T0 + timedelta(minutes=7)),
    ]
    async with pool.acquire() as conn, conn.transaction():
        await project_batch(conn, events)
    async with pool.acquire() as conn:
        assert await summaries(conn, duplicate.customer_id) == []
        assert await summaries(conn, jose.customer_id) == []
        assert await summaries(conn, third.customer_id) == [
            "Contact registered: José Silva",
            "Contact registered: Jose Silva",
            "Call: asked for a quote",
            f"Duplicate contact records merged ({str(duplicate.contact_id)[:8]} "
            f"into {str(jose.contact_id)[:8]})",
            "Purchase of 10.00 BRL via store",
            "Contact registered: J S",
            f"Duplicate contact records merged ({str(jose.contact_id)[:8]} "
            f"into {str(third.contact_id)[:8]})",
            "Call: late call",
        ]
        assert await survivor_of(conn, duplicate.customer_id) == third.customer_id
        assert await survivor_of(conn, jose.customer_id) == third.customer_id
        assert await survivor_of(conn, third.customer_id) == third.customer_id
        # Time travel folds only the events that named the customer, as the live 360 does:
        # the duplicate's registration never renamed José.
        before = await profile_as_of(conn, jose.customer_id, T0 + timedelta(minutes=5))
        assert before is not None and before.display_name == "José Silva"
        assert before.merged_from == [duplicate.customer_id]


async def test_an_entry_arriving_after_its_customer_was_merged_joins_the_survivor(
    schema, pool_factory
) -> None:
    pool = await pool_factory(schema, SCHEMA_SQL)
    jose, duplicate = contact("José", "Silva"), contact("Jose", "Silva")
    async with pool.acquire() as conn, conn.transaction():
        for event in (jose, duplicate):
            await project(conn, consumed(event, T0))
        await project(conn, consumed(merge(jose, duplicate), T0 + timedelta(hours=1)))
        # occurred before the merge, delivered after it (another topic lagged)
        await project(conn, consumed(call(duplicate.customer_id, "early call"), T0))
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT customer_id, named_customer_id FROM timeline_entries WHERE summary = $1",
            "Call: early call",
        )
        assert [tuple(r) for r in rows] == [(jose.customer_id, duplicate.customer_id)]
        assert "Call: early call" in await summaries(conn, jose.customer_id)


async def test_batch_writes_exactly_the_rows_of_one_event_at_a_time(
    schema, pool_factory, infra
) -> None:
    jose, duplicate = contact("José", "Silva"), contact("Jose", "Silva")
    events = [consumed(jose, T0), consumed(duplicate, T0)]
    for n in range(40):
        who = (jose, duplicate)[n % 2].customer_id
        events.append(consumed(call(who, f"call {n}"), T0 + timedelta(minutes=n)))
        if n == 20:
            events.append(consumed(merge(jose, duplicate), T0 + timedelta(minutes=n)))
    async with one_by_one_and_batched(
        pool_factory, schema, SCHEMA_SQL, project, project_batch, events
    ) as (one_by_one, batched):
        query = "SELECT * FROM timeline_entries ORDER BY event_id"
        async with one_by_one.acquire() as a, batched.acquire() as b:
            expected = [_without_projected_at(r) for r in await a.fetch(query)]
            got = [_without_projected_at(r) for r in await b.fetch(query)]
            assert len(expected) == len(events)  # every event names a customer
            assert {r["customer_id"] for r in expected} == {jose.customer_id}
            assert got == expected
            merges = "SELECT * FROM customer_merges"
            assert await b.fetch(merges) == await a.fetch(merges) != []


def _without_projected_at(row: Any) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "projected_at"}


@pytest.mark.parametrize("first", ["merge", "writer"])
async def test_a_merge_and_a_writer_at_once_leave_no_entry_behind(
    schema, pool_factory, first: str
) -> None:
    """Two writers of one timeline (projector instances, a rebuild in several processes):
    rows for the merged customer written while the merge is in flight end up with the
    survivor, whichever transaction started first."""
    jose, duplicate = contact("José", "Silva"), contact("Jose", "Silva")
    pool = await pool_factory(schema, SCHEMA_SQL)
    async with pool.acquire() as conn, conn.transaction():
        await project_batch(conn, [consumed(jose, T0), consumed(duplicate, T0)])
    work = {
        "merge": [consumed(merge(jose, duplicate), T0 + timedelta(hours=1))],
        "writer": [consumed(call(duplicate.customer_id, f"late call {n}"), T0) for n in range(3)],
    }
    second = "writer" if first == "merge" else "merge"
    async with pool.acquire() as one, pool.acquire() as other:
        held = one.transaction()
        await held.start()
        await project_batch(one, work[first])

        async def then() -> None:
            async with other.transaction():
                await project_batch(other, work[second])

        task = asyncio.create_task(then())
        waiting = 0
        for _ in range(500):
            waiting = await pool.fetchval(
                "SELECT count(*) FROM pg_locks WHERE relation = 'customer_merges'::regclass "
                "AND NOT granted"
            )
            if waiting or task.done():
                break
            await asyncio.sleep(0.02)
        assert waiting == 1 and not task.done()  # the second waits for the first
        await held.commit()
        await task
    async with pool.acquire() as conn:
        owners = await conn.fetch(
            "SELECT DISTINCT customer_id FROM timeline_entries WHERE summary LIKE 'Call: late%'"
        )
        assert [r["customer_id"] for r in owners] == [jose.customer_id]
        assert "Call: late call 2" in await summaries(conn, jose.customer_id)
