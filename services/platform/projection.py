"""Versioned projections: rebuilt from offset 0 into a fresh schema, swapped in live.

A projection ``timeline`` lives in versioned schemas ``timeline_v1``, ``timeline_v2`` …,
each filled by its own consumer group ``projection.timeline.vN``. Readers (APIs,
analysts) use the schema ``timeline``, whose views point at the live version.

Rebuilding (``crm projection rebuild timeline``) creates the next version, consumes every
topic from offset 0 into it, and once it has caught up swaps the views in one
transaction: readers never see an empty or half-built table. The projector process
notices the swap and continues with the new version's consumer group, from where the
rebuild stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import multiprocessing
import os
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import asyncpg
import uvloop
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from contracts.topics import TOPICS, TopicSpec
from services.platform.consumer import (
    INBOX_SQL,
    TRANSIENT_ERRORS,
    BatchHandler,
    ConsumedEvent,
    EventConsumer,
    Handler,
    PoisonRecord,
    run_consumers,
)
from services.platform.db import Connection, apply_sql, check_schema_name, create_pool
from services.platform.kafka import (
    ensure_topics,
    make_producer,
    stop_consumer,
    topic_partitions,
)
from services.platform.logging import configure_logging, get_logger
from services.platform.migrate import (
    PROJECTION_CATALOG,
    PROJECTION_CATALOG_SCHEMA,
    migrate_projection_catalog,
    require_migrated,
)
from services.platform.runtime import replay_gc

log = get_logger(__name__)

ANALYST_ROLE = "crm_analyst"


@dataclass(frozen=True)
class ProjectionSpec:
    name: str
    sql_files: tuple[Path, ...]
    handler: Handler
    topics: tuple[str, ...]
    dead_letter_topic: str
    batch_handler: BatchHandler | None = None
    parallel_replay: bool = False
    """Its writers may run at once (its tables say how: keys, locks), so a rebuild may
    replay the partitions in several processes."""

    @property
    def layout(self) -> str:
        """Digest of the projection's DDL: versions built from other DDL are rebuilt."""
        digest = hashlib.sha256()
        for file in self.sql_files:
            digest.update(file.read_bytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Version:
    projection: str
    number: int
    schema: str
    group: str
    status: str
    layout: str | None = None


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
        live = await live_version(conn, spec.name)
    finally:
        await conn.close()
    return live if live is not None else await create_version(database_url, spec, "live")


async def _live_or_first(database_url: str, spec: ProjectionSpec) -> Version:
    """The live version; version 1 when the projection has none yet (a new projection's
    first start: DDL in a schema nobody reads, no lock on any table in use)."""
    conn = await asyncpg.connect(database_url)
    try:
        await require_migrated(conn, PROJECTION_CATALOG_SCHEMA, [PROJECTION_CATALOG])
        live = await live_version(conn, spec.name)
    finally:
        await conn.close()
    return live if live is not None else await create_version(database_url, spec, "live")


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


LIVE_BATCH = 500
"""Records per poll when following the live stream: small batches, fresh rows."""
REPLAY_BATCH = 5000
"""Records per poll when replaying from offset 0: fewer, larger transactions."""


async def _consume(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    version: Version,
    stop: asyncio.Event,
) -> None:
    pool = await create_pool(database_url, version.schema, max_size=4)
    try:
        consumer = _applier(bootstrap, pool, spec, version, LIVE_BATCH)
        await run_consumers(bootstrap, [consumer], stop)
    finally:
        await pool.close()


def _applier(
    bootstrap: str, pool: asyncpg.Pool, spec: ProjectionSpec, version: Version, batch_size: int
) -> EventConsumer:
    """The consumer runtime applying ``spec``'s events to ``version``: live or replaying."""
    return EventConsumer(
        group=version.group,
        topics=spec.topics,
        pool=pool,
        handler=spec.handler,
        batch_handler=spec.batch_handler,
        producer_factory=partial(make_producer, bootstrap),
        dead_letter_topic=spec.dead_letter_topic,
        batch_size=batch_size,
    )


async def run_live(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    stop: asyncio.Event,
    poll: float = 2.0,
) -> None:
    """Keep the live version up to date; follow a swap to a rebuilt version.

    One process at a time writes a projection's live version: a second one started for
    the same projection stands by until the first stops or dies, then takes over (some
    projections, like the customer 360, must not have two writers at once).

    A live version built from other DDL than this process's (a new release changed the
    layout) is rebuilt in the background, and this process writes nothing until its own
    layout is swapped in: meanwhile the process of the previous release, if one still
    runs, keeps the live version consuming, so readers never see it freeze. A version of
    another layout swapped in later (by another release) is left to its own processes:
    this one stands by rather than rebuild back and forth.
    """
    await _ensure_topics(bootstrap, spec)
    first = await _live_or_first(database_url, spec)
    rebuilding: asyncio.Task[Version] | None = None
    if first.layout != spec.layout:
        log.warning("projection.layout_changed", projection=spec.name, version=first.number)
        rebuilding = asyncio.create_task(rebuild(bootstrap, database_url, spec))
    try:
        while not stop.is_set():
            if not await _own_layout_is_live(database_url, spec, rebuilding, stop, poll):
                return  # stopped while waiting
            writer = await _sole_writer(database_url, spec.name, stop, poll)
            if writer is None:
                return  # stopped while standing by
            try:
                await _write_live(bootstrap, database_url, spec, writer, stop, poll)
            finally:
                if not writer.is_closed():
                    await writer.close()  # and with it the lock: a standby takes over
    finally:
        if rebuilding is not None and not rebuilding.done():
            rebuilding.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await rebuilding


async def _own_layout_is_live(
    database_url: str,
    spec: ProjectionSpec,
    rebuilding: asyncio.Task[Version] | None,
    stop: asyncio.Event,
    poll: float,
) -> bool:
    """Wait until the live version has this process's layout (False: ``stop`` came first).
    A failed background rebuild ends the process (its supervisor starts it again)."""
    standing_by = False
    while not stop.is_set():
        if rebuilding is not None and rebuilding.done():
            rebuilding.result()  # raises what the rebuild raised
        conn = await asyncpg.connect(database_url)
        try:
            live = await live_version(conn, spec.name)
        finally:
            await conn.close()
        if live is not None and live.layout == spec.layout:
            return True
        if not standing_by:
            log.info("projection.waiting_for_own_layout", projection=spec.name,
                     live=live.number if live else None)  # fmt: skip
            standing_by = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)
    return False


