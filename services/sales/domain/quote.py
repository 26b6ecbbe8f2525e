"""The quote aggregate: priced offers to a customer, revised as new versions of one quote.

Each ``IssueQuote`` on the same quote is a revision (version + 1) until the customer
accepts. A version whose highest discount exceeds the approval threshold must be approved
before it may be sent or accepted; a revision needs its own approval.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from uuid import UUID

from contracts.events.sales import QuoteAccepted, QuoteApproved, QuoteIssued, QuoteLine, QuoteTotals
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.sales.domain.pricing import Catalogue, QuoteItem

MAX_CUSTOMER_ID_LENGTH = 200
MAX_APPROVER_LENGTH = 200


@dataclass(frozen=True)
class IssueQuote:
    quote_id: UUID
    customer_id: str
    price_list: str
    items: Sequence[QuoteItem]
    catalogue: Catalogue
    approval_threshold_percent: Decimal
    opportunity_id: UUID | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class ApproveQuote:
    quote_id: UUID
    approved_by: str


@dataclass(frozen=True)
class AcceptQuote:
    quote_id: UUID


Command = IssueQuote | ApproveQuote | AcceptQuote


@dataclass(frozen=True)
class Quote:
    """The latest version of the quote, plus whether it was approved and accepted."""

    exists: bool = False
    quote_id: UUID | None = None
    version: int = 0
    customer_id: str = ""
    opportunity_id: UUID | None = None
    price_list: str = ""
    currency: str = ""
    lines: tuple[QuoteLine, ...] = ()
    totals: QuoteTotals | None = None
    max_discount_percent: Decimal = Decimal(0)
    valid_until: date | None = None
    requires_approval: bool = False
    approved_by: str | None = None
    accepted: bool = False

    @property
    def approved(self) -> bool:
        return self.approved_by is not None


def can_send(state: Quote) -> bool:
    """Whether the latest version may go to the customer (sent, or its proposal downloaded)."""
    return state.exists and (not state.requires_approval or state.approved)


def decide(command: Command, state: Quote) -> Sequence[DomainEvent]:
    match command:
        case IssueQuote():
            return [_issue(command, state)]
        case ApproveQuote():
            if not state.exists:
                raise DomainError("no such quote", code="not-found")
            approver = command.approved_by.strip() if isinstance(command.approved_by, str) else ""
            if not approver or len(approver) > MAX_APPROVER_LENGTH:
                raise DomainError(
                    "an approval needs the approver (1..200 characters)", field="approved_by"
                )
            if not state.requires_approval:
                raise DomainError(
                    f"version {state.version} needs no approval", code="approval-not-required"
                )
            if state.approved:
                return []
            return [
                QuoteApproved(
                    quote_id=command.quote_id,
                    quote_version=state.version,
                    customer_id=state.customer_id,
                    approved_by=approver,
                )
            ]
        case AcceptQuote():
            if not state.exists or state.totals is None:
                raise DomainError("no such quote", code="not-found")
            if state.accepted:
                raise DomainError("quote already accepted", code="accepted")
            if state.requires_approval and not state.approved:
                raise DomainError(
                    f"version {state.version} must be approved before acceptance",
                    code="approval-required",
                )
            return [
                QuoteAccepted(
                    quote_id=command.quote_id,
                    quote_version=state.version,
                    customer_id=state.customer_id,
                    opportunity_id=state.opportunity_id,
                    total=state.totals.total,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _issue(command: IssueQuote, state: Quote) -> QuoteIssued:
    if state.accepted:
        raise DomainError("an accepted quote cannot be revised", code="accepted")
    customer_id = command.customer_id.strip() if isinstance(command.customer_id, str) else ""
    if not customer_id or len(customer_id) > MAX_CUSTOMER_ID_LENGTH:
        raise DomainError("customer id must be 1..200 characters", field="customer_id")
    if state.exists and customer_id != state.customer_id:
        raise DomainError(
            "a revision must be for the same customer",
            field="customer_id",
            code="customer-mismatch",
        )
    opportunity_id = command.opportunity_id or state.opportunity_id
    if state.exists and opportunity_id != state.opportunity_id and state.opportunity_id:
        raise DomainError(
            "a revision must belong to the same opportunity",
            field="opportunity_id",
            code="opportunity-mismatch",
        )
    threshold = command.approval_threshold_percent
    if not isinstance(threshold, Decimal) or not threshold.is_finite() or not 0 <= threshold <= 100:
        raise DomainError(
            "approval threshold must be within 0..100 %", field="approval_threshold_percent"
        )
    currency = command.catalogue.currency(command.price_list)
    lines, totals, max_discount = command.catalogue.price(command.price_list, command.items)
    return QuoteIssued(
        quote_id=command.quote_id,
        quote_version=state.version + 1,
        opportunity_id=opportunity_id,
        customer_id=customer_id,
        price_list=command.price_list,
        currency=currency,
        lines=lines,
        totals=totals,
        max_discount_percent=max_discount,
        requires_approval=max_discount > threshold,
        valid_until=command.valid_until,
    )


def evolve(state: Quote, event: DomainEvent) -> Quote:
    match event:
        case QuoteIssued():
            # A new version replaces the previous one entirely, its approval included.
            return Quote(
                exists=True,
                quote_id=event.quote_id,
                version=event.quote_version,
                customer_id=event.customer_id,
                opportunity_id=event.opportunity_id,
                price_list=event.price_list,
                currency=event.currency,
                lines=tuple(event.lines),
                totals=event.totals,
                max_discount_percent=event.max_discount_percent,
                valid_until=event.valid_until,
                requires_approval=event.requires_approval,
            )
        case QuoteApproved() if event.quote_version == state.version:
            return replace(state, approved_by=event.approved_by)
        case QuoteAccepted():
            return replace(state, accepted=True)
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Quote())


def stream_id(quote_id: UUID) -> str:
    return f"quote-{quote_id}"
