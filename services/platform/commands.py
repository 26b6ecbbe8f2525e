"""Command handling: load streams, decide, append — atomically, with idempotency keys.

A unit of work is one PostgreSQL transaction in which a command may decide on one or
several streams (e.g. converting a lead registers an account and a contact and opens an
opportunity). Everything it appends commits together or not at all. A command retried
with the same idempotency key returns the first result and appends nothing, so clients
(and the gateway) can retry safely after a timeout.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import asyncpg
import orjson

from contracts.registry import DomainEvent
from services.platform.db import Connection
from services.platform.decider import Decider
from services.platform.eventstore import CommandContext, EventStore, WrongExpectedVersion
from services.platform.faults import CONTENTION, DATABASE_UNREACHABLE, DatabaseUnavailable

S = TypeVar("S")
C = TypeVar("C")
R = TypeVar("R")


@dataclass(frozen=True)
class CommandResult:
    stream_id: str
    version: int
    event_ids: tuple[str, ...]
    replayed: bool = False
    """True when an earlier command with the same idempotency key produced this result."""

    def as_json(self) -> dict[str, Any]:
        return {"stream_id": self.stream_id, "version": self.version, "event_ids": self.event_ids}

    @classmethod
    def from_json(cls, data: dict[str, Any], replayed: bool = False) -> CommandResult:
        return cls(data["stream_id"], data["version"], tuple(data["event_ids"]), replayed)


class UnitOfWork:
    """One transaction: load and decide on streams, append what was decided."""

    def __init__(self, conn: Connection, store: EventStore, context: CommandContext | None):
        self.conn = conn
        self.store = store
        self.context = context

    async def load(
        self, decider: Decider[C, S], stream_id: str, *, personal: bool = True
    ) -> tuple[S, int]:
        """The stream's current state and version (0 for a new stream); ``personal=False``
        when the state needs no personal field (they read as erased, no key is fetched)."""
        history = await self.store.read_stream(stream_id, connection=self.conn, personal=personal)
        version = history[-1].stream_version if history else 0
        return decider.fold(e.domain_event() for e in history), version

    async def append(
        self, stream_id: str, version: int, events: Sequence[DomainEvent]
    ) -> CommandResult:
        """Append events already decided (when the caller must inspect them first)."""
        if not events:
            return CommandResult(stream_id, version, ())
        appended = await self.store.append(
            stream_id, version, events, self.context, connection=self.conn
        )
        return CommandResult(stream_id, appended.version, tuple(str(i) for i in appended.event_ids))

    async def execute(
        self,
        decider: Decider[C, S],
        stream_id: str,
        command: C,
        expected_version: int | None = None,
        check: Callable[[S], None] | None = None,
    ) -> CommandResult:
        """Load, decide, append. ``check`` sees the loaded state first and may refuse
        (e.g. who may touch the record), inside the same transaction as the change."""
        state, current = await self.load(decider, stream_id)
        if check is not None:
            check(state)
        if expected_version is not None and expected_version != current:
            raise WrongExpectedVersion(stream_id, expected_version, current)
        return await self.append(stream_id, current, decider.decide(command, state))


class CommandHandler:
    def __init__(self, store: EventStore, pool: asyncpg.Pool, *, retries: int = 5) -> None:
        self._store = store
        self._pool = pool
        self._retries = retries

    async def handle(
        self,
        decider: Decider[C, S],
        stream_id: str,
        command: C,
        *,
        expected_version: int | None = None,
        idempotency_key: str | None = None,
        context: CommandContext | None = None,
    ) -> CommandResult:
        """Decide ``command`` against the stream's current state and append the outcome.

        With ``expected_version`` the caller asserts the version it saw: a mismatch is a
        ``WrongExpectedVersion`` (HTTP 409). Without it, a lost race is retried on fresh
        state, because the decision is made again.
        """

        async def work(uow: UnitOfWork) -> dict[str, Any]:
            result = await uow.execute(decider, stream_id, command, expected_version)
            return result.as_json()

        data, replayed = await self.run(
            work,
            idempotency_key=idempotency_key,
            request_hash=None,
            context=context,
            retry_conflicts=expected_version is None,
        )
        return CommandResult.from_json(data, replayed)

    async def run(
        self,
        work: Callable[[UnitOfWork], Awaitable[dict[str, Any]]],
        *,
        idempotency_key: str | None = None,
        request_hash: str | None = None,
        context: CommandContext | None = None,
        retry_conflicts: bool = True,
    ) -> tuple[dict[str, Any], bool]:
        """Run ``work`` in one transaction; return (its JSON result, replayed?).

        ``work`` must only read and append through the unit of work (or its connection),
        so that a retry after a lost race or a replay by idempotency key is exact. A key
        reused with a different ``request_hash`` is refused (``IdempotencyKeyReused``).

        A deadlock or serialization failure is tried again with jittered backoff, then
        raised (503). A lost race on a stream is decided again on fresh state unless the
        caller asserted the version (``retry_conflicts=False``: a stale ``If-Match`` is
        answered 409 at once). The database unreachable or the connection lost raises
        ``DatabaseUnavailable`` (503), the broken connection discarded, never reused.
        """
        for attempt in range(1, self._retries + 1):
            try:
                return await self._once(work, idempotency_key, request_hash, context)
            except _RACES as exc:
                if idempotency_key is not None:
                    # Maybe we lost the race to the first delivery of this very command.
                    replay = await self._replay(self._pool, idempotency_key, request_hash)
                    if replay is not None:
                        return replay, True
                stale = isinstance(exc, WrongExpectedVersion) and not retry_conflicts
                if stale or attempt == self._retries:
                    raise
                await asyncio.sleep(random.uniform(0.5, 1.0) * min(0.5, 0.01 * 2**attempt))
            except _KeyTaken:
                assert idempotency_key is not None
                replay = await self._replay(self._pool, idempotency_key, request_hash)
                assert replay is not None
                return replay, True
        raise AssertionError("unreachable")

    @staticmethod
    async def _replay(
        conn: Connection | asyncpg.Pool, key: str, request_hash: str | None
    ) -> dict[str, Any] | None:
        try:
            row = await conn.fetchrow(
                "SELECT result::text AS result, request_hash FROM idempotency_keys WHERE key = $1",
                key,
            )
        except DATABASE_UNREACHABLE as exc:
            raise DatabaseUnavailable(exc, outcome_unknown=False) from exc
        if row is None:
            return None
        if request_hash is not None and row["request_hash"] not in (None, request_hash):
            raise IdempotencyKeyReused(key)
        result: dict[str, Any] = orjson.loads(row["result"])
        return result

    async def _once(
        self,
        work: Callable[[UnitOfWork], Awaitable[dict[str, Any]]],
        idempotency_key: str | None,
        request_hash: str | None,
        context: CommandContext | None,
    ) -> tuple[dict[str, Any], bool]:
        committing = False
        try:
            async with self._pool.acquire() as conn:
                try:
                    transaction = conn.transaction()
                    await transaction.start()
                    try:
                        outcome = await self._decide(
                            conn, work, idempotency_key, request_hash, context
                        )
                    except BaseException:
                        await transaction.rollback()
                        raise
                    committing = True
                    await transaction.commit()
                    return outcome
                except DATABASE_UNREACHABLE:
                    # Never hand this connection to another command: whatever state the
                    # fault left it in, the pool replaces it with a fresh one.
                    cast(asyncpg.Connection, conn).terminate()
                    raise
        except DATABASE_UNREACHABLE as exc:
            # A restart drops every connection: make the pool open fresh ones rather than
            # let each later command discover a dead one.
            await self._pool.expire_connections()
            raise DatabaseUnavailable(exc, outcome_unknown=committing) from exc

    async def _decide(
        self,
        conn: Connection,
        work: Callable[[UnitOfWork], Awaitable[dict[str, Any]]],
        idempotency_key: str | None,
        request_hash: str | None,
        context: CommandContext | None,
    ) -> tuple[dict[str, Any], bool]:
        if idempotency_key is not None:
            replay = await self._replay(conn, idempotency_key, request_hash)
            if replay is not None:
                return replay, True
        result = await work(UnitOfWork(conn, self._store, context))
        if idempotency_key is not None:
            try:
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO idempotency_keys (key, result, request_hash) "
                        "VALUES ($1, $2::jsonb, $3)",
                        idempotency_key,
                        orjson.dumps(result).decode(),
                        request_hash,
                    )
            except asyncpg.UniqueViolationError:
                # The same key won a race with us: undo our work, answer as it did.
                raise _KeyTaken from None
        return result, False


_RACES: tuple[type[BaseException], ...] = (WrongExpectedVersion, *CONTENTION)


class _KeyTaken(Exception):
    pass


class IdempotencyKeyReused(Exception):
    """The key already answered a different request: a client bug, not a retry."""

    def __init__(self, key: str) -> None:
        super().__init__(f"Idempotency-Key {key!r} was used for a different request")