async def _write_live(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    writer: asyncpg.Connection,
    stop: asyncio.Event,
    poll: float,
) -> None:
    """Consume into the live version while this process holds the writer lock and the
    live version has its layout; follow swaps to rebuilt versions of the same layout."""
    while not stop.is_set() and not writer.is_closed():
        try:  # a rebuild can take long: is the lock still ours?
            version = await _live_version_as_writer(writer, spec.name)
        except _WriterLockLost:
            return  # ask for it again
        if version is None or version.layout != spec.layout:
            return  # another layout went live: wait for ours again
        log.info("projection.live", projection=spec.name, version=version.number)
        switched = asyncio.Event()
        watcher = asyncio.create_task(_watch(writer, version, stop, switched, poll))
        try:
            await _consume(bootstrap, database_url, spec, version, switched)
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher


class _WriterLockLost(Exception):
    """The session holding the writer lock is gone, and the lock with it."""


async def _live_version_as_writer(writer: asyncpg.Connection, projection: str) -> Version | None:
    """The live version, asked on the writer lock's own session: an answer also says the
    lock is still held. No answer (within 10 s) ends the session: ``_WriterLockLost``."""
    try:
        return await asyncio.wait_for(live_version(writer, projection), 10)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        log.warning("projection.writer_lock_lost", projection=projection, error=repr(exc))
        writer.terminate()
        raise _WriterLockLost from exc


_KEEPALIVES = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5",
               "tcp_keepalives_count": "3"}  # fmt: skip
"""The server drops the lock of a writer whose host vanished within about 25 s (the
default keepalives would wait two hours); a process that dies closes its socket at once."""


async def _sole_writer(
    database_url: str, projection: str, stop: asyncio.Event, poll: float
) -> asyncpg.Connection | None:
    """A connection holding the projection's writer lock (a session advisory lock, gone
    with the session if this process dies); None if ``stop`` came first."""
    standing_by = False
    while not stop.is_set():
        conn: asyncpg.Connection | None = None
        try:
            conn = await asyncpg.connect(database_url, server_settings=_KEEPALIVES)
            locked = await conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtextextended($1, 0))",
                f"crm-projection-writer:{projection}",
            )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            locked = False  # the database blinked; try again
        if locked and conn is not None:
            if standing_by:
                log.info("projection.taking_over", projection=projection)
            return conn
        if conn is not None:
            conn.terminate()
            if not standing_by:
                log.info("projection.standing_by", projection=projection)
                standing_by = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)
    return None


async def _ensure_topics(bootstrap: str, spec: ProjectionSpec) -> None:
    """The topics ``spec`` reads and dead-letters to: the catalogue's, or ad hoc ones."""
    known = {t.name: t for t in TOPICS}
    await ensure_topics(
        bootstrap,
        [known.get(n, TopicSpec(n, 3, "ad hoc")) for n in (*spec.topics, spec.dead_letter_topic)],
    )


