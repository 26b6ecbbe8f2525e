"""What the CRM knows of a subject, read in the caller's transaction: its key's state
(``crm_privacy.data_keys``), its customer 360 profile, the records merged into it, its
holds. The read models are read through their reader schemas: public read models."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

from services.platform.db import Connection
from services.privacy.application.runtime import PrivacyRuntime
from services.privacy.domain.rules import Hold, KeyState, SubjectFacts


async def lock_subject(conn: Connection, subject_id: str) -> None:
    """Serialise every decision about one subject (an erasure against a hold being
    placed) until the transaction ends; a subject with no key row has nothing to lock."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('privacy:' || $1, 0))",
                       subject_id)  # fmt: skip


async def read_model_rows(conn: Connection, sql: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of a read model; none when its projection never ran here (no reader views).
    In a savepoint: a missing table must not abort the caller's transaction."""
    try:
        async with conn.transaction():
            return list(await conn.fetch(sql, *args))
    except (asyncpg.UndefinedTableError, asyncpg.InvalidSchemaNameError):
        return []


async def key_state(runtime: PrivacyRuntime, conn: Connection, subject_id: str) -> KeyState:
    erased = await conn.fetchval(
        f"SELECT erased_at IS NOT NULL FROM {runtime.keys.schema}.data_keys WHERE subject_id = $1",
        subject_id,
    )
    return "unknown" if erased is None else "erased" if erased else "active"


async def profile(runtime: PrivacyRuntime, conn: Connection, subject_id: str) -> Any:
    """The customer 360 profile as JSON, or None (also when no projection ran here yet)."""
    rows = await read_model_rows(
        conn,
        f"SELECT profile FROM {runtime.read_models.customer360}.customer_profiles "
        "WHERE customer_id = $1",
        subject_id,
    )
    return orjson.loads(rows[0]["profile"]) if rows else None


async def merged_into(
    runtime: PrivacyRuntime, conn: Connection, subject_id: str, found: Any
) -> tuple[str, ...]:
    """Records merged into the subject: the profile's ``merged_from`` and the timeline's."""
    merged = set((found or {}).get("merged_from") or ())
    rows = await read_model_rows(
        conn,
        f"SELECT merged_customer_id FROM {runtime.read_models.timeline}.customer_merges "
        "WHERE survivor_customer_id = $1",
        subject_id,
    )
    merged.update(r["merged_customer_id"] for r in rows)
    merged.discard(subject_id)
    return tuple(sorted(merged))


async def holds(conn: Connection, subject_ids: list[str]) -> list[Hold]:
    rows = await conn.fetch(
        "SELECT hold_id, subject_id, reason, until, placed_at, released_at FROM legal_holds "
        "WHERE subject_id = ANY($1::text[]) ORDER BY placed_at, hold_id",
        subject_ids,
    )
    return [Hold(**dict(r)) for r in rows]


async def subject_facts(runtime: PrivacyRuntime, conn: Connection, subject_id: str) -> SubjectFacts:
    found = await profile(runtime, conn, subject_id)
    merged = await merged_into(runtime, conn, subject_id, found)
    return SubjectFacts(
        subject_id=subject_id,
        key_state=await key_state(runtime, conn, subject_id),
        has_profile=found is not None,
        merged_into_subject=merged,
        holds=tuple(await holds(conn, [subject_id, *merged])),
    )
