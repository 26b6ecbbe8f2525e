"""Accounts, contacts and leads: registration with duplicate detection, merge, conversion.

Duplicate detection is set-based validation the event store cannot do alone: each
identity (tax id, e-mail, phone) of a kind of record is claimed in ``identity_keys`` in
the same transaction that appends the registration. A registration that matches an
existing record returns that record and appends nothing, so a customer never has to
repeat their data to a second person or channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID, uuid4

from contracts.events.sales import AccountRegistered, ContactRegistered
from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.platform.eventstore import WrongExpectedVersion
from services.sales.application.commands import MergeRecord
from services.sales.application.ports import SalesRecords
from services.sales.domain import account, contact, lead
from services.sales.domain.identity import identity_keys

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime

RecordKind = Literal["account", "contact"]


class IdentityTaken(WrongExpectedVersion):
    """A concurrent registration claimed the same identity first: retry, find it, return it."""

    def __init__(self, key: str) -> None:
        super().__init__(f"identity:{key}", 0, 1)


def _keys(kind: RecordKind, event: AccountRegistered | ContactRegistered) -> list[str]:
    keys = identity_keys(tax_id=event.tax_id, emails=event.emails, phones=event.phones)
    return [f"{kind}:{k}" for k in keys]


async def find_duplicate(
    records: SalesRecords, conn: Any, keys: Sequence[str]
) -> dict[str, Any] | None:
    rows = await records.claimed(conn, keys)
    if not rows:
        return None
    # Tax id before e-mail before phone (key order): the strongest identity decides.
    first = rows[0]
    rows = [r for r in rows if r.record_id == first.record_id]
    return {
        "id": str(first.record_id),
        "customer_id": first.customer_id,
        "duplicate": True,
        "matched_on": sorted(r.key.split(":", 1)[1] for r in rows),
    }


async def _existing(uow: UnitOfWork, duplicate: dict[str, Any], stream: str) -> dict[str, Any]:
    """The answer for a registration that matched an existing record: that record."""
    version = await uow.store.stream_version(stream, connection=uow.conn)
    return {**duplicate, "stream_id": stream, "version": version, "event_ids": []}


async def claim(
    records: SalesRecords,
    conn: Any,
    keys: Sequence[str],
    kind: RecordKind,
    record_id: UUID,
    customer_id: str,
) -> None:
    # A fixed order: two registrations sharing identities never wait on each other in a cycle.
    for key in sorted(keys):
        if not await records.claim(conn, key, kind, record_id, customer_id):
            raise IdentityTaken(key)


async def _register(
    uow: UnitOfWork,
    records: SalesRecords,
    kind: RecordKind,
    decider: Any,
    stream: str,
    record_id: UUID,
    command: Any,
) -> dict[str, Any]:
    """Decide a registration; answer the existing record when an identity matches one."""
    state, version = await uow.load(decider, stream)
    events = decider.decide(command, state)
    registered = events[0]
    assert isinstance(registered, AccountRegistered | ContactRegistered)
    keys = _keys(kind, registered)
    duplicate = await find_duplicate(records, uow.conn, keys)
    if duplicate is not None:
        module = account if kind == "account" else contact
        return await _existing(uow, duplicate, module.stream_id(UUID(duplicate["id"])))
    result = await uow.append(stream, version, events)
    await claim(records, uow.conn, keys, kind, record_id, registered.customer_id)
    return {"id": str(record_id), "customer_id": registered.customer_id,
            "duplicate": False, **result.as_json()}  # fmt: skip


async def register_account(
    uow: UnitOfWork, records: SalesRecords, command: account.RegisterAccount
) -> dict[str, Any]:
    stream = account.stream_id(command.account_id)
    return await _register(
        uow, records, "account", account.decider, stream, command.account_id, command
    )


async def register_contact(
    uow: UnitOfWork, records: SalesRecords, command: contact.RegisterContact
) -> dict[str, Any]:
    if command.account_id is not None:
        linked, _ = await uow.load(account.decider, account.stream_id(command.account_id))
        if not linked.exists:
            raise DomainError("no such account", field="account_id", code="unknown-account")
        if linked.merged_into is not None:
            # Link to the record that survived, never to a merged one.
            command = replace(command, account_id=linked.merged_into)
    stream = contact.stream_id(command.contact_id)
    return await _register(
        uow, records, "contact", contact.decider, stream, command.contact_id, command
    )


async def merge(
    uow: UnitOfWork,
    records: SalesRecords,
    kind: RecordKind,
    merged_id: UUID,
    survivor_id: UUID,
    reason: str | None,
    merged_by: str | None,
) -> dict[str, Any]:
    module = account if kind == "account" else contact
    streams = sorted([module.stream_id(merged_id), module.stream_id(survivor_id)])  # type: ignore[attr-defined]
    # Two merges touching the same records (A into B while B into A) must not both pass
    # their checks: take both records' locks, in a fixed order, before reading them.
    await records.lock(uow.conn, streams)
    survivor, _ = await uow.load(module.decider, module.stream_id(survivor_id))  # type: ignore[attr-defined]
    if not survivor.exists:
        raise DomainError(f"no such {kind}", field="survivor_id", code="not-found")
    if survivor.merged_into is not None:
        raise DomainError(
            f"the survivor was itself merged into {survivor.merged_into}",
            field="survivor_id",
            code="merged",
        )
    command = module.MergeInto(merged_id, survivor_id, survivor.customer_id, reason, merged_by)  # type: ignore[attr-defined]
    result = await uow.execute(module.decider, module.stream_id(merged_id), command)  # type: ignore[attr-defined]
    # The survivor now answers to every identity the merged record had.
    await records.hand_over(uow.conn, merged_id, survivor_id, survivor.customer_id)
    return {"id": str(merged_id), "survivor_id": str(survivor_id),
            "customer_id": survivor.customer_id, **result.as_json()}  # fmt: skip


def _split_name(name: str, limit: int = 120) -> tuple[str, str]:
    """First word as first name, the rest as last name, each within the contract's limit."""
    first, _, last = name.strip().partition(" ")
    if len(first) > limit:
        first, last = first[:limit], (first[limit:] + " " + last).strip()
    return first, last.strip()[:limit]


