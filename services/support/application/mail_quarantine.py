"""Mail that became no case is kept here, never dropped: an unknown sender, no sender at
all, an automatic reply, a stranger writing into someone's case, or a message support
failed to read. A supervisor lists it and files it on a case by hand.

Why a table and not a spool of files: the message is accepted (SMTP 250) only once it is
committed, in the same transaction and database as the cases, so it is backed up,
replicated and restored with them and a retry by the sender finds it (idempotency key).
Why sealed: the sender is nobody support knows, so there is no customer key to seal it
with; each message gets a key of its own in the registry (subject ``support-mail:<id>``,
wrapped by the master key), and the row holds only the AES-GCM box, a keyed hash of the
sender (so an erasure of that person can find it) and dates. Filing drops the box.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson

from services.platform.db import Connection
from services.platform.privacy.data_keys import SubjectKeys
from services.platform.privacy.sealing import open_box, seal_box

SEALED_TYPE = "crm.support.mail_quarantined"
"""Bound into the box (associated data): a box copied elsewhere does not open."""


def key_subject(quarantine_id: UUID) -> str:
    return f"support-mail:{quarantine_id}"


@dataclass(frozen=True)
class Held:
    quarantine_id: UUID
    reason: str
    message_id: str | None
    sender_hash: bytes | None
    received_at: datetime


async def hold(keys: SubjectKeys, conn: Connection, held: Held, raw: bytes) -> None:
    subject = key_subject(held.quarantine_id)
    key = (await keys.for_writing([subject], conn))[subject]
    box = seal_box(SEALED_TYPE, subject, key, {"raw": base64.b64encode(raw).decode()})
    await conn.execute(
        "INSERT INTO mail_quarantine (quarantine_id, reason, message_id, sender_hash, sealed, "
        "size_bytes, received_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
        held.quarantine_id, held.reason, held.message_id, held.sender_hash,
        orjson.dumps(box).decode(), len(raw), held.received_at,
    )  # fmt: skip


async def raw_message(keys: SubjectKeys, conn: Connection, quarantine_id: UUID) -> bytes | None:
    """The message as it arrived; None when filed (or its key was destroyed)."""
    sealed = await conn.fetchval(
        "SELECT sealed::text FROM mail_quarantine WHERE quarantine_id = $1", quarantine_id
    )
    if sealed is None:
        return None
    key = (await keys.for_reading([key_subject(quarantine_id)])).get(key_subject(quarantine_id))
    if key is None:
        return None
    return base64.b64decode(open_box(SEALED_TYPE, orjson.loads(sealed), key)["raw"])


async def held_rows(conn: Connection, limit: int = 100) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT quarantine_id, reason, message_id, size_bytes, received_at FROM mail_quarantine "
        "WHERE status = 'held' ORDER BY received_at, quarantine_id LIMIT $1",
        limit,
    )  # fmt: skip
    return [dict(r) for r in rows]


async def mark_filed(conn: Connection, quarantine_id: UUID, case_id: UUID, by: str | None,
                     at: datetime) -> bool:  # fmt: skip
    """Filed on a case: the sealed copy goes (the case's events hold the text now)."""
    status = await conn.fetchval(
        "UPDATE mail_quarantine SET status = 'filed', sealed = NULL, case_id = $2, "
        "filed_by = $3, filed_at = $4 WHERE quarantine_id = $1 AND status = 'held' "
        "RETURNING status",
        quarantine_id, case_id, by, at,
    )  # fmt: skip
    return status is not None
