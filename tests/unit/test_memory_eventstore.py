"""The in-memory event store keeps the same rules as the PostgreSQL one (same suite)."""

from __future__ import annotations

import pytest

from services.platform.eventstore import NO_STREAM
from services.platform.memory_eventstore import InMemoryEventStore
from tests.eventstore_suite import EventStoreSuite, opened


class TestInMemoryEventStore(EventStoreSuite):
    @pytest.fixture
    def store(self) -> InMemoryEventStore:
        return InMemoryEventStore("/crm/test")


async def test_a_transaction_that_raises_leaves_nothing_appended() -> None:
    store = InMemoryEventStore("/crm/test")
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.append("s-1", NO_STREAM, [opened()])
            raise RuntimeError("the command failed after its append")
    assert await store.read_stream("s-1") == []
    await store.append("s-1", NO_STREAM, [opened()])  # the stream is still new
