"""The account aggregate: a company (or organisation, group) the business sells to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import get_args
from uuid import UUID

from contracts.events.sales import AccountKind, AccountRegistered, Address, RecordsMerged
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.sales.domain.identity import (
    decide_merge,
    identity_keys,
    normalize_emails,
    normalize_phones,
    optional_tax_id,
    refuse_if_merged,
    required_text,
)

ACCOUNT_KINDS: tuple[str, ...] = get_args(AccountKind)


@dataclass(frozen=True)
class RegisterAccount:
    account_id: UUID
    name: str
    kind: AccountKind = "company"
    tax_id: str | None = None
    tax_country: str | None = None
    phones: Sequence[str] = ()
    emails: Sequence[str] = ()
    address: Address | None = None
    owner_id: str | None = None
    default_region: str = "BR"


@dataclass(frozen=True)
class MergeInto:
    """Unite this record (``record_id``) with the survivor; decided on this record's stream."""

    record_id: UUID
    survivor_id: UUID
    survivor_customer_id: str
    reason: str | None = None
    merged_by: str | None = None


Command = RegisterAccount | MergeInto


@dataclass(frozen=True)
class Account:
    exists: bool = False
    customer_id: str = ""
    name: str = ""
    merged_into: UUID | None = None
    identity_keys: tuple[str, ...] = ()


def decide(command: Command, state: Account) -> Sequence[DomainEvent]:
    match command:
        case RegisterAccount():
            refuse_if_merged(state.merged_into, "account")
            if state.exists:
                raise DomainError("account already exists", code="already-exists")
            name = required_text(command.name, field="name", max_length=300)
            if command.kind not in ACCOUNT_KINDS:
                raise DomainError(f"kind must be one of {ACCOUNT_KINDS}", field="kind")
            tax_id = optional_tax_id(command.tax_id, command.tax_country, field="tax_id")
            phones = normalize_phones(command.phones, command.default_region)
            emails = normalize_emails(command.emails)
            return [
                AccountRegistered(
                    account_id=command.account_id,
                    customer_id=str(command.account_id),
                    name=name,
                    kind=command.kind,
                    tax_id=tax_id,
                    phones=list(phones),
                    emails=list(emails),
                    address=command.address,
                    owner_id=command.owner_id,
                )
            ]
        case MergeInto():
            return decide_merge(
                kind="account",
                exists=state.exists,
                merged_into=state.merged_into,
                customer_id=state.customer_id,
                record_id=command.record_id,
                survivor_id=command.survivor_id,
                survivor_customer_id=command.survivor_customer_id,
                reason=command.reason,
                merged_by=command.merged_by,
            )
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Account, event: DomainEvent) -> Account:
    match event:
        case AccountRegistered():
            return Account(
                exists=True,
                customer_id=event.customer_id,
                name=event.name,
                identity_keys=tuple(
                    identity_keys(tax_id=event.tax_id, emails=event.emails, phones=event.phones)
                ),
            )
        case RecordsMerged():
            # Appended only to the merged record's stream, never to the survivor's.
            return replace(state, merged_into=event.survivor_id)
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Account())


def stream_id(account_id: UUID) -> str:
    return f"account-{account_id}"
