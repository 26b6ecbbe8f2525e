"""The contact aggregate: a person, on their own or working for an account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from contracts.events.sales import (
    Address,
    ContactDetails,
    ContactDetailsCorrected,
    ContactRegistered,
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
    optional_text,
    refuse_if_merged,
    required_text,
)


@dataclass(frozen=True)
class RegisterContact:
    contact_id: UUID
    first_name: str
    last_name: str = ""
    account_id: UUID | None = None
    job_title: str | None = None
    tax_id: str | None = None
    tax_country: str | None = None
    phones: Sequence[str] = ()
    emails: Sequence[str] = ()
    address: Address | None = None
    owner_id: str | None = None
    default_region: str = "BR"


@dataclass(frozen=True)
class MergeInto:
    """Unite this contact (``record_id``) with the survivor; decided on this record's stream.

    Its own type (not the account's) so that a message bus can route it by type.
    """

    record_id: UUID
    survivor_id: UUID
    survivor_customer_id: str
    reason: str | None = None
    merged_by: str | None = None


@dataclass(frozen=True)
class CorrectContact:
    """Correct the contact's details: each field given replaces the recorded one (None:
    unchanged), checked as at registration. A blank last name clears it."""

    contact_id: UUID
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    tax_id: str | None = None
    tax_country: str | None = None
    phones: Sequence[str] | None = None
    emails: Sequence[str] | None = None
    address: Address | None = None
    corrected_by: str | None = None
    default_region: str = "BR"


Command = RegisterContact | MergeInto | CorrectContact


@dataclass(frozen=True)
class Contact:
    exists: bool = False
    customer_id: str = ""
    account_id: UUID | None = None
    first_name: str = ""
    last_name: str = ""
    merged_into: UUID | None = None
    identity_keys: tuple[str, ...] = ()
    job_title: str | None = None
    tax_id: TaxId | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    address: Address | None = None


def decide(command: Command, state: Contact) -> Sequence[DomainEvent]:
    match command:
        case RegisterContact():
            refuse_if_merged(state.merged_into, "contact")
            if state.exists:
                raise DomainError("contact already exists", code="already-exists")
            first_name = required_text(command.first_name, field="first_name", max_length=120)
            last_name = optional_text(command.last_name, field="last_name", max_length=120)
            job_title = optional_text(command.job_title, field="job_title", max_length=200)
            tax_id = optional_tax_id(command.tax_id, command.tax_country, field="tax_id")
            phones = normalize_phones(command.phones, command.default_region)
            emails = normalize_emails(command.emails)
            # A contact of an account belongs to that account's customer (one timeline,
            # one Kafka key); a contact on their own is a customer by themselves.
            customer = command.account_id if command.account_id is not None else command.contact_id
            return [
                ContactRegistered(
                    contact_id=command.contact_id,
                    customer_id=str(customer),
                    account_id=command.account_id,
                    first_name=first_name,
                    last_name=last_name or "",
                    job_title=job_title,
                    tax_id=tax_id,
                    phones=list(phones),
                    emails=list(emails),
                    address=command.address,
                    owner_id=command.owner_id,
                )
            ]
        case CorrectContact():
            return _correct(command, state)
        case MergeInto():
            return decide_merge(
                kind="contact",
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


def _correct(command: CorrectContact, state: Contact) -> list[ContactDetailsCorrected]:
    if not state.exists:
        raise DomainError("no such contact", code="not-found")
    refuse_if_merged(state.merged_into, "contact")
    wanted = identity_patch(
        tax_id=command.tax_id,
        tax_country=command.tax_country,
        phones=command.phones,
        emails=command.emails,
        address=command.address,
        default_region=command.default_region,
    )
    if command.first_name is not None:
        wanted["first_name"] = required_text(command.first_name, field="first_name", max_length=120)
    if command.last_name is not None:
        last = optional_text(command.last_name, field="last_name", max_length=120)
        wanted["last_name"] = last or ""
    if command.job_title is not None:
        # A correction replaces a job title; None in the event means "unchanged".
        wanted["job_title"] = required_text(command.job_title, field="job_title", max_length=200)
    current = {
        "first_name": state.first_name,
        "last_name": state.last_name,
        "job_title": state.job_title,
        **current_identity(state.tax_id, state.phones, state.emails, state.address),
    }
    changed = changes(wanted, current)
    if not changed:
        return []
    if {"first_name", "last_name"} & set(changed):
        # The name is one detail: both parts travel, so a reader replaces the whole name.
        changed = {"first_name": state.first_name, "last_name": state.last_name, **changed}
    previous = ContactDetails(**{name: current[name] for name in changed})
    return [
        ContactDetailsCorrected(
            contact_id=command.contact_id,
            customer_id=state.customer_id,
            previous=previous,
            corrected_by=command.corrected_by,
            **changed,
        )
    ]


def _with_keys(state: Contact) -> Contact:
    keys = identity_keys(tax_id=state.tax_id, emails=state.emails, phones=state.phones)
    return replace(state, identity_keys=tuple(keys))


def _text(new: str | None, old: str) -> str:
    return old if new is None else new


def evolve(state: Contact, event: DomainEvent) -> Contact:
    match event:
        case ContactRegistered():
            registered = Contact(
                exists=True,
                customer_id=event.customer_id,
                account_id=event.account_id,
                first_name=event.first_name,
                last_name=event.last_name,
                job_title=event.job_title,
                tax_id=event.tax_id,
                phones=tuple(event.phones),
                emails=tuple(event.emails),
                address=event.address,
            )
            return _with_keys(registered)
        case ContactDetailsCorrected():
            return _with_keys(
                replace(
                    state,
                    first_name=_text(event.first_name, state.first_name),
                    last_name=_text(event.last_name, state.last_name),
                    job_title=event.job_title or state.job_title,
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


decider = Decider(decide=decide, evolve=evolve, initial_state=Contact())


def stream_id(contact_id: UUID) -> str:
    return f"contact-{contact_id}"
