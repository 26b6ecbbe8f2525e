"""An inbound e-mail becomes a reply on its case, a new case, or a quarantined message:
one command (``IngestMail``), one transaction, keyed by the Message-ID so a message the
sending server delivers twice (an SMTP retry) is one case.

Threading, in order: a Message-ID in In-Reply-To or References that ``mail_threads``
knows; else a case token in the subject (``domain.mail_threading``) among the sender's
own cases. Mail joins a case only when its sender is that case's customer: a stranger
who learnt a token or a Message-ID cannot write into somebody's case (quarantined).

On the case: a customer reply. A solved case within its reopen period is reopened by the
reply (the customer says it is not solved); a closed case, or a solved one past the
period, gets a new case that names the old one. Unthreaded mail from a known address
opens a request (category by keyword rules). Everything else is quarantined.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.platform.privacy.data_keys import SubjectErased
from services.support.application import mail_addresses, mail_quarantine
from services.support.application.cases import NewCase, OnCase, act_on_case, open_case
from services.support.application.runtime import SupportRuntime
from services.support.domain import case as cs
from services.support.domain.mail_parsing import ParsedMail
from services.support.domain.mail_threading import case_token, category_of, prefix_range
from services.support.domain.mail_threading import token_prefixes as tokens

DESCRIPTION_MAX, MESSAGE_MAX = 10000, 50000
EMPTY = "(empty message)"


@dataclass(frozen=True)
class IngestMail:
    raw: bytes
    mail: ParsedMail
    hold_reason: str | None = None
    """Quarantine at once, for this reason (a message the first attempt failed on)."""


async def ingest(uow: UnitOfWork, command: IngestMail, deps: SupportRuntime) -> dict[str, Any]:
    mail, conn = command.mail, uow.conn
    if mail.message_id:
        known = await conn.fetchval("SELECT case_id FROM mail_threads WHERE message_id = $1",
                                    mail.message_id)  # fmt: skip
        if known is not None:  # the same message again, by another path than the key
            return {"outcome": "duplicate", "case_id": str(known)}
    sender = (await mail_addresses.address_hash(deps.keys, conn, mail.sender)
              if mail.sender else None)  # fmt: skip
    reason = command.hold_reason or mail.problem
    reason = reason or ("auto_submitted" if mail.auto_submitted else None)
    if reason is None and sender is not None:
        customers = await mail_addresses.customers_of(conn, sender)
        reason = {0: "unknown_sender", 1: None}.get(len(customers), "ambiguous_sender")
        if reason is None:
            try:
                async with conn.transaction():  # a savepoint: a refusal undoes only this
                    return await _to_case(uow, command, deps, customers[0])
            except (DomainError, SubjectErased) as refused:
                reason = getattr(refused, "code", None) or "customer_erased"
                reason = reason if reason.startswith("sender") else f"refused:{reason}"
    return await _hold(uow, command, deps, reason or "unreadable", sender)


async def _hold(uow: UnitOfWork, command: IngestMail, deps: SupportRuntime, reason: str,
                sender: bytes | None) -> dict[str, Any]:  # fmt: skip
    held = mail_quarantine.Held(uuid4(), reason, command.mail.message_id, sender, deps.clock())
    await mail_quarantine.hold(deps.keys, uow.conn, held, command.raw)
    return {"outcome": "quarantined", "quarantine_id": str(held.quarantine_id),
            "reason": reason}  # fmt: skip


async def _to_case(uow: UnitOfWork, command: IngestMail, deps: SupportRuntime,
                   customer: str) -> dict[str, Any]:  # fmt: skip
    mail = command.mail
    case_id = await _threaded_case(uow, mail, customer)
    if case_id is None:
        return await open_from_mail(uow, deps, mail, customer)
    state, _ = await uow.load(cs.decider, cs.stream_id(case_id))
    now = deps.clock()
    reopenable = state.solved_at is not None and now <= state.solved_at + deps.reopen_period
    if state.is_closed or (state.status == "solved" and not reopenable):
        note = f"Follow-up to case {case_id} {case_token(case_id)}, which is {state.status}."
        return await open_from_mail(uow, deps, mail, customer, note)
    return await add_reply(uow, deps, mail, case_id, reopen=state.status == "solved")


async def _threaded_case(uow: UnitOfWork, mail: ParsedMail, customer: str) -> UUID | None:
    conn = uow.conn
    if mail.thread_ids:
        rows = await conn.fetch(
            "SELECT t.message_id, t.case_id, coalesce(k.merged_into, c.customer_id) AS owner "
            "FROM mail_threads t JOIN cases c ON c.case_id = t.case_id "
            "LEFT JOIN known_customers k ON k.customer_id = c.customer_id "
            "WHERE t.message_id = ANY($1::text[])",
            list(mail.thread_ids),
        )  # fmt: skip
        found = {r["message_id"]: r for r in rows}
        for message_id in mail.thread_ids:
            if message_id in found:
                if found[message_id]["owner"] != customer:
                    raise DomainError("the sender is not the case's customer",
                                      code="sender_not_case_customer")  # fmt: skip
                return await _surviving(uow, found[message_id]["case_id"])
    for prefix in tokens(mail.subject):
        low, high = prefix_range(prefix)
        matches = await conn.fetch(
            "SELECT c.case_id FROM cases c LEFT JOIN known_customers k "
            "ON k.customer_id = c.customer_id WHERE c.case_id BETWEEN $1 AND $2 "
            "AND coalesce(k.merged_into, c.customer_id) = $3 LIMIT 2",
            low, high, customer,
        )  # fmt: skip
        if len(matches) == 1:  # ambiguous or another's: not this token
            return await _surviving(uow, matches[0]["case_id"])
    return None


async def _surviving(uow: UnitOfWork, case_id: UUID) -> UUID:
    """A case merged into another: its mail goes to the case it was merged into."""
    for _ in range(10):
        state, _ = await uow.load(cs.decider, cs.stream_id(case_id))
        if state.merged_into is None:
            return case_id
        case_id = state.merged_into
    return case_id


def _bounded(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    marker = f"\n[… {len(text) - limit + 40} more characters not kept]"
    return text[: limit - len(marker)] + marker


async def open_from_mail(uow: UnitOfWork, deps: SupportRuntime, mail: ParsedMail,
                         customer: str, note: str | None = None) -> dict[str, Any]:  # fmt: skip
    body = f"{note}\n\n{mail.body}".strip() if note else mail.body
    case_id = uuid4()
    new = NewCase(case_id, customer, "request", "email", mail.subject,
                  _bounded(body, DESCRIPTION_MAX), category_of(mail.subject, mail.body),
                  opened_by="support-mail", email_message_id=mail.message_id)  # fmt: skip
    answer = await open_case(uow, new, deps)
    if len(body) > DESCRIPTION_MAX:  # the whole text, where a conversation has room for it
        await _message(uow, deps, case_id, _bounded(body, MESSAGE_MAX), None)
    return {**answer, "outcome": "case_opened"}


async def add_reply(uow: UnitOfWork, deps: SupportRuntime, mail: ParsedMail, case_id: UUID,
                    *, reopen: bool = False) -> dict[str, Any]:  # fmt: skip
    if reopen:
        await act_on_case(uow, OnCase(cs.ReopenCase(
            case_id, "the customer replied by e-mail", deps.clock(), deps.reopen_period,
        )), deps)  # fmt: skip
    answer = await _message(uow, deps, case_id, _bounded(mail.body, MESSAGE_MAX) or EMPTY,
                            mail.message_id)  # fmt: skip
    return {**answer, "outcome": "reopened" if reopen else "message_added"}


async def _message(uow: UnitOfWork, deps: SupportRuntime, case_id: UUID, body: str,
                   message_id: str | None) -> dict[str, Any]:  # fmt: skip
    command = cs.AddMessage(case_id, uuid4(), "customer_reply", body, deps.clock(),
                            channel="email", email_message_id=message_id)  # fmt: skip
    return await act_on_case(uow, OnCase(command), deps)
