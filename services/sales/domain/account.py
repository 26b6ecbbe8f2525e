"""The account aggregate: a company (or organisation, group) the business sells to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import get_args
from uuid import UUID

from contracts.events.sales import (
    AccountDetails,
    AccountDetailsCorrected,
    AccountKind,
    AccountRegistered,
    Address,
    RecordsMerged,
    TaxId,
)
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.sales.domain.correction import changes, current_identity, identity_patch
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


@dataclass(frozen=True)
class CorrectAccount:
    """Correct the account's details: each field given replaces the recorded one (None:
    unchanged), checked as at registration."""

    account_id: UUID
    name: str | None = None
    tax_id: str | None = None
    tax_country: str | None = None
    phones: Sequence[str] | None = None
    emails: Sequence[str] | None = None
    address: Address | None = None
    corrected_by: str | None = None
    default_region: str = "BR"


Command = RegisterAccount | MergeInto | CorrectAccount


@dataclass(frozen=True)
class Account:
    exists: bool = False
    customer_id: str = ""
    name: str = ""
    merged_into: UUID | None = None
    identity_keys: tuple[str, ...] = ()
    tax_id: TaxId | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    address: Address | None = None


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
        case CorrectAccount():
            return _correct(command, state)
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


def _correct(command: CorrectAccount, state: Account) -> list[AccountDetailsCorrected]:
    if not state.exists:
        raise DomainError("no such account", code="not-found")
    refuse_if_merged(state.merged_into, "account")
    wanted = identity_patch(
        tax_id=command.tax_id,
        tax_country=command.tax_country,
        phones=command.phones,
        emails=command.emails,
        address=command.address,
        default_region=command.default_region,
    )
    if command.name is not None:
        wanted["name"] = required_text(command.name, field="name", max_length=300)
    current = {"name": state.name, **_identity(state)}
    changed = changes(wanted, current)
    if not changed:
        return []
    previous = AccountDetails(**{name: current[name] for name in changed})
    return [
        AccountDetailsCorrected(
            account_id=command.account_id,
            customer_id=state.customer_id,
            previous=previous,
            corrected_by=command.corrected_by,
            **changed,
        )
    ]


def _identity(state: Account) -> dict[str, object]:
    return current_identity(state.tax_id, state.phones, state.emails, state.address)


def _with_keys(state: Account) -> Account:
    keys = identity_keys(tax_id=state.tax_id, emails=state.emails, phones=state.phones)
    return replace(state, identity_keys=tuple(keys))


def evolve(state: Account, event: DomainEvent) -> Account:
    match event:
        case AccountRegistered():
            registered = Account(
                exists=True,
                customer_id=event.customer_id,
                name=event.name,
                tax_id=event.tax_id,
                phones=tuple(event.phones),
                emails=tuple(event.emails),
                address=event.address,
            )
            return _with_keys(registered)
        case AccountDetailsCorrected():
            return _with_keys(
                replace(
                    state,
                    name=event.name if event.name is not None else state.name,
                    tax_id=event.tax_id or state.tax_id,
                    phones=tuple(event.phones) if event.phones is not None else state.phones,
                    emails=tuple(event.emails) if event.emails is not None else state.emails,
                    address=event.address or state.address,
                )
            )
        case RecordsMerged():
            # Appended only to the merged record's stream, never to the survivor's.
            return replace(state, merged_into=event.survivor_id)
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Account())


def stream_id(account_id: UUID) -> str:
    return f"account-{account_id}"
