"""Keeping the live version up to date: one writer at a time, following swaps, and a
new layout rebuilt in the background."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from services.platform.logging import get_logger
from services.platform.projection.applying import consume_live, ensure_projection_topics
from services.platform.projection.replaying import rebuild
from services.platform.projection.spec import ProjectionSpec, Version
from services.platform.projection.versions import live_or_first, live_version

log = get_logger(__name__)


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
    await ensure_projection_topics(bootstrap, spec)
    first = await live_or_first(database_url, spec)
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
            await consume_live(bootstrap, database_url, spec, version, switched)
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
