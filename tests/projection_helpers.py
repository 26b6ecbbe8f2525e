"""Checking a projection's batch writer against its one-event handler."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import asyncpg

from services.platform.consumer import ConsumedEvent


@contextlib.asynccontextmanager
async def one_by_one_and_batched(
    pool_factory: Callable[..., Awaitable[asyncpg.Pool]],
    schema: str,
    sql: Path,
    project: Callable[[Any, ConsumedEvent], Awaitable[None]],
    project_batch: Callable[[Any, Sequence[ConsumedEvent]], Awaitable[None]],
    events: Sequence[ConsumedEvent],
    before: Sequence[ConsumedEvent] = (),
) -> AsyncIterator[tuple[asyncpg.Pool, asyncpg.Pool]]:
    """Two fresh schemas holding ``before`` (one transaction), then ``events`` (another):
    applied one at a time with ``project`` in the first, as one run with
    ``project_batch`` in the second. Yields their pools; the second schema is dropped
    afterwards."""
    one_by_one = await pool_factory(schema, sql)
    batched = await pool_factory(f"{schema}_b", sql)
    try:
        for pool in (one_by_one, batched):
            async with pool.acquire() as conn, conn.transaction():
                for event in before:
                    await project(conn, event)
        async with one_by_one.acquire() as conn, conn.transaction():
            for event in events:
                await project(conn, event)
        async with batched.acquire() as conn, conn.transaction():
            await project_batch(conn, events)
        yield one_by_one, batched
    finally:
        await batched.execute(f'DROP SCHEMA "{schema}_b" CASCADE')
