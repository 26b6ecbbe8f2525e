"""A projection's versions: the catalogue row, the schema, the swap that makes one live."""

from __future__ import annotations

import os

import asyncpg

from services.platform.consumer import (
    INBOX_SQL,
)
from services.platform.db import Connection, apply_sql, check_schema_name, create_pool
from services.platform.logging import get_logger
from services.platform.migrate import (
    PROJECTION_CATALOG,
    PROJECTION_CATALOG_SCHEMA,
    migrate_projection_catalog,
    require_migrated,
)
from services.platform.projection.spec import ANALYST_ROLE, ProjectionSpec, Version

log = get_logger(__name__)


async def live_version(conn: Connection, projection: str) -> Version | None:
    row = await conn.fetchrow(
        "SELECT projection, version, schema_name, consumer_group, status, layout "
        "FROM crm_projections.versions WHERE projection = $1 AND status = 'live'",
        projection,
    )
    return None if row is None else Version(*row.values())


async def create_version(database_url: str, spec: ProjectionSpec, status: str) -> Version:
    """Register the next version of ``spec`` and create its schema and tables."""
    conn = await asyncpg.connect(database_url)
    try:
        await migrate_projection_catalog(conn)  # a tool's first run may find none yet
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('crm-projection:' || $1))", spec.name
            )
            number = await conn.fetchval(
                "SELECT coalesce(max(version), 0) + 1 FROM crm_projections.versions "
                "WHERE projection = $1",
                spec.name,
            )
            version = Version(
                spec.name,
                number,
                check_schema_name(f"{spec.name}_v{number}"),
                f"projection.{spec.name}.v{number}",
                status,
                spec.layout,
            )
            await conn.execute(
                "INSERT INTO crm_projections.versions (projection, version, schema_name, "
                "consumer_group, status, live_since, layout) "
                "VALUES ($1, $2, $3, $4, $5, CASE WHEN $5 = 'live' THEN now() END, $6)",
                version.projection, version.number, version.schema, version.group, status,
                version.layout,
            )  # fmt: skip
    finally:
        await conn.close()
    pool = await create_pool(database_url, version.schema, max_size=2)
    try:
        await apply_sql(pool, version.schema, [INBOX_SQL, *spec.sql_files])
    finally:
        await pool.close()
    if status == "live":
        await swap_in(database_url, version)
    return version


async def ensure_live(database_url: str, spec: ProjectionSpec) -> Version:
    """The live version of ``spec``, version 1 if there was none (``crm migrate`` and
    tools; a projector rebuilds a version whose layout is not its own, see ``run_live``)."""
    conn = await asyncpg.connect(database_url)
    try:
        await migrate_projection_catalog(conn)
    finally:
        await conn.close()
    return await _live_or_created(database_url, spec)


async def live_or_first(database_url: str, spec: ProjectionSpec) -> Version:
    """The live version; version 1 when the projection has none yet (a new projection's
    first start: DDL in a schema nobody reads, no lock on any table in use)."""
    conn = await asyncpg.connect(database_url)
    try:
        await require_migrated(conn, PROJECTION_CATALOG_SCHEMA, [PROJECTION_CATALOG])
    finally:
        await conn.close()
    return await _live_or_created(database_url, spec)


async def _live_or_created(database_url: str, spec: ProjectionSpec) -> Version:
    """The live version, or version 1 made live: processes starting together for a new
    projection take turns (a session lock held while the first one builds it), so the
    others find it live, tables and views in place, instead of building another."""
    conn = await asyncpg.connect(database_url)
    try:
        key = f"crm-projection-first:{spec.name}"
        await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", key)
        try:
            live = await live_version(conn, spec.name)
            return live if live is not None else await create_version(database_url, spec, "live")
        finally:
            await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", key)
    finally:
        await conn.close()


async def swap_in(database_url: str, version: Version) -> None:
    """Point the reader schema's views at ``version`` and make it the live one, atomically."""
    reader = check_schema_name(version.projection)
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtext('crm-projection:' || $1))", reader
            )
            await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{reader}"')
            tables = await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = $1 AND table_type = 'BASE TABLE' "
                "AND table_name NOT IN ('inbox', 'schema_migrations')",
                version.schema,
            )
            old_views = await conn.fetch(
                "SELECT table_name FROM information_schema.views WHERE table_schema = $1", reader
            )
            for row in old_views:
                await conn.execute(f'DROP VIEW IF EXISTS "{reader}"."{row["table_name"]}"')
            legacy = await conn.fetch(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
                reader,
            )
            for row in legacy:
                # Tables from before projections were versioned: rebuildable from offset 0
                # (and being rebuilt into the version), so they give way to the views.
                log.warning("projection.dropping_unversioned_table", table=row["table_name"])
                await conn.execute(f'DROP TABLE "{reader}"."{row["table_name"]}" CASCADE')
            for row in tables:
                name = row["table_name"]
                await conn.execute(
                    f'CREATE VIEW "{reader}"."{name}" AS SELECT * FROM "{version.schema}"."{name}"'
                )
            await conn.execute(
                "UPDATE crm_projections.versions SET status = 'retired' "
                "WHERE projection = $1 AND status = 'live' AND version <> $2",
                version.projection,
                version.number,
            )
            await conn.execute(
                "UPDATE crm_projections.versions SET status = 'live', live_since = now() "
                "WHERE projection = $1 AND version = $2",
                version.projection,
                version.number,
            )
            await _grant_analyst(conn, reader)
    finally:
        await conn.close()


async def _grant_analyst(conn: asyncpg.Connection, reader_schema: str) -> None:
    """The documented read-only role sees reader schemas' views, nothing else."""
    exists = await conn.fetchval("SELECT true FROM pg_roles WHERE rolname = $1", ANALYST_ROLE)
    if not exists:
        password = os.environ.get("CRM_ANALYST_PASSWORD", "analyst")
        await conn.execute(
            f"CREATE ROLE {ANALYST_ROLE} LOGIN PASSWORD '{password.replace(chr(39), '')}' NOINHERIT"
        )
        await conn.execute(f"ALTER ROLE {ANALYST_ROLE} SET default_transaction_read_only = on")
    await conn.execute(f'GRANT USAGE ON SCHEMA "{reader_schema}" TO {ANALYST_ROLE}')
    await conn.execute(f'GRANT SELECT ON ALL TABLES IN SCHEMA "{reader_schema}" TO {ANALYST_ROLE}')
