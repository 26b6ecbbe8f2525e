"""The lead aggregate: a prospect captured, qualified (or not) and converted to a customer.

On conversion the application registers the account and contact from this state, so
the identity data kept here is already normalised (E.164 phones, normalised e-mails).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args
from uuid import UUID

from contracts.events.sales import (
    Address,
    LeadCaptured,
    LeadConverted,
    LeadDisqualified,
    LeadQualified,
    LeadSource,
)
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.sales.domain.identity import (
    normalize_emails,
    normalize_phones,
    optional_text,
    required_text,
)

LeadStatus = Literal["new", "captured", "qualified", "disqualified", "converted"]
LEAD_SOURCES: tuple[str, ...] = get_args(LeadSource)


@dataclass(frozen=True)
class CaptureLead:
    lead_id: UUID
    source: LeadSource
    name: str
    company: str | None = None
    emails: Sequence[str] = ()
    phones: Sequence[str] = ()
    address: Address | None = None
    notes: str | None = None
    owner_id: str | None = None
    default_region: str = "BR"


@dataclass(frozen=True)
class QualifyLead:
    lead_id: UUID
    qualified_by: str | None = None
    notes: str | None = None


@dataclass(frozen=True)
class DisqualifyLead:
    lead_id: UUID
    reason: str


@dataclass(frozen=True)
class ConvertLead:
    lead_id: UUID
    contact_id: UUID
    customer_id: str
    account_id: UUID | None = None
    opportunity_id: UUID | None = None


Command = CaptureLead | QualifyLead | DisqualifyLead | ConvertLead


@dataclass(frozen=True)
class Lead:
    exists: bool = False
    customer_id: str = ""
    status: LeadStatus = "new"
    name: str = ""
    company: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    address: Address | None = None
    owner_id: str | None = None
    source: LeadSource | None = None


def _refuse_if_closed(state: Lead) -> None:
    if not state.exists:
        raise DomainError("no such lead", code="not-found")
    if state.status == "converted":
        raise DomainError("lead was already converted", code="already-converted")


def decide(command: Command, state: Lead) -> Sequence[DomainEvent]:
    match command:
        case CaptureLead():
            if state.exists:
                raise DomainError("lead already exists", code="already-exists")
            if command.source not in LEAD_SOURCES:
                raise DomainError(f"source must be one of {LEAD_SOURCES}", field="source")
            name = required_text(command.name, field="name", max_length=240)
            company = optional_text(command.company, field="company", max_length=300)
            notes = optional_text(command.notes, field="notes", max_length=5000)
            emails = normalize_emails(command.emails)
            phones = normalize_phones(command.phones, command.default_region)
            return [
                LeadCaptured(
                    lead_id=command.lead_id,
                    customer_id=str(command.lead_id),
                    source=command.source,
                    name=name,
                    company=company,
                    emails=list(emails),
                    phones=list(phones),
                    address=command.address,
                    notes=notes,
                    owner_id=command.owner_id,
                )
            ]
        case QualifyLead():
            _refuse_if_closed(state)
            if state.status == "qualified":
                return []
            if state.status == "disqualified":
                raise DomainError("lead was disqualified", code="disqualified")
            return [
                LeadQualified(
                    lead_id=command.lead_id,
                    customer_id=state.customer_id,
                    qualified_by=command.qualified_by,
                    notes=optional_text(command.notes, field="notes", max_length=5000),
                )
            ]
        case DisqualifyLead():
            _refuse_if_closed(state)
            reason = required_text(command.reason, field="reason", max_length=2000)
            if state.status == "disqualified":
                return []
            return [
                LeadDisqualified(
                    lead_id=command.lead_id, customer_id=state.customer_id, reason=reason
                )
            ]
        case ConvertLead():
            _refuse_if_closed(state)
            if state.status == "disqualified":
                raise DomainError("a disqualified lead cannot be converted", code="disqualified")
            if state.status != "qualified":
                raise DomainError("qualify the lead before converting it", code="not-qualified")
            return [
                LeadConverted(
                    lead_id=command.lead_id,
                    customer_id=required_text(
                        command.customer_id, field="customer_id", max_length=200
                    ),
                    lead_customer_id=state.customer_id,
                    account_id=command.account_id,
                    contact_id=command.contact_id,
                    opportunity_id=command.opportunity_id,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Lead, event: DomainEvent) -> Lead:
    match event:
        case LeadCaptured():
            return Lead(
                exists=True,
                customer_id=event.customer_id,
                status="captured",
                name=event.name,
                company=event.company,
                emails=tuple(event.emails),
                phones=tuple(event.phones),
                address=event.address,
                owner_id=event.owner_id,
                source=event.source,
            )
        case LeadQualified():
            return replace(state, status="qualified")
        case LeadDisqualified():
            return replace(state, status="disqualified")
        case LeadConverted():
            return replace(state, status="converted")
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Lead())


def stream_id(lead_id: UUID) -> str:
    return f"lead-{lead_id}"
