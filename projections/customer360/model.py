"""The customer 360 profile's shape: what a profile holds, and the views inside it.

``projections.customer360.profile`` folds events into it; ``lifecycle`` derives its stage
and totals; readers (the gateway, analysts through ``customer360.customer_profiles``)
read it.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.events.support import CaseKind, CaseStatus, Priority
from contracts.money import Money

Kind = Literal["account", "contact", "lead", "unknown"]
Stage = Literal[
    "prospect",
    "new_customer",
    "first_order",
    "first_order_delivered",
    "active",
    "at_risk",
    "win_back",
]
LeadStatus = Literal["captured", "qualified", "disqualified", "converted"]
OrderStatus = Literal["unknown", "placed", "delivered", "cancelled", "returned"]


class TaxIdView(BaseModel):
    model_config = ConfigDict(frozen=True)

    scheme: str
    number: str
    country: str | None = None


class Place(BaseModel):
    model_config = ConfigDict(frozen=True)

    city: str | None = None
    state: str | None = None
    country: str | None = None


class OpportunityView(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str | None = None
    stage: str | None = None
    amount: Money | None = None
    probability: Decimal | None = None
    owner_id: str | None = None
    owner_team: str | None = None


class DealFacts(BaseModel):
    """What record-level filtering needs of one deal, open or closed: its latest owner
    and team, when it was last lost, its latest interaction. A reader that may not see
    the deal gets a profile re-derived without it (``customer360.restricted``)."""

    model_config = ConfigDict(frozen=True)

    owner_id: str | None = None
    owner_team: str | None = None
    lost_at: datetime | None = None
    last_interaction_at: datetime | None = None
    last_interaction_summary: str | None = None


class OrderView(BaseModel):
    """The facts known about one order; ``status`` and ``total`` derive from them."""

    model_config = ConfigDict(frozen=True)

    status: OrderStatus = "unknown"
    total: Money | None = None
    total_from_order: bool = False
    channel: str | None = None
    placed_at: datetime | None = None
    delivered_at: datetime | None = None
    cancelled_at: datetime | None = None
    returned_at: datetime | None = None
    defective: bool = False
    opportunity_id: str | None = None


SlaState = Literal["on_track", "at_risk", "breached"]


class CaseView(BaseModel):
    """What the profile knows of one support case. Each value is a register that keeps
    the latest (or worst) fact by the time the event states, so two partial views of one
    case (a merged customer's and its survivor's) join into the same record whatever
    order their events were read in (``customer360.cases``)."""

    model_config = ConfigDict(frozen=True)

    kind: CaseKind | None = None
    """The ``CaseOpened`` kind; "complaint" for a complaint filed without one."""
    status: CaseStatus = "new"
    status_at: datetime | None = None
    status_rank: int = 0
    """Breaks ties between two changes at one instant (a reopen outranks the solving)."""
    closed_at: datetime | None = None
    """Closed for good (closed, or merged into another case): nothing reopens it."""
    merged_into: str | None = None
    priority: Priority | None = None
    priority_at: datetime | None = None
    team: str | None = None
    team_at: datetime | None = None
    opened_at: datetime | None = None
    sla_state: SlaState = "on_track"
    """The worst SLA state any of the case's clocks reached."""


class SlaCounts(BaseModel):
    """Open cases by the worst SLA state they reached (the rest are on track)."""

    model_config = ConfigDict(frozen=True)

    breached: int = 0
    at_risk: int = 0


class CsatView(BaseModel):
    """A satisfaction rating, without the customer's comment (personal free text)."""

    model_config = ConfigDict(frozen=True)

    score: int
    scale_high: int
    satisfied: bool
    rated_at: datetime
    case_id: str


class MainRecord(BaseModel):
    """Who the main record is: the highest-ranked registration, earliest within a rank."""

    model_config = ConfigDict(frozen=True)

    rank: int
    at: datetime
    display_name: str
    company_name: str | None = None
    owner_id: str | None = None
    address: Place | None = None


class Profile(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: str
    kind: Kind = "unknown"
    display_name: str | None = None
    company_name: str | None = None
    person_names: list[str] = Field(default_factory=list)
    tax_ids: list[TaxIdView] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list, description="E.164")
    emails: list[str] = Field(default_factory=list)
    address: Place | None = None
    addresses: list[Place] = Field(default_factory=list)
    account_id: str | None = None
    contact_ids: list[str] = Field(default_factory=list)
    lead_ids: list[str] = Field(default_factory=list)
    owner_id: str | None = None
    lead_status: LeadStatus | None = None
    converted_into: str | None = None
    merged_into: str | None = None
    merged_from: list[str] = Field(default_factory=list)
    became_customer_at: datetime | None = None
    lifecycle: Stage = "prospect"
    open_opportunities: dict[str, OpportunityView] = Field(default_factory=dict)
    closed_opportunities: dict[str, Literal["won", "lost"]] = Field(default_factory=dict)
    last_lost_at: datetime | None = None
    orders: dict[str, OrderView] = Field(default_factory=dict)
    lifetime_value: dict[str, Decimal] = Field(default_factory=dict)
    first_order_at: datetime | None = None
    last_order_at: datetime | None = None
    last_interaction_at: datetime | None = None
    last_interaction_summary: str | None = None
    other_interaction_at: datetime | None = None
    other_interaction_summary: str | None = Field(
        None, description="The latest interaction linked to no deal"
    )
    deals: dict[str, DealFacts] = Field(default_factory=dict)
    cases: dict[str, CaseView] = Field(default_factory=dict)
    open_cases: list[str] = Field(
        default_factory=list, description="Cases neither solved nor closed (from ``cases``)"
    )
    open_complaints: int = Field(0, description="Open cases of kind complaint")
    sla: SlaCounts = Field(default_factory=SlaCounts)
    last_complaint_at: datetime | None = None
    last_csat: CsatView | None = None
    last_defective_return_at: datetime | None = None
    first_seen_at: datetime | None = None
    updated_at: datetime | None = None
    main_record: MainRecord | None = None
    erased: bool = Field(
        False, description="The subject's personal data was erased (customer360.erasure)"
    )
    erased_at: datetime | None = None
