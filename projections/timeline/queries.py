"""Reading the timeline: keyset pages, filters, time travel.

Order is by occurrence with a stable tie-break, ``(occurred_at, sort_key)``, where
``sort_key`` stands for (stream id, stream version, event source, event id). Every page is
a range scan of the index ``(customer_id, occurred_at, sort_key)`` from the cursor on, with
no OFFSET, so a customer with 100,000 entries pages as fast as one with ten.

Time travel (``as_of``) uses occurrence time: the timeline as of an instant holds the
facts that *happened* by then. That is business time: a shop that publishes a purchase
late still describes a purchase made in the past, and the profile of that past includes
it. (What the CRM *knew* at an instant would use ``projected_at`` instead; it is recorded,
but it is the arrival order of one projector's run, not something a person asks about,
and it changes on every rebuild.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg
import orjson

from services.platform.db import Connection
from services.platform.tokens import decode_token, encode_token

MAX_LIMIT = 1000
EXTERNAL_CONTEXT = "external"
"""A ``contexts`` filter value matching every entry that came from another system."""

ENTRY_COLUMNS = (
    "event_source, event_id, customer_id, named_customer_id, occurred_at, context, origin, "
    "channel, event_type, summary, actor, links, stream_id, stream_version, correlation_id, "
    "payload, deal_owner, deal_team, projected_at"
)
"""What a reader gets of an entry (``entry_from_row`` turns a row of them into JSON)."""
_COLUMNS = ENTRY_COLUMNS + ", sort_key"
_DEAL_COLUMNS = "deal_owner, deal_team"
_NO_DEAL_COLUMNS = "NULL::text AS deal_owner, NULL::text AS deal_team"


async def fetch_entries(conn: Connection, sql: str, *args: Any) -> list[Any]:
    """Rows of ``sql`` (a query of ``ENTRY_COLUMNS``), also from a live version of the
    layout before entries carried their deal's owner and team, while its successor is
    being rebuilt: those read as unknown, which readers that filter by team hide."""
    try:
        return list(await conn.fetch(sql, *args))
    except asyncpg.UndefinedColumnError:
        return list(await conn.fetch(sql.replace(_DEAL_COLUMNS, _NO_DEAL_COLUMNS, 1), *args))


_DIRECTIONS = {True: "desc", False: "asc"}
_WORDS = {True: "newest-first", False: "oldest-first"}


@dataclass(frozen=True)
class TimelinePage:
    entries: list[dict[str, Any]] = field(default_factory=list)
    next_cursor: str | None = None


def encode_cursor(occurred_at: datetime, sort_key: str, newest_first: bool) -> str:
    """An opaque, URL-safe token for the position after (occurred_at, sort_key)."""
    return encode_token([occurred_at.isoformat(), sort_key, _DIRECTIONS[newest_first]])


def decode_cursor(cursor: str, newest_first: bool) -> tuple[datetime, str]:
    """The position a cursor stands for; ``ValueError`` saying why when it is not one."""
    try:
        occurred, sort_key, direction = decode_token(cursor)
        if not isinstance(occurred, str) or not isinstance(sort_key, str):
            raise TypeError("wrong field types")
        at = datetime.fromisoformat(occurred)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"invalid timeline cursor {cursor[:80]!r}: not a cursor from page()"
        ) from exc
    if at.tzinfo is None:
        raise ValueError(f"invalid timeline cursor {cursor[:80]!r}: time has no timezone")
    if direction != _DIRECTIONS[newest_first]:
        made, wanted = _WORDS[direction == "desc"], _WORDS[newest_first]
        raise ValueError(
            f"invalid timeline cursor: it continues a {made} listing, "
            f"but this listing's direction is {wanted}"
        )
    return at, sort_key


def build_page_query(
    customer_id: str,
    *,
    contexts: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    as_of: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
    newest_first: bool = True,
) -> tuple[str, list[Any]]:
    """The SQL and arguments of one page (``limit + 1`` rows, to know if more follow).

    ``since`` is inclusive, ``until`` exclusive, ``as_of`` inclusive. Public so that the
    plan can be checked with ``EXPLAIN``.
    """
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}, not {limit}")
    for name, value in (("since", since), ("until", until), ("as_of", as_of)):
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{name} must be timezone-aware")
    args: list[Any] = [customer_id]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = ["customer_id = $1"]
    if since is not None:
        where.append(f"occurred_at >= {arg(since)}")
    if until is not None:
        where.append(f"occurred_at < {arg(until)}")
    if as_of is not None:
        where.append(f"occurred_at <= {arg(as_of)}")
    if contexts is not None:
        wanted = list(contexts)
        clause = f"context = ANY({arg(wanted)}::text[])"
        if EXTERNAL_CONTEXT in wanted:
            clause = f"({clause} OR origin = 'external')"
        where.append(clause)
    if event_types is not None:
        where.append(f"event_type = ANY({arg(list(event_types))}::text[])")
    if cursor is not None:
        at, sort_key = decode_cursor(cursor, newest_first)
        # A row comparison on the index's columns: an index condition, not a filter.
        op = "<" if newest_first else ">"
        where.append(f"(occurred_at, sort_key) {op} ({arg(at)}, {arg(sort_key)})")
    order = "DESC" if newest_first else "ASC"
    sql = (
        f"SELECT {_COLUMNS} FROM timeline_entries WHERE {' AND '.join(where)} "
        f"ORDER BY occurred_at {order}, sort_key {order} LIMIT {arg(limit + 1)}"
    )
    return sql, args


def entry_from_row(row: Any) -> dict[str, Any]:
    entry = dict(row)
    entry["links"] = orjson.loads(entry["links"])
    entry["payload"] = orjson.loads(entry["payload"])
    return entry


async def page(
    conn: Connection,
    customer_id: str,
    *,
    contexts: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    as_of: datetime | None = None,
    cursor: str | None = None,
    limit: int = 50,
    newest_first: bool = True,
) -> TimelinePage:
    """One page of a customer's timeline; pass ``next_cursor`` back for the next one.

    ``contexts`` matches the entry's bounded context; the value ``"external"`` also
    matches every entry another system published. Raises ``ValueError`` for an invalid
    cursor (or one made for the other direction), a naive datetime, or a bad limit.
    """
    sql, args = build_page_query(
        customer_id,
        contexts=contexts,
        event_types=event_types,
        since=since,
        until=until,
        as_of=as_of,
        cursor=cursor,
        limit=limit,
        newest_first=newest_first,
    )
    rows = await fetch_entries(conn, sql, *args)
    entries = [entry_from_row(row) for row in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = entries[-1]
        next_cursor = encode_cursor(last["occurred_at"], last["sort_key"], newest_first)
    for entry in entries:
        del entry["sort_key"]
    return TimelinePage(entries, next_cursor)


async def entries_up_to(
    conn: Connection, customer_id: str, as_of: datetime
) -> list[tuple[str, dict[str, Any], datetime]]:
    """(event type, payload, occurred_at) of every event naming the customer that occurred
    by ``as_of``, in order.

    For folding into the customer's profile as it stood at ``as_of`` (business time, as
    for ``page``). Only the events that named this customer: a merged duplicate's events
    sit on the survivor's timeline but never were the survivor's profile, as in the live
    customer 360.
    """
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")
    rows = await conn.fetch(
        "SELECT event_type, payload, occurred_at FROM timeline_entries "
        "WHERE customer_id = $3 AND named_customer_id = $1 AND occurred_at <= $2 "
        "ORDER BY occurred_at, sort_key",
        customer_id,
        as_of,
        await survivor_of(conn, customer_id),
    )
    return [(r["event_type"], orjson.loads(r["payload"]), r["occurred_at"]) for r in rows]


async def survivor_of(conn: Connection, customer_id: str) -> str:
    """The customer whose timeline holds ``customer_id``'s entries: itself unless merged."""
    survivor: str | None = await conn.fetchval(
        "SELECT survivor_customer_id FROM customer_merges WHERE merged_customer_id = $1",
        customer_id,
    )
    return survivor or customer_id
