"""Command handling: load a stream, decide, append — with idempotency keys.

A command retried with the same idempotency key returns the first result and appends
nothing, so clients (and the gateway) can retry safely after a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import orjson

from services.platform.decider import Decider
from services.platform.eventstore import (
    AppendResult,
    CommandContext,
    EventStore,
    WrongExpectedVersion,
)

S = TypeVar("S")
C = TypeVar("C")


@dataclass(frozen=True)
class CommandResult:
    stream_id: str
    version: int
    event_ids: tuple[str, ...]
    replayed: bool = False
    """True when an earlier command with the same idempotency key produced this result."""

    def as_json(self) -> dict[str, Any]:
        return {"stream_id": self.stream_id, "version": self.version, "event_ids": self.event_ids}


class CommandHandler:
    def __init__(self, store: EventStore, pool: asyncpg.Pool, *, retries: int = 3) -> None:
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
        attempts = 1 if expected_version is not None else self._retries
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(
                    decider, stream_id, command, expected_version, idempotency_key, context
                )
            except WrongExpectedVersion:
                if attempt == attempts:
                    raise
            except _KeyTaken:
                stored = await self._pool.fetchval(
                    "SELECT result::text FROM idempotency_keys WHERE key = $1", idempotency_key
                )
                return _replayed(stored)
        raise AssertionError("unreachable")

    async def _once(
        self,
        decider: Decider[C, S],
        stream_id: str,
        command: C,
        expected_version: int | None,
        idempotency_key: str | None,
        context: CommandContext | None,
    ) -> CommandResult:
        async with self._pool.acquire() as conn, conn.transaction():
            if idempotency_key is not None:
                stored = await conn.fetchval(
                    "SELECT result::text FROM idempotency_keys WHERE key = $1", idempotency_key
                )
                if stored is not None:
                    return _replayed(stored)
            history = await self._store.read_stream(stream_id, connection=conn)
            current = history[-1].stream_version if history else 0
            if expected_version is not None and expected_version != current:
                raise WrongExpectedVersion(stream_id, expected_version, current)
            state = decider.fold(e.domain_event() for e in history)
            events = decider.decide(command, state)
            if events:
                appended: AppendResult = await self._store.append(
                    stream_id, current, events, context, connection=conn
                )
                result = CommandResult(
                    stream_id, appended.version, tuple(str(i) for i in appended.event_ids)
                )
            else:
                result = CommandResult(stream_id, current, ())
            if idempotency_key is not None:
                try:
                    async with conn.transaction():
                        await conn.execute(
                            "INSERT INTO idempotency_keys (key, result) VALUES ($1, $2::jsonb)",
                            idempotency_key,
                            orjson.dumps(result.as_json()).decode(),
                        )
                except asyncpg.UniqueViolationError:
                    # The same key won a race with us: undo our append, answer as it did.
                    raise _KeyTaken from None
            return result


class _KeyTaken(Exception):
    pass


def _replayed(stored: str) -> CommandResult:
    data = orjson.loads(stored)
    return CommandResult(data["stream_id"], data["version"], tuple(data["event_ids"]), True)
