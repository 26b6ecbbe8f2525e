"""The commands the sales service accepts, as the application sees them.

Each is what one HTTP operation (or another entry point) asks for: the domain command,
plus what the application must know to run it — who asks (``actor``, for the team rule)
and the version the caller read (``expected_version``, optimistic concurrency). Account
and contact registrations and lead captures are handled as their domain commands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from contracts.events.sales import OrderLine
from contracts.money import Money
from services.sales.application.access import Actor
from services.sales.domain import account, contact, lead, order, quote
from services.sales.domain import activity as act
from services.sales.domain import opportunity as opp


@dataclass(frozen=True)
class MergeRecord:
    kind: Literal["account", "contact"]
    merged_id: UUID
    survivor_id: UUID
    reason: str | None = None
    merged_by: str | None = None


@dataclass(frozen=True)
class CorrectDetails:
    command: account.CorrectAccount | contact.CorrectContact
    expected_version: int | None = None


@dataclass(frozen=True)
class ChangeLead:
    command: lead.QualifyLead | lead.DisqualifyLead
    expected_version: int | None = None


@dataclass(frozen=True)
class DealDraft:
    title: str
    amount: Money
    expected_close: date | None = None


@dataclass(frozen=True)
class ConvertLead:
    lead_id: UUID
    opportunity: DealDraft | None = None


@dataclass(frozen=True)
class OpenDeal:
    opportunity_id: UUID
    customer_id: str
    title: str
    amount: Money
    owner_id: str | None = None
    expected_close: date | None = None
    actor: Actor | None = None
    assignment: opp.Assignment | None = None
    """The assignment rules' choice, made before the command's transaction (see deals)."""


@dataclass(frozen=True)
class ChangeDeal:
    command: opp.ChangeDealStage | opp.ReopenOpportunity
    expected_version: int | None = None
    actor: Actor | None = None


@dataclass(frozen=True)
class ReassignDeal:
    opportunity_id: UUID
    owner_id: str
    expected_version: int | None = None
    actor: Actor | None = None


@dataclass(frozen=True)
class QuoteLine:
    product_id: str
    quantity: Decimal
    discount_percent: Decimal = Decimal(0)


@dataclass(frozen=True)
class IssueQuote:
    """A new quote, or (``revision``) a new version of an existing one."""

    quote_id: UUID
    customer_id: str
    price_list: str
    items: tuple[QuoteLine, ...]
    opportunity_id: UUID | None = None
    valid_until: date | None = None
    revision: bool = False
    actor: Actor | None = None


@dataclass(frozen=True)
class ChangeQuote:
    command: quote.ApproveQuote | quote.AcceptQuote
    expected_version: int | None = None
    actor: Actor | None = None


@dataclass(frozen=True)
class PlaceOrder:
    """From an accepted quote (``quote_id``) or a direct sale (``customer_id`` + ``lines``)."""

    order_id: UUID
    """The new order's id for a direct sale; one from a quote derives it from the quote's."""
    customer_id: str | None = None
    quote_id: UUID | None = None
    lines: tuple[OrderLine, ...] = ()
    channel: str = "direct"
    opportunity_id: UUID | None = None
    actor: Actor | None = None


@dataclass(frozen=True)
class ChangeOrder:
    command: order.DeliverOrder | order.CancelOrder | order.ReturnOrder
    expected_version: int | None = None


@dataclass(frozen=True)
class LogActivity:
    command: act.LogActivity
    expected_version: int | None = None


@dataclass(frozen=True)
class ScheduleFollowUp:
    command: act.ScheduleFollowUp
