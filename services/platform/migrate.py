"""Versioned schema migrations, applied by one command (``crm migrate``) before any process
starts; long-running processes only check that their schema is recent enough.

A migration set is a folder of numbered SQL files (``0001_event_store.sql``,
``0002_….sql``) applied in order into one PostgreSQL schema, each recorded in that
schema's ``schema_migrations`` table. Why a runner of our own rather than alembic or
yoyo: every context's store lives in its own schema (and tests and benchmarks run the
same sets in throwaway schemas), the project speaks asyncpg only, and the rules that
matter here are three short ones:

- a transactional migration runs with ``lock_timeout`` and is retried with jittered
  backoff when it cannot get its locks (or deadlocks), so it never stalls live commands;
- a file whose first line is ``-- migrate: no-transaction`` holds one statement run on
  its own (``CREATE INDEX CONCURRENTLY`` on a live table); an invalid index left by a
  failed attempt is dropped before the retry;
- a set's files are never edited once applied: a change is a new file (expand, then
  contract in a later one).
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from services.platform.db import Connection, check_schema_name, create_pool
from services.platform.logging import get_logger

log = get_logger(__name__)

MIGRATE_COMMAND = "crm migrate"
NO_TRANSACTION = "-- migrate: no-transaction"
LOCK_TIMEOUT = "2s"
ATTEMPTS = 20

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_CONCURRENT_INDEX = re.compile(
    r"CREATE\s+(?:UNIQUE\s+)?INDEX\s+CONCURRENTLY\s+(?:IF\s+NOT\s+EXISTS\s+)?\"?(\w+)\"?",
    re.IGNORECASE,
)
_LEDGER = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    migration_set text        NOT NULL,
    version       integer     NOT NULL,
    name          text        NOT NULL,
    checksum      text        NOT NULL,
    applied_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (migration_set, version)
)"""
RETRYABLE = (
    asyncpg.LockNotAvailableError,
    asyncpg.DeadlockDetectedError,
    asyncpg.SerializationError,
)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def transactional(self) -> bool:
        return not self.sql.lstrip().startswith(NO_TRANSACTION)

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class MigrationSet:
    """A folder of numbered SQL files, applied in order into one schema."""

    name: str
    directory: Path

    def migrations(self) -> list[Migration]:
        found = []
        for file in sorted(self.directory.iterdir()):
            match = _FILE.match(file.name)
            if match:
                found.append(Migration(int(match[1]), match[2], file.read_text()))
        versions = [m.version for m in found]
        if versions != list(range(1, len(found) + 1)):
            raise ValueError(f"migration set {self.name}: versions must be 1..n, got {versions}")
        return found

    @property
    def latest(self) -> int:
        return len(self.migrations())


class SchemaNotMigrated(RuntimeError):
    """The schema is older than this process needs: it refuses to start."""


PLATFORM_MIGRATIONS = Path(__file__).with_name("migrations")
EVENT_STORE = MigrationSet("eventstore", PLATFORM_MIGRATIONS / "eventstore")
"""The event store, its outbox relay's checkpoints and the idempotency keys."""
INBOX = MigrationSet("inbox", PLATFORM_MIGRATIONS / "inbox")
"""A consumer's inbox (effectively-once consumption)."""
PROJECTION_CATALOG = MigrationSet("projections", PLATFORM_MIGRATIONS / "projections")
"""Which versions of each projection exist and which is live (schema ``crm_projections``)."""
PROJECTION_CATALOG_SCHEMA = "crm_projections"


async def applied_versions(conn: Connection, schema: str) -> dict[str, int]:
    """The latest version of each migration set applied to ``schema`` (none: empty)."""
    exists = await conn.fetchval(
        "SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL", schema
    )
    if not exists:
        return {}
    rows = await conn.fetch(
        f'SELECT migration_set, max(version) AS version FROM "{schema}".schema_migrations '
        "GROUP BY migration_set"
    )
    return {row["migration_set"]: row["version"] for row in rows}


async def require_migrated(conn: Connection, schema: str, sets: Iterable[MigrationSet]) -> None:
    """Refuse (``SchemaNotMigrated``) when ``schema`` lacks a migration a process needs."""
    check_schema_name(schema)
    have = await applied_versions(conn, schema)
    missing = [
        f"{s.name} {have.get(s.name, 0)} < {s.latest}"
        for s in sets
        if have.get(s.name, 0) < s.latest
    ]
    if missing:
        raise SchemaNotMigrated(
            f"schema {schema!r} is older than this process needs ({', '.join(missing)}): "
            f"run `{MIGRATE_COMMAND}` (or `make migrate`) first"
        )


