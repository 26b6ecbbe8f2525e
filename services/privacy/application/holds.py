"""Legal holds: a reason the law keeps a subject's personal data (a lawsuit, an audit);
an active one refuses the subject's erasure. Placing and releasing are audited."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from services.platform.db import Connection
from services.platform.decider import DomainError
from services.privacy.application import audit
from services.privacy.application.facts import lock_subject, subject_facts
from services.privacy.application.runtime import Actor, PrivacyRuntime
from services.privacy.domain.rules import require_known

_COLUMNS = "hold_id, subject_id, reason, until, placed_by, placed_at, released_by, released_at"


@dataclass(frozen=True)
class PlaceHold:
    subject_id: str
    reason: str
    until: datetime | None
    actor: Actor


class HoldNotFound(Exception):
    def __init__(self, hold_id: UUID) -> None:
        super().__init__(f"no legal hold {hold_id}")


class HoldAlreadyReleased(Exception):
    def __init__(self, hold_id: UUID) -> None:
        super().__init__(f"legal hold {hold_id} was already released")


def _as_json(row: Any, now: datetime) -> dict[str, Any]:
    hold = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in dict(row).items()}
    hold["id"] = str(hold.pop("hold_id"))
    hold["active"] = row["released_at"] is None and (row["until"] is None or row["until"] > now)
    return hold


async def place(
    runtime: PrivacyRuntime, command: PlaceHold, correlation_id: str | None = None
) -> dict[str, Any]:
    """The hold, placed; ``SubjectUnknown`` for a subject the CRM knows nothing of. A hold
    on an erased subject is allowed: it keeps what is left (the fiscal records)."""
    now = runtime.clock()
    if command.until is not None and command.until <= now:
        raise DomainError("until must be in the future", field="until")
    hold_id = uuid4()
    async with runtime.pool.acquire() as conn, conn.transaction():
        await lock_subject(conn, command.subject_id)
        require_known(await subject_facts(runtime, conn, command.subject_id))
        row = await conn.fetchrow(
            "INSERT INTO legal_holds (hold_id, subject_id, reason, until, placed_by, placed_at) "
            f"VALUES ($1, $2, $3, $4, $5, $6) RETURNING {_COLUMNS}",
            hold_id, command.subject_id, command.reason, command.until,
            command.actor.actor_id, now,
        )  # fmt: skip
        await audit.record(
            conn, command.actor, audit.HOLD_PLACED, command.subject_id, now,
            target_id=hold_id, correlation_id=correlation_id,
        )  # fmt: skip
    return _as_json(row, now)


async def release(
    runtime: PrivacyRuntime, hold_id: UUID, actor: Actor, correlation_id: str | None = None
) -> dict[str, Any]:
    now = runtime.clock()
    async with runtime.pool.acquire() as conn, conn.transaction():
        subject = await conn.fetchval("SELECT subject_id FROM legal_holds WHERE hold_id = $1",
                                      hold_id)  # fmt: skip
        if subject is None:
            raise HoldNotFound(hold_id)
        await lock_subject(conn, subject)
        row = await conn.fetchrow(
            "UPDATE legal_holds SET released_by = $2, released_at = $3 "
            f"WHERE hold_id = $1 AND released_at IS NULL RETURNING {_COLUMNS}",
            hold_id, actor.actor_id, now,
        )  # fmt: skip
        if row is None:
            raise HoldAlreadyReleased(hold_id)
        await audit.record(
            conn, actor, audit.HOLD_RELEASED, subject, now,
            target_id=hold_id, correlation_id=correlation_id,
        )  # fmt: skip
    return _as_json(row, now)


async def holds_of(runtime: PrivacyRuntime, conn: Connection, subject_id: str) -> list[Any]:
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM legal_holds WHERE subject_id = $1 ORDER BY placed_at, hold_id",
        subject_id,
    )
    now = runtime.clock()
    return [_as_json(r, now) for r in rows]


async def list_holds(runtime: PrivacyRuntime, subject_id: str) -> list[Any]:
    async with runtime.pool.acquire() as conn:
        return await holds_of(runtime, conn, subject_id)
