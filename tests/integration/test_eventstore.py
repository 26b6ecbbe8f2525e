"""Atomic append with an expected version, against a real PostgreSQL."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from uuid import uuid4

import pytest

from contracts.events.sales import DealStageChanged, OpportunityOpened
from contracts.money import Money
from services.platform.eventstore import NO_STREAM, CommandContext, EventStore, WrongExpectedVersion
from services.platform.privacy.data_keys import data_keys_from_environment
from services.platform.relay_main import EVENTSTORE_SQL

pytestmark = pytest.mark.integration


def opened(customer: str = "cust-1") -> OpportunityOpened:
    return OpportunityOpened(
        opportunity_id=uuid4(),
        customer_id=customer,
        title="Fleet renewal",
        amount=Money(amount=Decimal("1250.50"), currency="BRL"),
    )


def moved(customer: str, to: str, frm: str = "qualification") -> DealStageChanged:
    return DealStageChanged(
        opportunity_id=uuid4(), customer_id=customer, from_stage=frm, to_stage=to
    )


async def test_append_then_read_back_in_order(schema, pool_factory):
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    store = EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
    first = await store.append("s-1", NO_STREAM, [opened()], CommandContext(correlation_id="c-1"))
    second = await store.append(
        "s-1", 1, [moved("cust-1", "quote_requested"), moved("cust-1", "proposal_sent")]
    )
    assert (first.version, second.version) == (1, 3)
    events = await store.read_stream("s-1")
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert events[0].correlation_id == "c-1"
    assert events[0].domain_event().amount.amount == Decimal("1250.50")
    assert events[2].domain_event().to_stage == "proposal_sent"
    envelope = events[0].to_cloudevent()
    assert envelope.customerid == "cust-1" and envelope.streamversion == 1


async def test_stale_or_future_expected_version_is_refused_and_nothing_written(
    schema, pool_factory
):
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    store = EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
    await store.append("s-1", NO_STREAM, [opened()])
    for wrong in (0, 2, 7):
        with pytest.raises(WrongExpectedVersion) as info:
            await store.append("s-1", wrong, [moved("cust-1", "won")])
        assert info.value.actual == 1
    assert [e.stream_version for e in await store.read_stream("s-1")] == [1]


async def test_two_writers_race_on_one_stream_exactly_one_wins(schema, pool_factory):
    pool = await pool_factory(schema, EVENTSTORE_SQL, max_size=20)
    store = EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
    for round_ in range(25):
        stream = f"race-{round_}"
        await store.append(stream, NO_STREAM, [opened()])
        # Both writers decided on version 1; they append at the same moment.
        results = await asyncio.gather(
            store.append(stream, 1, [moved("cust-1", "won")]),
            store.append(stream, 1, [moved("cust-1", "lost")]),
            return_exceptions=True,
        )
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1, results
        assert len(losers) == 1 and isinstance(losers[0], WrongExpectedVersion), results
        versions = [e.stream_version for e in await store.read_stream(stream)]
        assert versions == [1, 2]


async def test_many_writers_one_stream_each_round_exactly_one_wins(schema, pool_factory):
    pool = await pool_factory(schema, EVENTSTORE_SQL, max_size=20)
    store = EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
    await store.append("hot", NO_STREAM, [opened()])
    rounds, writers = 10, 8
    for round_ in range(rounds):
        # Every writer decided on the same version: one append may land, the rest must be
        # refused. Counting wins alone would pass if every writer were refused.
        version = await store.stream_version("hot")
        assert version == round_ + 1
        results = await asyncio.gather(
            *(store.append("hot", version, [moved("cust-1", "renegotiation")])
              for _ in range(writers)),
            return_exceptions=True,
        )  # fmt: skip
        winners = [r for r in results if not isinstance(r, BaseException)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1, results
        assert len(losers) == writers - 1, results
        assert all(isinstance(r, WrongExpectedVersion) for r in losers), results
    versions = [e.stream_version for e in await store.read_stream("hot")]
    assert versions == list(range(1, rounds + 2))


async def test_writer_whose_xid_predates_the_streams_last_event_is_refused(
    infra, schema, pool_factory
):
    """The relay publishes in (xid, position) order; an append from a transaction whose
    xid is older than the stream's last event would be published before it."""
    pool = await pool_factory(schema, EVENTSTORE_SQL)
    store = EventStore(pool, "/crm/test", keys=data_keys_from_environment(pool))
    async with pool.acquire() as early:
        tx = early.transaction()
        await tx.start()
        await early.fetchval("SELECT pg_current_xact_id()")  # takes its xid now
        await store.append("s-1", NO_STREAM, [opened()])  # a later xid commits first
        with pytest.raises(WrongExpectedVersion):
            await store.append("s-1", 1, [moved("cust-1", "won")], connection=early)
        await tx.rollback()
    assert [e.stream_version for e in await store.read_stream("s-1")] == [1]
