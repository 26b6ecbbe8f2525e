"""The audit trail: who exported, asked to erase, placed or released a hold, about whom."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.platform.db import Connection
from services.privacy.application.runtime import Actor, PrivacyRuntime

EXPORT, ERASURE_REQUESTED = "export", "erasure_requested"
HOLD_PLACED, HOLD_RELEASED = "hold_placed", "hold_released"


async def record(
    conn: Connection,
    actor: Actor,
    action: str,
    subject_id: str,
    at: datetime,
    *,
    target_id: object = None,
    correlation_id: str | None = None,
) -> None:
    """In the caller's transaction: the audit row commits with the act or not at all."""
    await conn.execute(
        "INSERT INTO audit_log (at, actor_id, actor_role, action, subject_id, target_id, "
        "correlation_id) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        at, actor.actor_id, actor.role, action, subject_id,
        None if target_id is None else str(target_id), correlation_id,
    )  # fmt: skip


async def trail(
    conn: Connection, subject_id: str | None, limit: int = 1000
) -> list[dict[str, Any]]:
    """Audit rows, oldest first; all subjects' when ``subject_id`` is None."""
    rows = await conn.fetch(
        "SELECT audit_id, at, actor_id, actor_role, action, subject_id, target_id, "
        "correlation_id FROM audit_log WHERE ($1::text IS NULL OR subject_id = $1) "
        "ORDER BY at, audit_id LIMIT $2",
        subject_id,
        limit,
    )
    return [{**dict(r), "at": r["at"].isoformat()} for r in rows]


async def subject_trail(runtime: PrivacyRuntime, subject_id: str | None) -> list[dict[str, Any]]:
    async with runtime.pool.acquire() as conn:
        return await trail(conn, subject_id)
