from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import pytest

from contracts.topics import TopicSpec
from deploy.local.config import ensure_master_key
from services.platform.db import apply_sql, create_pool
from services.platform.kafka import ensure_topics
from services.platform.logging import configure_logging
from services.platform.migrate import migrate_projection_catalog
from services.platform.privacy.data_keys import DataKeys, data_keys_from_environment
from services.platform.privacy.migrations import migrate as migrate_data_keys
from tests.infra import Infra, start_infra, stop_infra

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

if not os.environ.get("CRM_MASTER_KEY") and not os.environ.get("CRM_KEY_PROVIDER"):
    # The local installation's key, as `make run` uses: processes the tests start inherit it.
    os.environ["CRM_MASTER_KEY"] = ensure_master_key()

configure_logging("WARNING", json=False)


@pytest.fixture(scope="session")
def infra() -> Iterator[Infra]:
    try:
        found = start_infra()
    except Exception as exc:
        message = f"real Kafka and PostgreSQL are not available: {exc}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    # What `crm migrate` does first; the suite's processes and projections need it.
    asyncio.run(_migrate_projection_catalog(found.database_url))
    yield found
    stop_infra(found)


async def _migrate_projection_catalog(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await migrate_projection_catalog(conn)
    finally:
        await conn.close()
    await migrate_data_keys(database_url)


@pytest.fixture
async def data_keys(infra: Infra) -> AsyncIterator[DataKeys]:
    """The key registry (crm_privacy) with the tests' master key, on a pool of its own."""
    pool = await asyncpg.create_pool(infra.database_url, min_size=1, max_size=4)
    assert pool is not None
    keys = data_keys_from_environment(pool)
    await keys.check_master_key()
    yield keys
    await pool.close()


@pytest.fixture
def unique() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
async def schema(infra: Infra, unique: str) -> AsyncIterator[str]:
    """A throwaway PostgreSQL schema for one test."""
    name = f"t_{unique}"
    yield name
    conn = await asyncpg.connect(infra.database_url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        await conn.close()


PoolFactory = Callable[..., Awaitable[asyncpg.Pool]]


@pytest.fixture
async def pool_factory(infra: Infra) -> AsyncIterator[PoolFactory]:
    pools: list[asyncpg.Pool] = []

    async def make(schema: str, *sql_files: object, max_size: int = 10) -> asyncpg.Pool:
        pool = await create_pool(infra.database_url, schema, max_size=max_size)
        pools.append(pool)
        if sql_files:
            await apply_sql(pool, schema, sql_files)  # type: ignore[arg-type]
        return pool

    yield make
    for pool in pools:
        await pool.close()


TopicFactory = Callable[..., Awaitable[str]]


@pytest.fixture
async def topic_factory(infra: Infra, unique: str) -> TopicFactory:
    """Create a fresh topic for one test; names never collide between tests."""
    counter = iter(range(1000))

    async def make(kind: str = "events", partitions: int = 3) -> str:
        name = f"test.{unique}.{kind}.{next(counter)}"
        await ensure_topics(infra.kafka_bootstrap, [TopicSpec(name, partitions, "test")])
        return name

    return make
