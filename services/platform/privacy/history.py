"""Sealing history written before sealing existed: events of a context's store whose
personal fields are still in plain text (schema versions before ``sealed_since``) are
rewritten in place, sealed, at the version that seals them (same event id, position and
stream version: only the payload's form changes; the upcaster says both forms mean the
same). Run once per context after upgrading (``crm privacy seal-history``).

What this cannot reach: records already published to Kafka keep their plain text on the
topic, whose records are never rewritten (see docs/privacy.md for what that means for an
erasure and how to re-create a topic from the store).
"""

from __future__ import annotations

import orjson

from contracts.personal import erase
from contracts.registry import event_class, is_sealed_version, parse_data, registered_types
from services.platform.db import Connection, check_schema_name
from services.platform.privacy.codec import seal_payloads
from services.platform.privacy.data_keys import SubjectErased, SubjectKeys


def plain_versions() -> dict[str, list[int]]:
    """Event type -> its versions that carry personal fields in plain text."""
    found: dict[str, list[int]] = {}
    for (event_type, version), cls in registered_types().items():
        if cls.personal_fields and not is_sealed_version(event_type, version):
            found.setdefault(event_type, []).append(version)
    return found


async def seal_history(
    conn: Connection, schema: str, keys: SubjectKeys, batch: int = 500
) -> tuple[int, int]:
    """(events sealed, events of erased subjects whose personal fields were dropped)."""
    table = f'"{check_schema_name(schema)}".events'
    sealed = erased = 0
    versions = plain_versions()
    for event_type, olds in sorted(versions.items()):
        cls = event_class(event_type)
        after = 0
        while True:
            rows = await conn.fetch(
                f"SELECT global_position, schema_version, payload::text AS payload FROM {table} "
                "WHERE event_type = $1 AND schema_version = ANY($2::int[]) "
                "AND global_position > $3 ORDER BY global_position LIMIT $4",
                event_type,
                olds,
                after,
                batch,
            )
            if not rows:
                break
            after = rows[-1]["global_position"]
            updates = []
            for row in rows:
                event = parse_data(event_type, row["schema_version"], orjson.loads(row["payload"]))
                try:
                    [payload] = await seal_payloads(keys, [event], conn)
                    updates.append((row["global_position"], payload, cls.schema_version))
                    sealed += 1
                except SubjectErased:
                    # Erased before its history was sealed: keep nothing personal of it,
                    # in the plain form of its own version (nothing is left to seal).
                    plain = erase(cls, orjson.loads(event.model_dump_json()))
                    updates.append((row["global_position"], orjson.dumps(plain).decode(), 0))
                    erased += 1
            await conn.executemany(
                f"UPDATE {table} SET payload = $2::jsonb, "
                "schema_version = CASE WHEN $3 = 0 THEN schema_version ELSE $3 END "
                "WHERE global_position = $1",
                updates,
            )
    return sealed, erased
