"""The gateway's reads: customer 360, timeline (pages and live), search, read-your-writes.

Reads come from the projections' reader schemas (``timeline``, ``customer360``), never
from a service's event store. A command's answer carries a consistency token naming the
events it wrote; ``wait_for=<token>`` on a read waits (bounded) until the projection has
applied them, so a front end never shows the state from before its own change.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import orjson

from projections.timeline.queries import ENTRY_COLUMNS, entry_from_row, fetch_entries
from services.platform.db import check_schema_name
from services.platform.faults import DATABASE_UNREACHABLE, RETRY_AFTER_SECONDS
from services.platform.logging import get_logger
from services.platform.projection import live_version
from services.platform.tokens import (
    BadToken,
    decode_token,
    encode_token,
    make_consistency_token,
    read_consistency_token,
)

make_token = make_consistency_token
read_token = read_consistency_token
__all__ = ["BadToken", "make_token", "read_token"]


class Projections:
    """Where each projection's live version is, re-read every few seconds (rebuild swaps)."""

    def __init__(self, pool: asyncpg.Pool, ttl: float = 2.0) -> None:
        self.pool = pool
        self.ttl = ttl
        self._cache: dict[str, tuple[float, tuple[str, str] | None]] = {}

    async def live(self, projection: str) -> tuple[str, str] | None:
        """(schema, consumer group) of the live version, None when there is none yet."""
        now = time.monotonic()
        cached = self._cache.get(projection)
        if cached is not None and now - cached[0] < self.ttl:
            return cached[1]
        try:
            async with self.pool.acquire() as conn:
                version = await live_version(conn, projection)
        except asyncpg.UndefinedTableError:  # no projection has ever run here
            version = None
        found = None if version is None else (check_schema_name(version.schema), version.group)
        self._cache[projection] = (now, found)
        return found

    async def applied(self, projection: str, source: str, event_ids: Sequence[str]) -> bool:
        live = await self.live(projection)
        if live is None:
            return False
        schema, group = live
        done = await self.pool.fetchval(
            f'SELECT count(*) FROM "{schema}".inbox '
            "WHERE consumer = $1 AND event_source = $2 AND event_id = ANY($3::text[])",
            group,
            source,
            list(event_ids),
        )
        return bool(done == len(set(event_ids)))

    async def wait_applied(
        self, projection: str, token: str, within: float, poll: float = 0.05
    ) -> bool:
        """True once ``projection`` applied every event of ``token``; False at the timeout."""
        source, ids = read_token(token)
        deadline = time.monotonic() + within
        while True:
            if await self.applied(projection, source, ids):
                return True
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(poll)


STREAM_PAGE = 200
LATE_COMMIT_WINDOW = timedelta(seconds=2)
"""How far back each poll looks again: an entry's ``projected_at`` is taken when it is
written, and a transaction may commit after others that wrote later."""

Position = tuple[datetime, str, str]
"""(projected_at, event_source, event_id): where a live stream stands."""


def encode_position(position: Position) -> str:
    at, source, ident = position
    return encode_token([at.isoformat(), source, ident])


def decode_position(text: str) -> Position:
    """A ``Last-Event-ID`` this stream sent; ``ValueError`` for anything else."""
    try:
        at, source, ident = decode_token(text)
        when = datetime.fromisoformat(at)
        if when.tzinfo is None or not isinstance(source, str) or not isinstance(ident, str):
            raise ValueError
        when = when.astimezone(UTC)
        if not 1970 <= when.year <= 9000:  # and so representable a window earlier, too
            raise ValueError
    except (ValueError, TypeError, OverflowError):
        raise ValueError("Last-Event-ID: not an id this stream sent") from None
    return when, source, ident


Visible = Callable[[Any, list[dict[str, Any]]], Awaitable[list[dict[str, Any]]]]


log = get_logger(__name__)


async def _poll(
    pool: asyncpg.Pool,
    customer_id: str,
    after: Position,
    last: Position,
    sent: dict[tuple[str, str], datetime],
    visible: Visible,
) -> tuple[list[bytes], Position]:
    """One poll of a live stream: the events of the entries projected after ``after`` not
    sent yet (page after page until one comes back short), and the last position seen."""
    chunks: list[bytes] = []
    async with pool.acquire(timeout=5) as conn:
        while True:
            rows = await fetch_entries(
                conn,
                f"SELECT {ENTRY_COLUMNS} FROM timeline_entries WHERE customer_id = $1 "
                "AND (projected_at, event_source, event_id) > ($2, $3, $4) "
                "ORDER BY projected_at, event_source, event_id LIMIT $5",
                customer_id, *after, STREAM_PAGE,
            )  # fmt: skip
            fresh = [r for r in rows if (r["event_source"], r["event_id"]) not in sent]
            entries = await visible(conn, [entry_from_row(r) for r in fresh])
            for row in fresh:
                sent[(row["event_source"], row["event_id"])] = row["projected_at"]
                last = max(last, (row["projected_at"], row["event_source"], row["event_id"]))
            for entry in entries:
                position = (entry["projected_at"], entry["event_source"], entry["event_id"])
                chunks.append(
                    b"event: timeline-entry\nid: " + encode_position(position).encode()
                    + b"\ndata: " + orjson.dumps(entry) + b"\n\n"
                )  # fmt: skip
            if len(rows) < STREAM_PAGE:
                return chunks, last
            tail = rows[-1]
            after = (tail["projected_at"], tail["event_source"], tail["event_id"])


STREAM_UNAVAILABLE = (
    b"event: unavailable\ndata: " + orjson.dumps({"retry_after": RETRY_AFTER_SECONDS}) + b"\n\n"
)
"""What a live stream says before it ends when the database fails under it."""


async def live_entries(
    pool: asyncpg.Pool,
    customer_id: str,
    start: Position,
    visible: Visible,
    is_disconnected: Callable[[], Awaitable[bool]],
    stop: asyncio.Event,
    ends_at: float | None = None,
    poll: float = 0.5,
    heartbeat: float = 15.0,
) -> AsyncIterator[bytes]:
    """Server-Sent Events: each timeline entry projected after ``start``, as it lands.

    Each poll pages by (projected_at, source, id) from a little before the last entry
    sent, skipping what was sent, until a page comes back short: a burst of entries is
    sent whole, and an entry whose transaction committed late is still sent. The event
    id is the entry's position, so a browser's reconnection (Last-Event-ID) resumes right
    after it. The stream ends when the caller's credentials expire (the browser
    reconnects, with fresh ones).
    """
    sent: dict[tuple[str, str], datetime] = {}
    last = start
    after = start
    last_beat = time.monotonic()
    yield b"retry: 2000\n\n"
    while not stop.is_set() and not await is_disconnected():
        if ends_at is not None and time.time() >= ends_at:
            yield b"event: credentials-expired\ndata: {}\n\n"
            return
        try:
            chunks, last = await _poll(pool, customer_id, after, last, sent, visible)
        except DATABASE_UNREACHABLE as exc:
            # The stream has begun (200), so no 503 can be answered now: say so as an
            # event and end; the client reconnects after `retry` with Last-Event-ID and
            # misses nothing.
            log.warning("gateway.stream_database_unavailable", error=repr(exc))
            yield STREAM_UNAVAILABLE
            return
        for chunk in chunks:
            yield chunk
        window_start = last[0] - LATE_COMMIT_WINDOW
        after = (window_start, "", "")
        for key in [k for k, at in sent.items() if at < window_start]:
            del sent[key]
        if time.monotonic() - last_beat >= heartbeat:
            last_beat = time.monotonic()
            yield b": keep-alive\n\n"
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=poll)