async def convert_lead(
    uow: UnitOfWork,
    records: SalesRecords,
    lead_id: UUID,
    open_opportunity: Any | None,
) -> dict[str, Any]:
    """Lead → account (if it names a company) + contact + opportunity, in one transaction.

    ``open_opportunity`` is a callable ``(customer_id, owner_id) -> coroutine`` that opens
    the opportunity in this same unit of work, or None.
    """
    lead_stream = lead.stream_id(lead_id)
    state, lead_version = await uow.load(lead.decider, lead_stream)
    keys = identity_keys(tax_id=None, emails=state.emails, phones=state.phones)
    existing = await find_duplicate(records, uow.conn, [f"contact:{k}" for k in keys])
    opportunity_id = uuid4() if open_opportunity is not None else None
    created: dict[str, Any] = {}
    if existing is not None:
        # The person is already a customer: convert into that record, not a copy of it
        # (and no new account beside the one they may already belong to).
        person, _ = await uow.load(contact.decider, contact.stream_id(UUID(existing["id"])))
        account_id, contact_id = person.account_id, UUID(existing["id"])
        customer_id = person.customer_id
        lead_events = lead.decide(
            lead.ConvertLead(lead_id, contact_id, customer_id, account_id, opportunity_id), state
        )
        created["contact"] = {**existing, "duplicate": True}
    else:
        account_id = uuid4() if state.company else None
        contact_id = uuid4()
        customer_id = str(account_id or contact_id)
        # Decide on the lead first: a lead that is not qualified changes nothing at all.
        lead_events = lead.decide(
            lead.ConvertLead(lead_id, contact_id, customer_id, account_id, opportunity_id), state
        )
        if account_id is not None:
            created["account"] = await register_account(
                uow,
                records,
                account.RegisterAccount(
                    account_id, state.company or state.name, address=state.address,
                    owner_id=state.owner_id,
                ),
            )  # fmt: skip
        first, last = _split_name(state.name)
        created["contact"] = await register_contact(
            uow,
            records,
            contact.RegisterContact(
                contact_id, first, last, account_id=account_id, emails=state.emails,
                phones=state.phones, address=state.address, owner_id=state.owner_id,
            ),
        )  # fmt: skip
    if open_opportunity is not None:
        created["opportunity"] = await open_opportunity(customer_id, opportunity_id, state.owner_id)
    result = await uow.append(lead_stream, lead_version, lead_events)
    return {"id": str(lead_id), "customer_id": customer_id, "account_id": _str(account_id),
            "contact_id": str(contact_id), "opportunity_id": _str(opportunity_id),
            "created": created, **result.as_json()}  # fmt: skip


def _str(value: UUID | None) -> str | None:
    return None if value is None else str(value)


# The handlers of the command table (see ``handlers``).
async def handle_register_account(
    uow: UnitOfWork, command: account.RegisterAccount, deps: SalesRuntime
) -> dict[str, Any]:
    return await register_account(uow, deps.records, command)


async def handle_register_contact(
    uow: UnitOfWork, command: contact.RegisterContact, deps: SalesRuntime
) -> dict[str, Any]:
    return await register_contact(uow, deps.records, command)


async def handle_merge(uow: UnitOfWork, command: MergeRecord, deps: SalesRuntime) -> dict[str, Any]:
    return await merge(
        uow,
        deps.records,
        command.kind,
        command.merged_id,
        command.survivor_id,
        command.reason,
        command.merged_by,
    )
