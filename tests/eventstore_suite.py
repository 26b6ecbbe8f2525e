"""The rules every event store keeps, written once: a test module subclasses
``EventStoreSuite`` and provides a ``store`` fixture (an empty store, source "/crm/test").
tests/unit runs it on the in-memory store, tests/integration on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from contracts.events.sales import DealStageChanged, OpportunityOpened
from contracts.money import Money
from services.platform.eventstore import (
    MAX_EVENT_BYTES,
    NO_STREAM,
    CommandContext,
    EventTooLarge,
    WrongExpectedVersion,
)


def opened(customer: str = "cust-1", title: str = "Fleet renewal") -> OpportunityOpened:
    return OpportunityOpened(
        opportunity_id=uuid4(),
        customer_id=customer,
        title=title,
        amount=Money(amount=Decimal("1250.50"), currency="BRL"),
    )


def moved(to: str, customer: str = "cust-1") -> DealStageChanged:
    return DealStageChanged(
        opportunity_id=uuid4(), customer_id=customer, from_stage="qualification", to_stage=to
    )


class EventStoreSuite:
    async def test_an_append_is_read_back_in_order_with_its_context(self, store: Any) -> None:
        context = CommandContext(correlation_id="corr-1", causation_id="cause-1")
        first = await store.append("s-1", NO_STREAM, [opened()], context)
        second = await store.append("s-1", 1, [moved("quote_requested"), moved("proposal_sent")])
        assert (first.version, second.version) == (1, 3)
        events = await store.read_stream("s-1")
        assert [e.stream_version for e in events] == [1, 2, 3]
        assert [str(e.event_id) for e in events] == [
            str(i) for i in (*first.event_ids, *second.event_ids)
        ]
        assert (events[0].correlation_id, events[0].causation_id) == ("corr-1", "cause-1")
        assert events[1].correlation_id is None
        assert events[0].source == "/crm/test" and events[0].customer_id == "cust-1"
        assert events[0].domain_event().amount.amount == Decimal("1250.50")
        assert events[2].domain_event().to_stage == "proposal_sent"

    async def test_a_stale_or_future_expected_version_is_refused_and_nothing_written(
        self, store: Any
    ) -> None:
        await store.append("s-1", NO_STREAM, [opened()])
        for wrong in (0, 2, 7):
            with pytest.raises(WrongExpectedVersion) as info:
                await store.append("s-1", wrong, [moved("won")])
            assert (info.value.stream_id, info.value.expected, info.value.actual) == (
                "s-1",
                wrong,
                1,
            )
        assert [e.stream_version for e in await store.read_stream("s-1")] == [1]

    async def test_a_new_stream_must_be_expected_at_no_stream(self, store: Any) -> None:
        with pytest.raises(WrongExpectedVersion):
            await store.append("s-new", 1, [opened()])
        assert await store.stream_version("s-new") == 0
        assert await store.read_stream("s-new") == []

    async def test_nothing_to_append_is_refused(self, store: Any) -> None:
        with pytest.raises(ValueError):
            await store.append("s-1", NO_STREAM, [])

    async def test_an_event_too_large_to_publish_is_refused_whole(self, store: Any) -> None:
        # Past the contract's own limits on purpose: the store is the last line of defence.
        huge = opened().model_copy(update={"title": "x" * (MAX_EVENT_BYTES + 1)})
        with pytest.raises(EventTooLarge):
            await store.append("s-1", NO_STREAM, [opened(), huge])
        assert await store.read_stream("s-1") == []

    async def test_streams_are_independent_and_versions_count_per_stream(self, store: Any) -> None:
        await store.append("a", NO_STREAM, [opened("cust-a")])
        await store.append("b", NO_STREAM, [opened("cust-b"), moved("won", "cust-b")])
        await store.append("a", 1, [moved("lost", "cust-a")])
        assert (await store.stream_version("a"), await store.stream_version("b")) == (2, 2)
        assert [e.customer_id for e in await store.read_stream("b")] == ["cust-b", "cust-b"]
        assert [e.stream_version for e in await store.read_stream("a", from_version=2)] == [2]

    async def test_read_all_gives_every_event_once_by_increasing_position(self, store: Any) -> None:
        a = await store.append("a", NO_STREAM, [opened("cust-a")])
        b = await store.append("b", NO_STREAM, [opened("cust-b"), moved("won", "cust-b")])
        everything = await store.read_all()
        positions = [e.global_position for e in everything]
        assert positions == sorted(set(positions))
        assert [e.event_id for e in everything] == [*a.event_ids, *b.event_ids]
        assert tuple(positions) == (*a.global_positions, *b.global_positions)
        after_first = await store.read_all(after_position=positions[0], limit=1)
        assert [e.event_id for e in after_first] == [b.event_ids[0]]

    async def test_a_recorded_event_becomes_a_cloudevent_naming_its_stream(
        self, store: Any
    ) -> None:
        await store.append("s-1", NO_STREAM, [opened()], CommandContext(correlation_id="c-1"))
        envelope = (await store.read_stream("s-1"))[0].to_cloudevent()
        assert (envelope.source, envelope.subject, envelope.streamversion) == (
            "/crm/test",
            "s-1",
            1,
        )
        assert (envelope.customerid, envelope.correlationid) == ("cust-1", "c-1")
        assert envelope.type == "crm.sales.opportunity_opened"

    async def test_the_events_of_one_append_share_a_transaction_after_earlier_ones(
        self, store: Any
    ) -> None:
        await store.append("a", NO_STREAM, [opened()])
        await store.append("b", NO_STREAM, [opened(), moved("won")])
        first, *pair = await store.read_all()
        assert pair[0].transaction_id == pair[1].transaction_id
        assert first.transaction_id < pair[0].transaction_id
