"""The sales records in memory (the port of ``application.ports``), for fast handler
tests with the in-memory event store. One task at a time: locks are no-ops, and
``transaction()`` undoes what a unit of work that raises changed."""

from __future__ import annotations

import contextlib
import copy
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from services.platform.memory_eventstore import InMemoryEventStore
from services.sales.application.ports import ClaimedIdentity


class InMemorySalesRecords:
    def __init__(self, store: InMemoryEventStore) -> None:
        self._store = store
        self.identities: dict[str, ClaimedIdentity] = {}
        self.turns: dict[str, int] = {}
        self.timers: dict[UUID, datetime] = {}

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        yield None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        # The round-robin turns are not undone: on PostgreSQL they move on a connection of
        # their own, outside the command's transaction (see application.assignment).
        saved = copy.copy(self.identities), copy.copy(self.timers)
        try:
            yield
        except BaseException:
            self.identities, self.timers = saved
            raise

    async def claimed(self, conn: Any, keys: Sequence[str]) -> list[ClaimedIdentity]:
        return [self.identities[k] for k in sorted(set(keys)) if k in self.identities]

    async def claim(
        self, conn: Any, key: str, kind: str, record_id: UUID, customer_id: str
    ) -> bool:
        if key in self.identities:
            return False
        self.identities[key] = ClaimedIdentity(key, record_id, customer_id)
        return True

    async def hand_over(
        self, conn: Any, merged_id: UUID, survivor_id: UUID, customer_id: str
    ) -> None:
        for key, claimed in list(self.identities.items()):
            if claimed.record_id == merged_id:
                self.identities[key] = ClaimedIdentity(key, survivor_id, customer_id)

    async def release(self, conn: Any, keys: Sequence[str], record_id: UUID) -> None:
        for key in keys:
            if key in self.identities and self.identities[key].record_id == record_id:
                del self.identities[key]

    async def forget(self, conn: Any, customer_ids: Sequence[str]) -> int:
        gone = [k for k, c in self.identities.items() if c.customer_id in set(customer_ids)]
        for key in gone:
            del self.identities[key]
        return len(gone)

    async def lock(self, conn: Any, names: Sequence[str], *, shared: bool = False) -> None:
        return None  # one unit of work at a time (InMemoryCommands)

    async def first_event(self, conn: Any, stream_ids: Sequence[str]) -> dict[str, Any] | None:
        for stream_id in sorted(stream_ids):
            history = await self._store.read_stream(stream_id)
            if history:
                return dict(history[0].payload)
        return None

    async def next_turn(self, conn: Any, team: str) -> int:
        turn = self.turns.get(team, 0)
        self.turns[team] = turn + 1
        return turn

    async def add_timer(self, conn: Any, follow_up_id: UUID, due_at: datetime) -> None:
        self.timers.setdefault(follow_up_id, due_at)
