"""A new release changes a projection's layout: it rebuilds a new version in the
background while the previous release's projector keeps the live version consuming;
after the swap the new release writes and the previous one stands by."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient

from services.platform.projection import ProjectionSpec, live_version, replaying, run_live
from tests.integration.test_projection_rebuild import purchase, wait_rows
from tests.kafka_helpers import publish
from tests.projection_helpers import throwaway_timeline

pytestmark = pytest.mark.integration


@pytest.fixture
async def releases(infra, topic_factory, tmp_path) -> AsyncIterator[tuple[ProjectionSpec, ...]]:
    """The same projection in two releases: the second adds a table (another layout)."""
    async with throwaway_timeline(infra.database_url, topic_factory) as old:
        extra = tmp_path / "release_2.sql"
        extra.write_text("CREATE TABLE IF NOT EXISTS release_2_marker (id int);")
        new = dataclasses.replace(old, sql_files=(*old.sql_files, extra))
        assert new.layout != old.layout
        yield old, new


async def wait_status(conn: asyncpg.Connection, name: str, version: int, status: str) -> None:
    deadline = asyncio.get_running_loop().time() + 60
    query = "SELECT status FROM crm_projections.versions WHERE projection = $1 AND version = $2"
    while await conn.fetchval(query, name, version) != status:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"{name} v{version} never became {status}")
        await asyncio.sleep(0.1)


async def wait_group_members(bootstrap: str, group: str, count: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while True:
            [described] = await admin.describe_consumer_groups([group])
            [(_error, _group, state, _kind, _protocol, members, *_)] = described.groups
            if state == "Stable" and len(members) == count:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{group}: {state} with {len(members)} members")
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


@pytest.mark.timeout(180)
async def test_the_live_version_keeps_consuming_while_a_new_layout_rebuilds(
    infra, releases, monkeypatch
):
    old, new = releases
    name, [topic] = old.name, old.topics
    real_replay, replay_may_finish = replaying.replay, asyncio.Event()

    async def gated_replay(*args, **kwargs):  # holds the rebuild open while we look
        await real_replay(*args, **kwargs)
        await replay_may_finish.wait()
        await real_replay(*args, **kwargs)  # and catches up with what came meanwhile

    monkeypatch.setattr(replaying, "replay", gated_replay)
    old_stop, new_stop = asyncio.Event(), asyncio.Event()
    old_release = asyncio.create_task(
        run_live(infra.kafka_bootstrap, infra.database_url, old, old_stop, poll=0.3)
    )
    conn = await asyncpg.connect(infra.database_url)
    new_release = None
    try:
        await publish(infra.kafka_bootstrap, topic, [purchase(f"c-{i}", i) for i in range(10)])
        await wait_rows(conn, f"{name}.timeline_entries", 10)
        new_release = asyncio.create_task(
            run_live(infra.kafka_bootstrap, infra.database_url, new, new_stop, poll=0.3)
        )
        await wait_status(conn, name, 2, "building")
        # While version 2 rebuilds, readers' version 1 stays fresh: the old release writes.
        await publish(
            infra.kafka_bootstrap, topic, [purchase("c-during", 100 + i) for i in range(5)]
        )
        await wait_rows(conn, f"{name}.timeline_entries", 15)
        assert (await live_version(conn, name)).number == 1
        assert await conn.fetchval(f"SELECT count(*) FROM {name}_v1.timeline_entries") == 15
        replay_may_finish.set()
        await wait_status(conn, name, 2, "live")
        assert await conn.fetchval(f"SELECT to_regclass('{name}.release_2_marker')") is not None
        # After the swap the new release writes version 2 (the old one stepped down: its
        # consumer is gone before it lets go of the writer lock); the old one writes no more.
        await wait_group_members(infra.kafka_bootstrap, f"projection.{name}.v2", 1)
        await publish(
            infra.kafka_bootstrap, topic, [purchase("c-after", 200 + i) for i in range(5)]
        )
        await wait_rows(conn, f"{name}.timeline_entries", 20)
        assert await conn.fetchval(f"SELECT count(*) FROM {name}_v2.timeline_entries") == 20
        assert await conn.fetchval(f"SELECT count(*) FROM {name}_v1.timeline_entries") == 15
        assert not old_release.done() and not new_release.done()
    finally:
        old_stop.set()
        new_stop.set()
        await old_release
        if new_release is not None:
            await new_release
        await conn.close()