async def migrate_schema(conn: Connection, schema: str, sets: Sequence[MigrationSet]) -> list[str]:
    """Apply the missing migrations of ``sets`` to ``schema``; the ones applied.

    Concurrent runs for the same schema take turns (a session advisory lock); a run
    finding everything applied changes nothing and takes no lock on any table.
    """
    check_schema_name(schema)
    lock = f"crm-migrate:{schema}"
    await conn.execute("SELECT pg_advisory_lock(hashtextextended($1, 0))", lock)
    try:
        await _retrying(conn, _create_ledger, schema)
        have = await applied_versions(conn, schema)
        done: list[str] = []
        for migration_set in sets:
            for migration in migration_set.migrations():
                if migration.version <= have.get(migration_set.name, 0):
                    continue
                await _retrying(conn, _apply, schema, migration_set, migration)
                done.append(f"{schema}: {migration_set.name} {migration.version:04d}")
                log.info("migrate.applied", schema=schema, set=migration_set.name,
                         version=migration.version, name=migration.name)  # fmt: skip
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtextextended($1, 0))", lock)


async def _create_ledger(conn: Connection, schema: str) -> None:
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        await conn.execute(f'SET LOCAL search_path = "{schema}", public')
        await conn.execute(_LEDGER)


async def _apply(
    conn: Connection, schema: str, migration_set: MigrationSet, migration: Migration
) -> None:
    record = (
        f'INSERT INTO "{schema}".schema_migrations (migration_set, version, name, checksum) '
        "VALUES ($1, $2, $3, $4)"
    )
    values = (migration_set.name, migration.version, migration.name, migration.checksum)
    if migration.transactional:
        async with conn.transaction():
            await conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            await conn.execute(f'SET LOCAL search_path = "{schema}", public')
            await conn.execute(migration.sql)
            await conn.execute(record, *values)
        return
    # One statement outside a transaction (CREATE INDEX CONCURRENTLY cannot run in one).
    await conn.execute(f"SET lock_timeout = '{LOCK_TIMEOUT}'")
    await conn.execute(f'SET search_path = "{schema}", public')
    try:
        index = _CONCURRENT_INDEX.search(migration.sql)
        if index:
            await _drop_invalid_index(conn, schema, index[1])
        await conn.execute(migration.sql)
        await conn.execute(record, *values)
    finally:
        await conn.execute("RESET lock_timeout; RESET search_path")


async def _drop_invalid_index(conn: Connection, schema: str, name: str) -> None:
    """A ``CONCURRENTLY`` build that failed leaves an invalid index behind: drop it."""
    invalid = await conn.fetchval(
        "SELECT true FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = $1 AND c.relname = $2 AND NOT i.indisvalid",
        schema,
        name,
    )
    if invalid:
        await conn.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{schema}"."{name}"')


async def _retrying(conn: Connection, step: object, *args: object) -> None:
    """Run ``step`` again (jittered backoff) while live traffic holds the locks it needs."""
    assert callable(step)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            await step(conn, *args)
            return
        except RETRYABLE as exc:
            if attempt == ATTEMPTS:
                raise
            delay = min(5.0, 0.1 * 2**attempt) * random.uniform(0.5, 1.0)
            log.warning("migrate.retrying", attempt=attempt, error=repr(exc), delay=delay)
            await asyncio.sleep(delay)


async def migrate_projection_catalog(conn: Connection) -> list[str]:
    return await migrate_schema(conn, PROJECTION_CATALOG_SCHEMA, [PROJECTION_CATALOG])


async def migrate_all(database_url: str, modules: Iterable[str]) -> list[str]:
    """``crm migrate``: the projection catalogue, then each catalogue entry's migrations.

    ``modules`` name the modules (from the service catalogue) that own a context's or the
    projections' migrations; each has ``async def migrate(database_url) -> list[str]``.
    They are imported by name, so the shared runtime never imports a context.
    """
    conn = await asyncpg.connect(database_url)
    try:
        done = await migrate_projection_catalog(conn)
    finally:
        await conn.close()
    for name in modules:
        module = importlib.import_module(name)
        done += await module.migrate(database_url)
    return done


async def migrated_pool(
    database_url: str, schema: str, sets: Iterable[MigrationSet], max_size: int
) -> asyncpg.Pool:
    """A process's pool on ``schema``, once the schema is known to hold every migration
    in ``sets`` (else ``SchemaNotMigrated``, and no pool is left open)."""
    pool = await create_pool(database_url, schema, max_size=max_size)
    try:
        async with pool.acquire() as conn:
            await require_migrated(conn, schema, sets)
    except BaseException:
        await pool.close()
        raise
    return pool
