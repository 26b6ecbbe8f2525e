"""The in-memory event store keeps the same rules as the PostgreSQL one (same suite)."""

from __future__ import annotations

import pytest

from services.platform.commands import IdempotencyKeyReused, UnitOfWork
from services.platform.eventstore import NO_STREAM
from services.platform.memory_eventstore import InMemoryCommands, InMemoryEventStore
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


async def test_in_memory_commands_undo_a_failed_unit_of_work_and_replay_a_key() -> None:
    store = InMemoryEventStore("/crm/test")
    commands = InMemoryCommands(store)

    async def fails(uow: UnitOfWork) -> dict[str, object]:
        await uow.append("s-1", NO_STREAM, [opened()])
        raise RuntimeError("refused after the append")

    async def opens(uow: UnitOfWork) -> dict[str, object]:
        return (await uow.append("s-2", NO_STREAM, [opened()])).as_json()

    with pytest.raises(RuntimeError):
        await commands.run(fails)
    assert await store.read_all() == []
    first, replayed = await commands.run(opens, idempotency_key="k", request_hash="h")
    again, replayed_again = await commands.run(opens, idempotency_key="k", request_hash="h")
    assert (replayed, replayed_again, again["event_ids"]) == (False, True, list(first["event_ids"]))
    assert len(await store.read_all()) == 1
    with pytest.raises(IdempotencyKeyReused):
        await commands.run(opens, idempotency_key="k", request_hash="other")