async def _watch(
    writer: asyncpg.Connection,
    version: Version,
    stop: asyncio.Event,
    switched: asyncio.Event,
    poll: float,
) -> None:
    """Stop the consumer (``switched``) when a rebuilt version is swapped in, or when the
    writer lock's connection is lost (another process may hold the lock by now)."""
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll)
            if stop.is_set():
                break
            try:
                live = await _live_version_as_writer(writer, version.projection)
            except _WriterLockLost:
                break
            if live is not None and live.number != version.number:
                log.info("projection.swapped", projection=version.projection, to=live.number)
                break
    finally:
        switched.set()


async def rebuild(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    *,
    max_lag: int = 0,
    give_up_after: float = 3600,
    workers: int | None = None,
) -> Version:
    """Replay every topic from offset 0 into a new version, then swap it in."""
    with replay_gc():
        return await _rebuild(bootstrap, database_url, spec, max_lag, give_up_after, workers)


async def _rebuild(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    max_lag: int,
    give_up_after: float,
    workers: int | None,
) -> Version:
    await _ensure_topics(bootstrap, spec)
    version = await create_version(database_url, spec, "building")
    log.info("projection.rebuilding", projection=spec.name, version=version.number)
    await replay(bootstrap, database_url, spec, version, max_lag, give_up_after, workers)
    await swap_in(database_url, version)
    log.info("projection.swapped_in", projection=spec.name, version=version.number)
    return version


REPLAY_PARSE_CHUNK = 500
"""Records parsed between two turns of the event loop while replaying: the previous
batch's database work moves on in between, so parsing and writing overlap."""


def replay_workers(spec: ProjectionSpec) -> int:
    """Processes a rebuild of ``spec`` replays in: one per core (``CRM_REPLAY_WORKERS``
    overrides), or one where its writers may not run at once."""
    if not spec.parallel_replay:
        return 1
    configured = os.environ.get("CRM_REPLAY_WORKERS")
    return max(1, int(configured) if configured else len(os.sched_getaffinity(0)))


async def replay(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    version: Version,
    max_lag: int = 0,
    seconds: float = 3600,
    workers: int | None = None,
) -> None:
    """Apply ``spec``'s topics from the version's committed offsets (offset 0 for a new
    version) until at most ``max_lag`` records remain (per replaying process), committing
    the group's offsets; give up after ``seconds``.

    The partitions are shared among ``workers`` processes (``replay_workers``): this one
    and ones it starts. Each runs ``_replay_share``: the same effectively-once path as
    the live consumer (``EventConsumer.apply``: inbox, dead letters, isolation of a
    failing event), pipelined: the next batch is fetched and parsed while the previous
    one is written, and offsets are committed batch after batch once that batch's
    transaction has committed. The group has no members while replaying (partitions are
    assigned, not subscribed); the live projector joins it after the swap and goes on
    from the committed offsets.
    """
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await reader.start()
    try:
        tps = [tp for topic in spec.topics for tp in await topic_partitions(reader, topic)]
    finally:
        await stop_consumer(reader)
    count = max(1, min(workers or replay_workers(spec), len(tps)))
    if count > 1 and not spec.parallel_replay:
        raise ValueError(f"{spec.name} may not be replayed by several processes at once")
    shares = [tps[n::count] for n in range(count)]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no loop, no sockets
    children: list[multiprocessing.process.BaseProcess] = []
    try:
        for n, share in enumerate(shares[1:], start=1):
            process = context.Process(
                target=_replay_child,
                args=(bootstrap, database_url, spec, version, share, max_lag, seconds, os.getpid()),
                name=f"replay-{spec.name}-{n}",
                daemon=True,
            )
            process.start()
            children.append(process)
        own = asyncio.create_task(
            _replay_share(bootstrap, database_url, spec, version, shares[0], max_lag, deadline)
        )
        try:
            # A child that fails stops the rebuild at once, not when this share is done.
            while True:
                failed: dict[str, int | None] = {
                    c.name: c.exitcode for c in children if c.exitcode not in (None, 0)
                }
                if failed:
                    raise RuntimeError(f"replay processes failed (exit codes): {failed}")
                if not own.done():
                    await asyncio.wait([own], timeout=0.5)
                elif own.cancelled() or own.exception() is not None:
                    break  # raised below
                elif any(child.is_alive() for child in children):
                    await asyncio.sleep(0.5)
                else:
                    break
        finally:
            if not own.done():
                own.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await own  # its error, if it failed
        exits = {c.name: c.exitcode for c in children if c.exitcode != 0}
        if exits:
            raise RuntimeError(f"replay processes failed (exit codes): {exits}")
    finally:
        for child in children:
            if child.is_alive():
                child.terminate()
                child.join(10)
    if children:
        # The shares finished at different times, and events kept arriving on the
        # partitions of those done first: one last pass over all of them, so the lag at
        # the swap is at most max_lag however long the slowest share took.
        await _replay_share(bootstrap, database_url, spec, version, tps, max_lag, deadline)


