"""Rebuilding: replay every topic from offset 0 into a new version, then swap it in."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import sys
from typing import Any

import uvloop
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import KafkaError

from services.platform.consumer import (
    TRANSIENT_ERRORS,
    ConsumedEvent,
    EventConsumer,
    PoisonRecord,
)
from services.platform.db import create_pool
from services.platform.kafka import (
    stop_consumer,
    topic_partitions,
)
from services.platform.logging import configure_logging, get_logger
from services.platform.projection.applying import (
    REPLAY_BATCH,
    ensure_projection_topics,
    make_applier,
)
from services.platform.projection.spec import ProjectionSpec, Version
from services.platform.projection.versions import create_version, swap_in
from services.platform.runtime import replay_gc

log = get_logger(__name__)


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
    await ensure_projection_topics(bootstrap, spec)
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
    applier = make_applier(bootstrap, pool, spec, version, REPLAY_BATCH)
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
                more, bad = await applier.parse(records[start : start + REPLAY_PARSE_CHUNK])
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
