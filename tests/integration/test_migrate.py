"""Schema changes are a step of their own: versioned migrations, applied once, in order,
without stalling live traffic; a process refuses a schema older than it needs."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
import structlog

from services.platform import migrate
from services.platform.migrate import MigrationSet, SchemaNotMigrated, migrate_schema
from services.platform.runtime import EXIT_NOT_MIGRATED

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def write_set(directory: Path, files: dict[str, str]) -> MigrationSet:
    directory.mkdir(exist_ok=True)
    for name, sql in files.items():
        (directory / name).write_text(sql)
    return MigrationSet("things", directory)


async def test_migrations_apply_in_order_once_and_are_recorded(infra, schema, tmp_path):
    things = write_set(tmp_path / "things", {
        "0001_things.sql": "CREATE TABLE things (id int PRIMARY KEY);",
        "0002_things_name.sql": "ALTER TABLE things ADD COLUMN name text;",
    })  # fmt: skip
    conn = await asyncpg.connect(infra.database_url)
    try:
        applied = await migrate_schema(conn, schema, [things])
        assert applied == [f"{schema}: things 0001", f"{schema}: things 0002"]
        assert await migrate_schema(conn, schema, [things]) == []  # nothing twice
        write_set(things.directory, {
            "0003_things_by_name.sql": "-- migrate: no-transaction\n"
            "CREATE INDEX CONCURRENTLY things_by_name ON things (name);",
        })  # fmt: skip
        assert await migrate_schema(conn, schema, [things]) == [f"{schema}: things 0003"]
        recorded = await conn.fetch(
            f"SELECT version, name FROM {schema}.schema_migrations ORDER BY version"
        )
        assert [tuple(r) for r in recorded] == [
            (1, "things"), (2, "things_name"), (3, "things_by_name")
        ]  # fmt: skip
        valid = await conn.fetchval(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relname = 'things_by_name'",
            schema,
        )
        assert valid is True
        await migrate.require_migrated(conn, schema, [things])
        write_set(things.directory, {"0004_more.sql": "ALTER TABLE things ADD COLUMN x int;"})
        with pytest.raises(SchemaNotMigrated, match="crm migrate"):
            await migrate.require_migrated(conn, schema, [things])
    finally:
        await conn.close()


async def test_a_migration_gives_way_to_live_traffic_and_retries(
    infra, schema, tmp_path, monkeypatch
):
    """A table in use (a long transaction holds a lock on it): the ALTER TABLE waits at
    most lock_timeout, so the readers queued behind it go on, and it is retried until the
    table is free. Without lock_timeout, every reader would queue behind the ALTER."""
    monkeypatch.setattr(migrate, "LOCK_TIMEOUT", "100ms")
    things = write_set(tmp_path / "things", {"0001_things.sql": "CREATE TABLE things (id int);"})
    holder = await asyncpg.connect(infra.database_url)
    reader = await asyncpg.connect(infra.database_url)
    migrator = await asyncpg.connect(infra.database_url)
    try:
        await migrate_schema(migrator, schema, [things])
        write_set(things.directory, {"0002_name.sql": "ALTER TABLE things ADD COLUMN name text;"})
        holding = holder.transaction()
        await holding.start()
        await holder.execute(f"LOCK TABLE {schema}.things IN ACCESS SHARE MODE")
        with structlog.testing.capture_logs() as logs:
            migration = asyncio.create_task(migrate_schema(migrator, schema, [things]))
            deadline = asyncio.get_running_loop().time() + 30
            while not any(e["event"] == "migrate.retrying" for e in logs):
                assert not migration.done(), migration
                assert asyncio.get_running_loop().time() < deadline, "never gave way"
                await asyncio.sleep(0.05)
            # A reader arriving now is not stuck behind the waiting ALTER TABLE.
            count = await asyncio.wait_for(
                reader.fetchval(f"SELECT count(*) FROM {schema}.things"), 30
            )
            assert count == 0 and not migration.done()
            await holding.rollback()
            assert await asyncio.wait_for(migration, 60) == [f"{schema}: things 0002"]
        columns = await reader.fetch(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = $1 AND table_name = 'things'",
            schema,
        )
        assert {c["column_name"] for c in columns} == {"id", "name"}
    finally:
        for conn in (holder, reader, migrator):
            await conn.close()


@pytest.mark.parametrize(
    "argv",
    [
        ["-m", "services.sales", "relay"],
        ["-m", "services.sales", "scheduler"],
        ["-m", "services.sales", "api", "--port", "0"],
    ],
    ids=["relay", "scheduler", "api"],
)
def test_a_process_refuses_a_schema_older_than_it_needs(infra, schema, argv):
    env = {
        **os.environ,
        "CRM_DATABASE_URL": infra.database_url,
        "CRM_KAFKA_BOOTSTRAP": infra.kafka_bootstrap,
        "CRM_SALES_SCHEMA": schema,  # never migrated
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, *argv], env=env, cwd=ROOT, capture_output=True, timeout=60, check=False
    )
    assert done.returncode == EXIT_NOT_MIGRATED, done.stderr.decode()[-2000:]
    assert "run `crm migrate`" in done.stderr.decode()


def test_crm_migrate_brings_a_context_schema_up_to_date_once(infra, schema):
    env = {
        **os.environ,
        "CRM_DATABASE_URL": infra.database_url,
        "CRM_SALES_SCHEMA": schema,
        "PYTHONPATH": str(ROOT),
    }
    command = [sys.executable, "-m", "services.platform.cli", "migrate"]

    def migrate_once() -> str:
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        return done.stdout.decode()

    first = migrate_once()
    assert f"{schema}: eventstore 0001" in first and f"{schema}: sales 0001" in first
    assert "timeline: version" in first and "customer360: version" in first
    assert schema not in migrate_once()
