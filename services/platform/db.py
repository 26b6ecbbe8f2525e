"""PostgreSQL pools, and schema set-up for tests, tools and new projection versions.

Each bounded context owns a PostgreSQL schema (``sales``, ``timeline`` …): its private
state. A pool's ``search_path`` points at that schema, so the same SQL serves every
context and tests can run each case in a throwaway schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import asyncpg
from asyncpg.pool import PoolConnectionProxy

if TYPE_CHECKING:
    from services.platform.migrate import MigrationSet

Connection = asyncpg.Connection | PoolConnectionProxy
"""A connection, pooled or not: what handlers and stores accept."""

_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def check_schema_name(schema: str) -> str:
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r}")
    return schema


async def create_pool(
    url: str, schema: str, *, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool whose connections read and write ``schema`` (and ``public`` for extensions)."""
    check_schema_name(schema)
    pool = await asyncpg.create_pool(
        url,
        min_size=min_size,
        max_size=max_size,
        reset=_keep_session,
        server_settings={"search_path": f"{schema},public", "application_name": f"crm-{schema}"},
    )
    assert pool is not None
    return pool


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's per-release reset query (a round trip on every command).

    Safe because no code here changes session state on a pooled connection: settings are
    ``SET LOCAL`` and locks are released explicitly. asyncpg still rolls back a
    transaction left open before calling this.
    """


async def apply_sql(pool: asyncpg.Pool, schema: str, files: Iterable[Path | MigrationSet]) -> None:
    """Create ``schema``, apply migration sets to it (recorded, as ``crm migrate`` does),
    then run idempotent DDL files in it, one process at a time.

    For schemas nobody uses yet: throwaway ones in tests and benchmarks, a projection's
    new version. Live schemas change only through ``crm migrate``.
    """
    check_schema_name(schema)
    items = list(files)
    sets = [item for item in items if not isinstance(item, Path)]
    paths = [item for item in items if isinstance(item, Path)]
    if sets:
        from services.platform.migrate import migrate_schema

        async with pool.acquire() as conn:
            await migrate_schema(conn, schema, sets)
    if not paths:
        return
    async with pool.acquire() as conn, conn.transaction():
        # Serialise concurrent start-ups of the same service (DDL races otherwise).
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('crm-ddl:' || $1))", schema)
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path = "{schema}", public')
        for file in paths:
            await conn.execute(file.read_text())
