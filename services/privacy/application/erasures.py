"""Erasure of a subject's personal data: refused when unknown, already erased or held;
otherwise, in one transaction, the keys destroyed, ``PersonalDataErased`` appended (its
relay publishes it to ``crm.privacy.events``), the request and an audit row recorded.
The read models forget the subject when they read the event, each writing its row in
``crm_privacy.erasure_progress``: the request is ``completed`` once every store has."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from contracts.events.privacy import PersonalDataErased
from services.platform.commands import UnitOfWork
from services.platform.db import Connection
from services.platform.eventstore import NO_STREAM, CommandContext
from services.privacy.application import audit
from services.privacy.application.facts import lock_subject, subject_facts
from services.privacy.application.runtime import Actor, PrivacyRuntime
from services.privacy.domain.rules import RETAINED, Basis, check_erasure, progress

_REQUEST_COLUMNS = (
    "request_id, subject_id, also_erased, basis, note, requested_by, requested_role, "
    "correlation_id, requested_at, keys_destroyed_at, retained"
)


@dataclass(frozen=True)
class EraseSubject:
    subject_id: str
    basis: Basis
    note: str | None
    actor: Actor
    request_id: UUID | None = None


def stream_id(request_id: UUID) -> str:
    return f"erasure-{request_id}"


async def erase(
    runtime: PrivacyRuntime,
    command: EraseSubject,
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    correlation_id: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """(the erasure request as JSON, replayed?); ``SubjectUnknown``, ``AlreadyErased``,
    ``UnderLegalHold`` when refused, with nothing written."""
    request_id = command.request_id or uuid4()

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        conn, now = uow.conn, runtime.clock()
        await lock_subject(conn, command.subject_id)
        facts = await subject_facts(runtime, conn, command.subject_id)
        also_erased = check_erasure(facts, now)
        await runtime.keys.destroy(conn, [command.subject_id, *also_erased])
        event = PersonalDataErased(
            request_id=request_id, customer_id=command.subject_id, also_erased=also_erased,
            basis=command.basis, requested_by=command.actor.actor_id, erased_at=now,
            retained=list(RETAINED),
        )  # fmt: skip
        await uow.append(stream_id(request_id), NO_STREAM, [event])
        await conn.execute(
            f"INSERT INTO erasure_requests ({_REQUEST_COLUMNS}) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10)",
            request_id, command.subject_id, also_erased, command.basis, command.note,
            command.actor.actor_id, command.actor.role, correlation_id, now, list(RETAINED),
        )  # fmt: skip
        await audit.record(
            conn, command.actor, audit.ERASURE_REQUESTED, command.subject_id, now,
            target_id=request_id, correlation_id=correlation_id,
        )  # fmt: skip
        found = await request(runtime, conn, request_id)
        assert found is not None
        return found

    return await runtime.commands.run(
        work,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        context=CommandContext(correlation_id=correlation_id),
    )


async def request(
    runtime: PrivacyRuntime, conn: Connection, request_id: UUID
) -> dict[str, Any] | None:
    """The request with its progress, or None."""
    row = await conn.fetchrow(
        f"SELECT {_REQUEST_COLUMNS} FROM erasure_requests WHERE request_id = $1", request_id
    )
    return None if row is None else await _with_progress(runtime, conn, dict(row))


async def requests_of(runtime: PrivacyRuntime, conn: Connection, subject_id: str) -> list[Any]:
    """The subject's erasure requests, oldest first (also those it was erased with)."""
    rows = await conn.fetch(
        f"SELECT {_REQUEST_COLUMNS} FROM erasure_requests "
        "WHERE subject_id = $1 OR $1 = ANY(also_erased) ORDER BY requested_at, request_id",
        subject_id,
    )
    return [await _with_progress(runtime, conn, dict(r)) for r in rows]


async def _with_progress(
    runtime: PrivacyRuntime, conn: Connection, row: dict[str, Any]
) -> dict[str, Any]:
    done = await conn.fetch(
        f"SELECT store, done_at FROM {runtime.keys.schema}.erasure_progress WHERE request_id = $1",
        row["request_id"],
    )
    status, stores = progress({r["store"]: r["done_at"] for r in done})
    return {
        "id": str(row.pop("request_id")),
        **row,
        "requested_at": row["requested_at"].isoformat(),
        "keys_destroyed_at": row["keys_destroyed_at"].isoformat(),
        "status": status,
        "progress": [
            {"store": s.store, "done_at": s.done_at.isoformat() if s.done_at else None}
            for s in stores
        ],
    }


async def get_request(runtime: PrivacyRuntime, request_id: UUID) -> dict[str, Any] | None:
    async with runtime.pool.acquire() as conn:
        return await request(runtime, conn, request_id)


async def list_requests(runtime: PrivacyRuntime, subject_id: str) -> list[Any]:
    async with runtime.pool.acquire() as conn:
        return await requests_of(runtime, conn, subject_id)
