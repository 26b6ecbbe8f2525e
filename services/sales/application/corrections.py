"""Correcting an account's or a contact's details: an ordinary command appending a
correcting event, with the identity keys following it in the same transaction.

A corrected e-mail, phone or tax id that another record holds is refused (409
``duplicate``, naming that record): two records of one person are merged, not made to
look alike. The identities the correction replaced are released for others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID

from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.platform.eventstore import WrongExpectedVersion
from services.sales.application import commands as cmd
from services.sales.application.customers import RecordKind, claim
from services.sales.application.ports import SalesRecords
from services.sales.domain import account, contact

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime

DUPLICATE = "duplicate"
_FIELDS = {"tax": "tax_id", "email": "emails", "phone": "phones"}


def _record(
    command: account.CorrectAccount | contact.CorrectContact,
) -> tuple[RecordKind, Any, UUID]:
    if isinstance(command, account.CorrectAccount):
        return "account", account, command.account_id
    return "contact", contact, command.contact_id


async def correct_details(
    uow: UnitOfWork, command: cmd.CorrectDetails, deps: SalesRuntime
) -> dict[str, Any]:
    kind, module, record_id = _record(command.command)
    stream = module.stream_id(record_id)
    state, version = await uow.load(module.decider, stream)
    events = module.decide(command.command, state)  # an unknown record: 404 first
    if command.expected_version is not None and command.expected_version != version:
        raise WrongExpectedVersion(stream, command.expected_version, version)
    after = _evolve_all(module.decider, state, events)
    before = {f"{kind}:{k}" for k in state.identity_keys}
    now = {f"{kind}:{k}" for k in after.identity_keys}
    added = sorted(now - before)
    await _refuse_taken(deps.records, uow.conn, added, record_id)
    result = await uow.append(stream, version, events)
    await deps.records.release(uow.conn, sorted(before - now), record_id)
    held = {c.key for c in await deps.records.claimed(uow.conn, added)}
    await claim(deps.records, uow.conn, [k for k in added if k not in held], kind, record_id,
                state.customer_id)  # fmt: skip
    return {"id": str(record_id), "customer_id": state.customer_id, **result.as_json()}


def _evolve_all(decider: Any, state: Any, events: Any) -> Any:
    for event in events:
        state = decider.evolve(state, event)
    return state


async def _refuse_taken(records: SalesRecords, conn: Any, keys: list[str], record_id: UUID) -> None:
    # Keys this record already holds (handed over by a merge) are its own, not a duplicate.
    for taken in await records.claimed(conn, keys):
        if taken.record_id != record_id:
            identity = taken.key.split(":", 2)[1]
            raise DomainError(
                f"this {_FIELDS[identity]} value belongs to another record "
                f"({taken.record_id}, customer {taken.customer_id}); merge the two instead",
                field=_FIELDS[identity],
                code=DUPLICATE,
            )
