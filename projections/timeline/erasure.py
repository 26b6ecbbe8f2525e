"""The timeline forgetting an erased subject: its entries read as a rebuild reads them.

Every entry whose event named an erased subject gets the event's erased payload
(``contracts.personal.erase``) and the summary, links, actor and channel the projector
derives from that erased event: the very row a rebuild writes once the subject's key is
gone, since then the event opens erased. One read and one set-based update for all the
subject's entries, however many.
"""

from __future__ import annotations

import functools
from typing import Any

import orjson

from contracts.events.privacy import PersonalDataErased
from contracts.personal import erased_part, split
from contracts.registry import DomainEvent, event_class
from projections.timeline.projector import (
    ENTRY_COLUMNS,
    actor_of,
    channel_of,
    links_of,
    summarize,
)
from services.platform.db import Connection
from services.platform.privacy.data_keys import record_erasure_done

ErasedColumns = tuple[str, str, str, str | None, str]
"""(payload, summary, links, actor, channel) of an entry, JSON as text."""


@functools.cache
def _erased_part(cls: type[DomainEvent]) -> tuple[tuple[str, Any], ...]:
    """``contracts.personal.erased_part``, worked out once per class: it reads the
    class's type hints, a millisecond a call, ten seconds for 10,000 entries."""
    return tuple(erased_part(cls).items())


def _erase(cls: type[DomainEvent], payload: dict[str, Any]) -> dict[str, Any]:
    """``contracts.personal.erase(cls, payload)`` (fresh lists: the part is shared)."""
    clear, _ = split(cls, payload)
    return {**clear, **{k: list(v) if isinstance(v, list) else v for k, v in _erased_part(cls)}}


def erased_columns(event_type: str, payload: dict[str, Any]) -> ErasedColumns:
    """An entry's derived columns once its event's personal fields are erased."""
    cls = event_class(event_type)
    event = cls.model_validate(_erase(cls, payload))
    erased = event.model_dump(mode="json")
    return (
        orjson.dumps(erased).decode(),
        summarize(event),
        orjson.dumps(links_of(erased)).decode(),
        actor_of(event),
        channel_of(event),
    )


_REWRITE = """
UPDATE timeline_entries AS t
SET payload = u.payload::jsonb, summary = u.summary, links = u.links::jsonb,
    actor = u.actor, channel = u.channel
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[])
    AS u(event_source, event_id, payload, summary, links, actor, channel)
WHERE t.event_source = u.event_source AND t.event_id = u.event_id
"""


async def forget(conn: Connection, erasure: PersonalDataErased) -> None:
    """Erase every entry naming one of ``erasure``'s subjects, in the caller's transaction."""
    await conn.execute(
        "INSERT INTO erased_subjects (subject_id, erased_at) "
        "SELECT s, $2 FROM unnest($1::text[]) AS s ON CONFLICT (subject_id) "
        "DO UPDATE SET erased_at = least(erased_subjects.erased_at, excluded.erased_at)",
        sorted(set(erasure.subjects)),
        erasure.erased_at,
    )
    rows = await conn.fetch(
        "SELECT event_source, event_id, event_type, payload FROM timeline_entries "
        "WHERE named_customer_id = ANY($1::text[]) FOR UPDATE",
        sorted(set(erasure.subjects)),
    )
    if rows:
        columns = [erased_columns(r["event_type"], orjson.loads(r["payload"])) for r in rows]
        await conn.execute(
            _REWRITE,
            [r["event_source"] for r in rows],
            [r["event_id"] for r in rows],
            *(list(column) for column in zip(*columns, strict=True)),
        )
    for subject in sorted(set(erasure.subjects)):
        await record_erasure_done(conn, erasure.request_id, "timeline", subject)


_NAMED = ENTRY_COLUMNS.index("named_customer_id")
_TYPE = ENTRY_COLUMNS.index("event_type")
_DERIVED = tuple(
    ENTRY_COLUMNS.index(c) for c in ("payload", "summary", "links", "actor", "channel")
)


async def erased_on_arrival(conn: Connection, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """``rows`` (stored columns, in order) with those naming an erased subject erased."""
    named = sorted({row[_NAMED] for row in rows})
    erased = {
        r["subject_id"]
        for r in await conn.fetch(
            "SELECT subject_id FROM erased_subjects WHERE subject_id = ANY($1::text[])", named
        )
    }
    if not erased:
        return rows
    return [_erased_row(row) if row[_NAMED] in erased else row for row in rows]


def _erased_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row)
    derived = erased_columns(row[_TYPE], orjson.loads(row[ENTRY_COLUMNS.index("payload")]))
    for index, value in zip(_DERIVED, derived, strict=True):
        values[index] = value
    return tuple(values)