def _replay_child(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    version: Version,
    share: list[TopicPartition],
    max_lag: int,
    seconds: float,
    parent: int,
) -> None:
    """A replaying process's life: its share of the partitions, then exit 0; it gives up
    as soon as the process that started it is gone (killed, say), rather than writing on
    into a version nobody will swap in."""
    configure_logging(os.environ.get("CRM_LOG_LEVEL", "INFO"))

    async def main() -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        work = asyncio.create_task(
            _replay_share(bootstrap, database_url, spec, version, share, max_lag, deadline)
        )
        while not work.done():
            await asyncio.wait([work], timeout=1.0)
            if os.getppid() != parent:
                work.cancel()
                log.warning("projection.replay_orphaned", projection=spec.name)
                sys.exit(3)
        await work

    with replay_gc(), asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main())


async def _replay_share(
    bootstrap: str,
    database_url: str,
    spec: ProjectionSpec,
    version: Version,
    tps: list[TopicPartition],
    max_lag: int,
    deadline: float,
) -> None:
    """Replay the partitions ``tps`` in this process (see ``replay``) until at most
    ``max_lag`` records remain, or the loop's clock passes ``deadline``."""
    pool = await create_pool(database_url, version.schema, max_size=2)
    applier = _applier(bootstrap, pool, spec, version, REPLAY_BATCH)
    kafka = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=version.group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 << 20,
    )
    await kafka.start()
    pending: asyncio.Task[None] | None = None
    loop = asyncio.get_running_loop()
    try:
        kafka.assign(tps)
        for tp in tps:
            if await kafka.committed(tp) is None:
                await kafka.seek_to_beginning(tp)
        ends: dict[TopicPartition, int] = {}
        ends_read_at = 0.0
        while True:
            if loop.time() > deadline:
                raise TimeoutError(f"rebuild of {spec.name} did not catch up in time")
            try:
                if loop.time() - ends_read_at > 1.0:  # new events keep arriving meanwhile
                    ends, ends_read_at = await kafka.end_offsets(tps), loop.time()
                behind = 0
                for tp in tps:
                    behind += max(0, ends[tp] - await kafka.position(tp))
                if behind <= max_lag:
                    break
                fetched = await kafka.getmany(timeout_ms=500, max_records=REPLAY_BATCH)
            except KafkaError as exc:  # the broker blinked: nothing read, nothing lost
                log.warning("projection.replay_kafka_error", group=version.group, error=repr(exc))
                await asyncio.sleep(1.0)
                continue
            records = [record for batch in fetched.values() for record in batch]
            if not records:
                continue
            parsed, poison = [], []
            for start in range(0, len(records), REPLAY_PARSE_CHUNK):
                more, bad = applier.parse(records[start : start + REPLAY_PARSE_CHUNK])
                parsed += more
                poison += bad
                await asyncio.sleep(0)  # let the previous batch's writes go on
            if pending is not None:
                await pending
            offsets = {tp: batch[-1].offset + 1 for tp, batch in fetched.items() if batch}
            pending = asyncio.create_task(
                _apply_and_commit(applier, kafka, parsed, poison, offsets, deadline)
            )
        if pending is not None:
            await pending
            pending = None
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pending
        await stop_consumer(kafka)
        await applier.close()
        await pool.close()


async def _apply_and_commit(
    applier: EventConsumer,
    kafka: AIOKafkaConsumer,
    parsed: list[ConsumedEvent],
    poison: list[tuple[ConsumerRecord[Any, Any], PoisonRecord]],
    offsets: dict[TopicPartition, int],
    deadline: float,
) -> None:
    """One replayed batch: applied (retried until it is, or until ``deadline``), then its
    offsets committed."""
    loop = asyncio.get_running_loop()
    dead_lettered: set[tuple[str, int, int]] = set()  # survives retries of this batch
    backoff = 0.1
    while True:
        try:
            await applier.apply(parsed, poison, dead_lettered)
            break
        except TRANSIENT_ERRORS as exc:
            log.warning("projection.replay_transient_error", group=applier.group, error=repr(exc))
            error: BaseException = exc
        except Exception as exc:  # not the records' fault (those are isolated): try again
            log.error("projection.replay_batch_failed", group=applier.group, error=repr(exc))
            error = exc
        if loop.time() > deadline:
            raise TimeoutError(f"replay of {applier.group} kept failing: {error!r}") from error
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 5.0)
    while True:
        try:
            await kafka.commit(offsets)
            return
        except KafkaError as exc:  # the batch is in; only its offsets wait for the broker
            log.warning("projection.replay_commit_failed", group=applier.group, error=repr(exc))
            if loop.time() > deadline:
                raise
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 5.0)
