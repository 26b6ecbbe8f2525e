"""The contact aggregate: a person, on their own or working for an account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from uuid import UUID

from contracts.events.sales import Address, ContactRegistered, RecordsMerged
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
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


Command = RegisterContact | MergeInto


@dataclass(frozen=True)
class Contact:
    exists: bool = False
    customer_id: str = ""
    account_id: UUID | None = None
    first_name: str = ""
    last_name: str = ""
    merged_into: UUID | None = None
    identity_keys: tuple[str, ...] = ()


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


def evolve(state: Contact, event: DomainEvent) -> Contact:
    match event:
        case ContactRegistered():
            return Contact(
                exists=True,
                customer_id=event.customer_id,
                account_id=event.account_id,
                first_name=event.first_name,
                last_name=event.last_name,
                identity_keys=tuple(
                    identity_keys(tax_id=event.tax_id, emails=event.emails, phones=event.phones)
                ),
            )
        case RecordsMerged():
            # Appended only to the merged record's stream, never to the survivor's.
            return replace(state, merged_into=event.survivor_id)
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Contact())


def stream_id(contact_id: UUID) -> str:
    return f"contact-{contact_id}"
