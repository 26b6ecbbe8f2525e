"""A supervisor's work on quarantined mail: read what is held, and file a message by hand
on a case, a new one for the customer they recognised or one that exists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.support.application import directory, mail_quarantine
from services.support.application.inbound_mail import add_reply, open_from_mail
from services.support.application.runtime import SupportRuntime
from services.support.domain import case as cs
from services.support.domain.mail_parsing import parse_mail


async def held_messages(deps: SupportRuntime, limit: int = 100) -> list[dict[str, Any]]:
    """What is held, oldest first, with the sender and subject opened for the supervisor."""
    async with deps.pool.acquire() as conn:
        rows = await mail_quarantine.held_rows(conn, limit)
        for row in rows:
            raw = await mail_quarantine.raw_message(deps.keys, conn, row["quarantine_id"])
            mail = parse_mail(raw) if raw is not None else None
            row["sender"] = mail.sender if mail else None
            row["subject"] = mail.subject if mail else None
            row["body"] = mail.body if mail else None
    return rows


@dataclass(frozen=True)
class FileQuarantined:
    """File a held message: on ``case_id`` (a reply), or as a new case for ``customer_id``."""

    quarantine_id: UUID
    customer_id: str | None = None
    case_id: UUID | None = None
    filed_by: str | None = None


async def file_quarantined(uow: UnitOfWork, command: FileQuarantined, deps: SupportRuntime
                           ) -> dict[str, Any]:  # fmt: skip
    if (command.customer_id is None) == (command.case_id is None):
        raise DomainError("give either customer_id (a new case) or case_id", field="customer_id")
    status = await uow.conn.fetchval(
        "SELECT status FROM mail_quarantine WHERE quarantine_id = $1 FOR UPDATE",
        command.quarantine_id,
    )  # fmt: skip
    if status is None:
        raise DomainError("no such quarantined message", code="not-found")
    raw = await mail_quarantine.raw_message(deps.keys, uow.conn, command.quarantine_id)
    if status != "held" or raw is None:
        raise DomainError("the message was filed already", code="already-exists")
    mail = parse_mail(raw)
    if command.case_id is not None:
        state, _ = await uow.load(cs.decider, cs.stream_id(command.case_id))
        if not state.exists:
            raise DomainError("no such case", field="case_id", code="not-found")
        answer = await add_reply(uow, deps, mail, command.case_id)
    else:
        assert command.customer_id is not None
        known = await directory.customer(uow.conn, command.customer_id)
        answer = await open_from_mail(uow, deps, mail, known.customer_id)
    await mail_quarantine.mark_filed(uow.conn, command.quarantine_id, UUID(answer["case_id"]),
                                     command.filed_by, deps.clock())  # fmt: skip
    return answer
