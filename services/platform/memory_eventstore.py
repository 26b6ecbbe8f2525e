"""An event store in memory, with the surface and the rules of ``eventstore.EventStore``.

For fast tests of application handlers: the same abstract suite (tests/eventstore_suite.py)
runs against both stores. ``connection`` arguments are accepted and ignored; a unit of work
over this store gets its all-or-nothing from ``transaction()``, which undoes the appends
of a block that raises (PostgreSQL's rollback, for a single task). ``InMemoryCommands``
runs commands on it as ``CommandHandler`` does on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast
from uuid import uuid4

import orjson

from contracts.registry import DomainEvent
from services.platform.commands import IdempotencyKeyReused, UnitOfWork
from services.platform.eventstore import (
    MAX_EVENT_BYTES,
    AppendResult,
    CommandContext,
    EventStore,
    EventTooLarge,
    RecordedEvent,
    WrongExpectedVersion,
)


class InMemoryEventStore:
    """Streams of one bounded context, in a list; positions and transaction ids count up."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._events: list[RecordedEvent] = []
        self._positions = itertools.count(1)
        self._transactions = itertools.count(1)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        context: CommandContext | None = None,
        *,
        connection: Any = None,
    ) -> AppendResult:
        """Append ``events`` if the stream is at ``expected_version``; all or nothing."""
        if not events:
            raise ValueError("nothing to append")
        context = context or CommandContext()
        occurred = context.occurred_at or datetime.now(UTC)
        payloads = [e.model_dump_json() for e in events]
        for event, payload in zip(events, payloads, strict=True):
            size = len(payload.encode())
            if size > MAX_EVENT_BYTES:
                raise EventTooLarge(event.event_type, size)
        # No await from the check to the write: a concurrent writer cannot slip between.
        actual = self._version(stream_id)
        if actual != expected_version:
            raise WrongExpectedVersion(stream_id, expected_version, actual)
        transaction = next(self._transactions)
        recorded_at = datetime.now(UTC)
        written = [
            RecordedEvent(
                global_position=next(self._positions),
                transaction_id=transaction,
                event_id=uuid4(),
                stream_id=stream_id,
                stream_version=actual + offset,
                event_type=event.event_type,
                schema_version=event.schema_version,
                source=self.source,
                customer_id=event.customer(),
                occurred_at=occurred,
                recorded_at=recorded_at,
                correlation_id=context.correlation_id,
                causation_id=context.causation_id,
                payload=orjson.loads(payload),
            )
            for offset, (event, payload) in enumerate(zip(events, payloads, strict=True), 1)
        ]
        self._events.extend(written)
        return AppendResult(
            stream_id=stream_id,
            version=written[-1].stream_version,
            event_ids=tuple(e.event_id for e in written),
            global_positions=tuple(e.global_position for e in written),
        )

    def _version(self, stream_id: str) -> int:
        return max((e.stream_version for e in self._events if e.stream_id == stream_id), default=0)

    async def stream_version(self, stream_id: str, *, connection: Any = None) -> int:
        return self._version(stream_id)

    async def read_stream(
        self, stream_id: str, from_version: int = 1, *, connection: Any = None,
        personal: bool = True,
    ) -> list[RecordedEvent]:  # fmt: skip
        return [
            e for e in self._events if e.stream_id == stream_id and e.stream_version >= from_version
        ]

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Events by global position (never reused; an undone append leaves a gap)."""
        return [e for e in self._events if e.global_position > after_position][:limit]

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """Undo the appends made inside the block if it raises."""
        mark = len(self._events)
        try:
            yield
        except BaseException:
            del self._events[mark:]
            raise


class InMemoryCommands:
    """``CommandHandler.run`` on the in-memory store: one unit of work at a time (so each is
    serializable), undone whole when it raises, together with ``also`` (other in-memory
    records with a ``transaction()``); an idempotency key answers its first result."""

    def __init__(self, store: InMemoryEventStore, *also: Any, retries: int = 3) -> None:
        self._store = store
        self._also = also
        self._retries = retries
        self._serial = asyncio.Lock()
        self._answers: dict[str, tuple[dict[str, Any], str | None]] = {}

    async def run(
        self,
        work: Callable[[UnitOfWork], Awaitable[dict[str, Any]]],
        *,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        context: CommandContext | None = None,
        retry_conflicts: bool = True,
    ) -> tuple[dict[str, Any], bool]:
        attempts = self._retries if retry_conflicts else 1
        async with self._serial:
            for attempt in range(1, attempts + 1):
                if idempotency_key is not None and idempotency_key in self._answers:
                    answer, first_hash = self._answers[idempotency_key]
                    if request_hash is not None and first_hash not in (None, request_hash):
                        raise IdempotencyKeyReused(idempotency_key)
                    return answer, True
                try:
                    async with contextlib.AsyncExitStack() as undo:
                        await undo.enter_async_context(self._store.transaction())
                        for records in self._also:
                            await undo.enter_async_context(records.transaction())
                        # UnitOfWork types the PostgreSQL store; this one has its surface.
                        store = cast(EventStore, self._store)
                        result = await work(UnitOfWork(None, store, context))  # type: ignore[arg-type]
                except WrongExpectedVersion:
                    if attempt == attempts:
                        raise
                    continue
                if idempotency_key is not None:
                    self._answers[idempotency_key] = (
                        orjson.loads(orjson.dumps(result)),  # stored as JSON, like the table
                        request_hash,
                    )
                return result, False
        raise AssertionError("unreachable")
