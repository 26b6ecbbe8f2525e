"""What the sales handlers keep beside the event store, as a port: no SQL here.

``adapters.postgres`` implements it on the command's own PostgreSQL transaction (``conn``
is the unit of work's connection); ``adapters.memory`` in memory, for fast handler tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID


@dataclass(frozen=True)
class ClaimedIdentity:
    key: str
    """``<kind>:<identity>``, e.g. ``contact:email:ana@example.com``."""
    record_id: UUID
    customer_id: str


class SalesRecords(Protocol):
    def connection(self) -> AbstractAsyncContextManager[Any]:
        """A short connection of its own, outside any command's transaction."""

    async def claimed(self, conn: Any, keys: Sequence[str]) -> list[ClaimedIdentity]:
        """The identities among ``keys`` that a record claimed, by key."""

    async def claim(
        self, conn: Any, key: str, kind: str, record_id: UUID, customer_id: str
    ) -> bool:
        """Claim an identity for a record; False when another record holds it."""

    async def hand_over(
        self, conn: Any, merged_id: UUID, survivor_id: UUID, customer_id: str
    ) -> None:
        """Every identity of the merged record now answers with the survivor."""

    async def release(self, conn: Any, keys: Sequence[str], record_id: UUID) -> None:
        """The record no longer answers to these identities (a correction replaced them)."""

    async def forget(self, conn: Any, customer_ids: Sequence[str]) -> int:
        """Drop every identity of these customers (an erasure); how many were dropped."""

    async def lock(self, conn: Any, names: Sequence[str], *, shared: bool = False) -> None:
        """Hold these names until the transaction ends (taken in sorted order)."""

    async def first_event(self, conn: Any, stream_ids: Sequence[str]) -> dict[str, Any] | None:
        """The payload of the first event of the first of these streams that exists (by
        stream id order)."""

    async def next_turn(self, conn: Any, team: str) -> int:
        """The team's round-robin turn (0, 1, 2, ...); each call takes the next."""

    async def add_timer(self, conn: Any, follow_up_id: UUID, due_at: datetime) -> None:
        """A follow-up's timer, for the scheduler; a second add of the same is a no-op."""
