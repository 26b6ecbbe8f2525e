"""The sales records on PostgreSQL (schema.sql): identity claims, advisory locks, the
round-robin cursors and follow-up timers, each in the caller's transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from services.platform.privacy.codec import keys_for, open_data
from services.platform.privacy.data_keys import SubjectKeys
from services.sales.application.ports import ClaimedIdentity


class PostgresSalesRecords:
    def __init__(self, pool: asyncpg.Pool, keys: SubjectKeys | None) -> None:
        self._pool = pool
        self._keys = keys
        """Opens the sealed personal fields of the events it reads (None: plain store)."""

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Any]:
        async with self._pool.acquire() as conn:
            yield conn

    async def claimed(self, conn: Any, keys: Sequence[str]) -> list[ClaimedIdentity]:
        if not keys:
            return []
        rows = await conn.fetch(
            "SELECT key, record_id, customer_id FROM identity_keys WHERE key = ANY($1::text[]) "
            "ORDER BY key",
            list(keys),
        )
        return [ClaimedIdentity(r["key"], r["record_id"], r["customer_id"]) for r in rows]

    async def claim(
        self, conn: Any, key: str, kind: str, record_id: UUID, customer_id: str
    ) -> bool:
        taken = await conn.fetchval(
            "INSERT INTO identity_keys (key, kind, record_id, customer_id) VALUES ($1, $2, $3, $4) "
            "ON CONFLICT (key) DO NOTHING RETURNING false",
            key,
            kind,
            record_id,
            customer_id,
        )
        return taken is not None

    async def hand_over(
        self, conn: Any, merged_id: UUID, survivor_id: UUID, customer_id: str
    ) -> None:
        await conn.execute(
            "UPDATE identity_keys SET record_id = $1, customer_id = $2 WHERE record_id = $3",
            survivor_id,
            customer_id,
            merged_id,
        )

    async def release(self, conn: Any, keys: Sequence[str], record_id: UUID) -> None:
        await conn.execute(
            "DELETE FROM identity_keys WHERE key = ANY($1::text[]) AND record_id = $2",
            list(keys),
            record_id,
        )

    async def forget(self, conn: Any, customer_ids: Sequence[str]) -> int:
        status = await conn.execute(
            "DELETE FROM identity_keys WHERE customer_id = ANY($1::text[])", list(customer_ids)
        )
        return int(status.split()[-1])

    async def lock(self, conn: Any, names: Sequence[str], *, shared: bool = False) -> None:
        function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
        await conn.execute(
            f"SELECT {function}(hashtextextended(s, 0)) FROM unnest($1::text[]) AS s ORDER BY s",
            sorted(names),
        )

    async def first_event(self, conn: Any, stream_ids: Sequence[str]) -> dict[str, Any] | None:
        row = await (conn or self._pool).fetchrow(
            "SELECT event_type, payload::text AS payload FROM events "
            "WHERE stream_id = ANY($1::text[]) AND stream_version = 1 ORDER BY stream_id LIMIT 1",
            list(stream_ids),
        )
        if row is None:
            return None
        data: dict[str, Any] = orjson.loads(row["payload"])
        if self._keys is None:
            return data
        return open_data(row["event_type"], data, await keys_for(self._keys, [data]))

    async def next_turn(self, conn: Any, team: str) -> int:
        turn = await conn.fetchval(
            "INSERT INTO assignment_cursors (team, turns) VALUES ($1, 1) "
            "ON CONFLICT (team) DO UPDATE SET turns = assignment_cursors.turns + 1 "
            "RETURNING turns - 1",
            team,
        )
        return int(turn)

    async def add_timer(self, conn: Any, follow_up_id: UUID, due_at: datetime) -> None:
        await conn.execute(
            "INSERT INTO follow_up_timers (follow_up_id, due_at) VALUES ($1, $2) "
            "ON CONFLICT DO NOTHING",
            follow_up_id,
            due_at,
        )
