"""Append-only event store on PostgreSQL with optimistic concurrency.

``append`` writes a command's events in one statement (one transaction) after checking
the stream's version; a concurrent writer gets ``WrongExpectedVersion``, never a merge.
The ``events`` table is also the outbox the relay publishes from.

Personal fields are sealed with their subject's key before the insert
(``services.platform.privacy``): the table, and so the topics, hold ciphertext only.
Reads open them again, or read them as erased once the key is destroyed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import orjson

from contracts.envelope import CloudEvent
from contracts.registry import DomainEvent, parse_data
from services.platform.db import Connection
from services.platform.privacy.codec import keys_for, open_data, seal_payloads, subjects_to_seal
from services.platform.privacy.data_keys import SubjectKeys

NO_STREAM = 0
"""Expected version of a stream that must not exist yet."""

MAX_EVENT_BYTES = 256 * 1024
"""An event's data must fit a Kafka record (1 MiB by default) with room to spare; a larger
one would stall the relay at that event forever."""


class EventTooLarge(ValueError):
    def __init__(self, event_type: str, size: int) -> None:
        super().__init__(f"{event_type} is {size} bytes; the limit is {MAX_EVENT_BYTES}")


class WrongExpectedVersion(Exception):
    """Another writer appended to the stream first; reload, decide again, retry."""

    def __init__(self, stream_id: str, expected: int, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r}: expected version {expected}, actual version {actual}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True)
class CommandContext:
    """Who/why of a command, copied onto every event it produces."""

    correlation_id: str | None = None
    causation_id: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class RecordedEvent:
    global_position: int
    transaction_id: int
    event_id: UUID
    stream_id: str
    stream_version: int
    event_type: str
    schema_version: int
    source: str
    customer_id: str | None
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: str | None
    causation_id: str | None
    payload: dict[str, Any] = field(repr=False)

    def to_cloudevent(self) -> CloudEvent:
        return CloudEvent(
            id=str(self.event_id),
            source=self.source,
            type=self.event_type,
            time=self.occurred_at,
            subject=self.stream_id,
            dataschema=f"urn:crm:schema:{self.event_type}:v{self.schema_version}",
            schemaversion=self.schema_version,
            streamid=self.stream_id,
            streamversion=self.stream_version,
            customerid=self.customer_id,
            correlationid=self.correlation_id,
            causationid=self.causation_id,
            data=self.payload,
        )

    def domain_event(self) -> DomainEvent:
        return parse_data(self.event_type, self.schema_version, self.payload)


@dataclass(frozen=True)
class AppendResult:
    stream_id: str
    version: int
    """The stream's version after the append (read your own writes up to this)."""
    event_ids: tuple[UUID, ...]
    global_positions: tuple[int, ...]


_COLUMNS = """global_position, transaction_id::text::bigint AS transaction_id, event_id, stream_id,
    stream_version, event_type, schema_version, source, customer_id, occurred_at,
    recorded_at, correlation_id, causation_id, payload::text AS payload"""

# The stream's head is read once; the insert happens only if it is at the expected version.
# The relay publishes in (transaction id, position) order. A writer whose xid is older than
# the stream's last event (possible only if it wrote something earlier in its transaction)
# would be published before that event: refuse it, the caller retries.
_HEAD = """
WITH last AS (
    SELECT stream_version, transaction_id FROM events
    WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1
), head AS (
    SELECT coalesce((SELECT stream_version FROM last), 0) AS version,
           (SELECT transaction_id FROM last) AS last_xid
)
"""
_GUARD = """
WHERE head.version = $2
  AND (head.last_xid IS NULL OR head.last_xid <= pg_current_xact_id())
RETURNING global_position, stream_version
"""
_APPEND_ONE = (
    _HEAD
    + """
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, source,
                    customer_id, occurred_at, correlation_id, causation_id, payload)
SELECT $6, $1, head.version + 1, $7, $8, $3, $9, $10, $4, $5, $11::jsonb
FROM head"""
    + _GUARD
)
_APPEND_MANY = (
    _HEAD
    + """
INSERT INTO events (event_id, stream_id, stream_version, event_type, schema_version, source,
                    customer_id, occurred_at, correlation_id, causation_id, payload)
SELECT e.event_id, $1, (head.version + e.ord)::int, e.event_type, e.schema_version, $3,
       e.customer_id, e.occurred_at, $4, $5, e.payload
FROM head,
     unnest($6::uuid[], $7::text[], $8::int[], $9::text[], $10::timestamptz[], $11::jsonb[])
         WITH ORDINALITY AS e(event_id, event_type, schema_version, customer_id, occurred_at,
                              payload, ord)"""
    + _GUARD
)


def wire_record(row: asyncpg.Record | dict[str, Any]) -> tuple[bytes, bytes]:
    """(key, value) of a stored event as the relay publishes it, straight from its row.

    The same structured-mode CloudEvent as ``RecordedEvent.to_cloudevent().to_json_bytes()``
    (a unit test holds them equal), built without re-validating or re-parsing the payload:
    the relay's hot path.
    """
    body: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(row["event_id"]),
        "source": row["source"],
        "type": row["event_type"],
        "time": row["occurred_at"],
        "subject": row["stream_id"],
        "datacontenttype": "application/json",
        "dataschema": f"urn:crm:schema:{row['event_type']}:v{row['schema_version']}",
        "schemaversion": row["schema_version"],
        "streamid": row["stream_id"],
        "streamversion": row["stream_version"],
    }
    for column, attribute in (
        ("customer_id", "customerid"),
        ("correlation_id", "correlationid"),
        ("causation_id", "causationid"),
    ):
        if row[column] is not None:
            body[attribute] = row[column]
    body["data"] = orjson.Fragment(row["payload"])
    key = row["customer_id"] or row["stream_id"]
    return key.encode(), orjson.dumps(body, option=orjson.OPT_UTC_Z)


async def _rows_to_recorded(
    keys: SubjectKeys | None, rows: Sequence[asyncpg.Record], personal: bool = True
) -> list[RecordedEvent]:
    values = [dict(row) for row in rows]
    for value in values:
        value["payload"] = orjson.loads(value["payload"])
    if keys is not None:
        # Without ``personal`` the boxes stay shut: the fields read as erased, and neither
        # a key nor a decryption is paid for (a decider's state needs no personal text).
        no_keys: dict[str, bytes | None] = {}
        datas = (v["payload"] for v in values)
        subject_keys = await keys_for(keys, datas) if personal else no_keys
        for value in values:
            value["payload"] = open_data(value["event_type"], value["payload"], subject_keys)
    return [RecordedEvent(**value) for value in values]


class EventStore:
    """Streams of one bounded context, in the schema its pool points at.

    ``keys``: the registry sealing personal fields. None stores them in plain text, which
    only the event store's own tests and the benchmarks' bare baselines do.
    """

    def __init__(self, pool: asyncpg.Pool, source: str, *, keys: SubjectKeys | None) -> None:
        self._pool = pool
        self.source = source
        self.keys = keys

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[DomainEvent],
        context: CommandContext | None = None,
        *,
        connection: Connection | None = None,
    ) -> AppendResult:
        """Append ``events`` if the stream is at ``expected_version``; all or nothing.

        Pass ``connection`` to append inside a transaction the caller owns (e.g. with an
        idempotency record or a consumer's inbox row).
        """
        if not events:
            raise ValueError("nothing to append")
        context = context or CommandContext()
        occurred = context.occurred_at or datetime.now(UTC)
        ids = [uuid4() for _ in events]
        if (
            connection is None
            and self.keys is not None
            and not self.keys.all_cached(subjects_to_seal(events))
        ):
            # The subjects' new keys and the events commit together, in one transaction.
            async with self._pool.acquire() as conn:
                try:
                    async with conn.transaction():
                        result = await self.append(
                            stream_id, expected_version, events, context, connection=conn
                        )
                except BaseException:
                    self.keys.discard(conn)
                    raise
                self.keys.confirm(conn)
                return result
        payloads = (
            await seal_payloads(self.keys, events, connection)
            if self.keys is not None
            else [e.model_dump_json() for e in events]
        )
        for event, payload in zip(events, payloads, strict=True):
            size = len(payload.encode())
            if size > MAX_EVENT_BYTES:
                raise EventTooLarge(event.event_type, size)
        args: tuple[Any, ...]
        if len(events) == 1:
            event = events[0]
            statement = _APPEND_ONE
            args = (
                stream_id, expected_version, self.source, context.correlation_id,
                context.causation_id, ids[0], event.event_type, event.schema_version,
                event.customer(), occurred, payloads[0],
            )  # fmt: skip
        else:
            statement = _APPEND_MANY
            args = (
                stream_id, expected_version, self.source, context.correlation_id,
                context.causation_id, ids, [e.event_type for e in events],
                [e.schema_version for e in events], [e.customer() for e in events],
                [occurred] * len(events), payloads,
            )  # fmt: skip
        try:
            if connection is not None:
                rows = await connection.fetch(statement, *args)
            else:
                async with self._pool.acquire() as conn:
                    rows = await conn.fetch(statement, *args)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != "events_stream_version_key":
                raise
            # A concurrent writer committed the same version between our check and insert.
            actual = await self.stream_version(stream_id, connection=None)
            raise WrongExpectedVersion(stream_id, expected_version, actual) from None
        if not rows:
            actual = await self.stream_version(stream_id, connection=connection)
            raise WrongExpectedVersion(stream_id, expected_version, actual)
        return AppendResult(
            stream_id=stream_id,
            version=max(r["stream_version"] for r in rows),
            event_ids=tuple(ids),
            global_positions=tuple(r["global_position"] for r in rows),
        )

    async def stream_version(self, stream_id: str, *, connection: Connection | None = None) -> int:
        query = "SELECT coalesce(max(stream_version), 0) FROM events WHERE stream_id = $1"
        if connection is not None:
            return int(await connection.fetchval(query, stream_id))
        return int(await self._pool.fetchval(query, stream_id))

    async def read_stream(
        self,
        stream_id: str,
        from_version: int = 1,
        *,
        connection: Connection | None = None,
        personal: bool = True,
    ) -> list[RecordedEvent]:
        """The stream's events; ``personal=False`` leaves personal fields unopened (they
        read as erased): for folding a decider's state, which never depends on them."""
        rows = await (connection or self._pool).fetch(
            f"SELECT {_COLUMNS} FROM events WHERE stream_id = $1 AND stream_version >= $2 "
            "ORDER BY stream_version",
            stream_id,
            from_version,
        )
        return await _rows_to_recorded(self.keys, rows, personal)

    async def read_all(self, after_position: int = 0, limit: int = 1000) -> list[RecordedEvent]:
        """Committed events by global position (positions may have gaps; never reused)."""
        rows = await self._pool.fetch(
            f"SELECT {_COLUMNS} FROM events WHERE global_position > $1 "
            "ORDER BY global_position LIMIT $2",
            after_position,
            limit,
        )
        return await _rows_to_recorded(self.keys, rows)
