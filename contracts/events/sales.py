"""Events published by the sales context (topic ``crm.sales.events``)."""

from datetime import date
from decimal import Decimal
from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from contracts.money import CurrencyCode, Money
from contracts.registry import DomainEvent, register

PipelineStage = Literal[
    "qualification", "quote_requested", "proposal_sent", "renegotiation", "won", "lost"
]


class _SalesEvent(DomainEvent):
    context = "sales"


@register
class OpportunityOpened(_SalesEvent):
    event_type = "crm.sales.opportunity_opened"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("title",)

    opportunity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    amount: Money
    stage: PipelineStage = "qualification"
    owner_id: str | None = None
    expected_close: date | None = None
    lead_id: UUID | None = None
    probability: Decimal | None = Field(default=None, ge=0, le=100, description="Win %")
    owner_team: str | None = Field(
        default=None, max_length=200, description="The owner's team when opened (team rule)"
    )


@register
class DealStageChanged(_SalesEvent):
    event_type = "crm.sales.deal_stage_changed"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("reason",)

    opportunity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    from_stage: PipelineStage
    to_stage: PipelineStage
    reason: str | None = Field(default=None, max_length=2000)
    probability: Decimal | None = Field(default=None, ge=0, le=100, description="Win %")


@register
class PurchaseMade(_SalesEvent):
    event_type = "crm.sales.purchase_made"

    order_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    total: Money
    channel: str = Field(default="direct", max_length=50)
    opportunity_id: UUID | None = None
    quote_id: UUID | None = None


# --------------------------------------------------------------------------- values
class TaxId(BaseModel):
    """A tax id already checked with its own check digits, stored without punctuation."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    scheme: Literal["cpf", "cnpj", "cuit", "cuil", "other"]
    number: str = Field(min_length=1, max_length=40, examples=["11222333000181"])
    country: str = Field(min_length=2, max_length=2, examples=["BR", "AR"])


class Address(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    street: str | None = Field(default=None, max_length=300)
    city: str | None = Field(default=None, max_length=120)
    state: str | None = Field(default=None, max_length=120, description="State / province")
    postal_code: str | None = Field(default=None, max_length=20)
    country: str | None = Field(default=None, min_length=2, max_length=2, description="ISO 3166")


class QuoteLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    product_id: str = Field(min_length=1, max_length=100)
    description: str = Field(max_length=500)
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=4)
    unit_price: Money
    discount_percent: Decimal = Field(ge=0, le=100, max_digits=7, decimal_places=4)
    tax_percent: Decimal = Field(ge=0, le=100, max_digits=7, decimal_places=4)
    net_amount: Money = Field(description="quantity x unit price minus discount, before tax")
    tax_amount: Money


class QuoteTotals(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    gross: Money = Field(description="Sum of quantity x unit price")
    discount: Money
    net: Money
    tax: Money
    total: Money


AccountKind = Literal["company", "organisation", "group"]
LeadSource = Literal["web_form", "event", "import", "referral", "other"]
LostReason = Literal[
    "price", "competitor", "no_budget", "no_decision", "timing", "product_fit", "other"
]
ActivityKind = Literal["call", "meeting", "task", "note", "email"]
AssignmentRule = Literal["territory", "round_robin", "manual"]


# ------------------------------------------------------------------ customers & leads
@register
class AccountRegistered(_SalesEvent):
    event_type = "crm.sales.account_registered"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("name", "tax_id", "phones", "emails", "address")

    account_id: UUID
    customer_id: str = Field(min_length=1, max_length=200, description="= account id")
    name: str = Field(min_length=1, max_length=300)
    kind: AccountKind = "company"
    tax_id: TaxId | None = None
    phones: list[str] = Field(default_factory=list, description="E.164")
    emails: list[str] = Field(default_factory=list)
    address: Address | None = None
    owner_id: str | None = None


@register
class ContactRegistered(_SalesEvent):
    event_type = "crm.sales.contact_registered"
    schema_version = 2
    sealed_since = 2
    personal_fields = (
        "first_name",
        "last_name",
        "job_title",
        "tax_id",
        "phones",
        "emails",
        "address",
    )

    contact_id: UUID
    customer_id: str = Field(
        min_length=1, max_length=200, description="The account's id if linked, else the contact's"
    )
    account_id: UUID | None = None
    first_name: str = Field(min_length=1, max_length=120)
    last_name: str = Field(default="", max_length=120)
    job_title: str | None = Field(default=None, max_length=200)
    tax_id: TaxId | None = None
    phones: list[str] = Field(default_factory=list, description="E.164")
    emails: list[str] = Field(default_factory=list)
    address: Address | None = None
    owner_id: str | None = None


@register
class RecordsMerged(_SalesEvent):
    """Two records of the same customer united: the merged one now points at the survivor."""

    event_type = "crm.sales.records_merged"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("reason",)

    kind: Literal["account", "contact"]
    survivor_id: UUID
    merged_id: UUID
    customer_id: str = Field(min_length=1, max_length=200, description="The survivor's customer")
    merged_customer_id: str = Field(min_length=1, max_length=200)
    reason: str | None = Field(default=None, max_length=2000)
    merged_by: str | None = None


class AccountDetails(BaseModel):
    """Identity details of an account; in a correction, only the fields it changed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: str | None = Field(default=None, min_length=1, max_length=300)
    tax_id: TaxId | None = None
    phones: list[str] | None = Field(default=None, description="E.164")
    emails: list[str] | None = None
    address: Address | None = None


class ContactDetails(BaseModel):
    """Identity details of a contact; in a correction, only the fields it changed."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    first_name: str | None = Field(default=None, min_length=1, max_length=120)
    last_name: str | None = Field(default=None, max_length=120)
    job_title: str | None = Field(default=None, max_length=200)
    tax_id: TaxId | None = None
    phones: list[str] | None = Field(default=None, description="E.164")
    emails: list[str] | None = None
    address: Address | None = None


@register
class AccountDetailsCorrected(_SalesEvent):
    """An account's identity details corrected: each field given is its new value, a
    field left null did not change. ``previous`` holds what the changed fields held, so
    that a reader replaces the old values without keeping every record's history."""

    event_type = "crm.sales.account_details_corrected"
    sealed_since = 1
    personal_fields = ("name", "tax_id", "phones", "emails", "address", "previous")

    account_id: UUID
    customer_id: str = Field(min_length=1, max_length=200, description="= account id")
    name: str | None = Field(default=None, min_length=1, max_length=300)
    tax_id: TaxId | None = None
    phones: list[str] | None = Field(default=None, description="E.164; null: unchanged")
    emails: list[str] | None = Field(default=None, description="null: unchanged")
    address: Address | None = None
    previous: AccountDetails | None = Field(
        default=None, description="The values the changed fields replaced"
    )
    corrected_by: str | None = Field(default=None, max_length=200)


@register
class ContactDetailsCorrected(_SalesEvent):
    """A contact's identity details corrected (see ``AccountDetailsCorrected``)."""

    event_type = "crm.sales.contact_details_corrected"
    sealed_since = 1
    personal_fields = (
        "first_name",
        "last_name",
        "job_title",
        "tax_id",
        "phones",
        "emails",
        "address",
        "previous",
    )

    contact_id: UUID
    customer_id: str = Field(
        min_length=1, max_length=200, description="The account's id if linked, else the contact's"
    )
    first_name: str | None = Field(default=None, min_length=1, max_length=120)
    last_name: str | None = Field(default=None, max_length=120)
    job_title: str | None = Field(default=None, max_length=200)
    tax_id: TaxId | None = None
    phones: list[str] | None = Field(default=None, description="E.164; null: unchanged")
    emails: list[str] | None = Field(default=None, description="null: unchanged")
    address: Address | None = None
    previous: ContactDetails | None = Field(
        default=None, description="The values the changed fields replaced"
    )
    corrected_by: str | None = Field(default=None, max_length=200)


@register
class LeadCaptured(_SalesEvent):
    event_type = "crm.sales.lead_captured"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("name", "company", "emails", "phones", "address", "notes")

    lead_id: UUID
    customer_id: str = Field(min_length=1, max_length=200, description="= lead id (a prospect)")
    source: LeadSource
    name: str = Field(min_length=1, max_length=240)
    company: str | None = Field(default=None, max_length=300)
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list, description="E.164")
    address: Address | None = None
    notes: str | None = Field(default=None, max_length=5000)
    owner_id: str | None = None


@register
class LeadQualified(_SalesEvent):
    """The prospect is interested."""

    event_type = "crm.sales.lead_qualified"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("notes",)

    lead_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    qualified_by: str | None = None
    notes: str | None = Field(default=None, max_length=5000)


@register
class LeadDisqualified(_SalesEvent):
    event_type = "crm.sales.lead_disqualified"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("reason",)

    lead_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


@register
class LeadConverted(_SalesEvent):
    event_type = "crm.sales.lead_converted"

    lead_id: UUID
    customer_id: str = Field(min_length=1, max_length=200, description="The new customer's id")
    lead_customer_id: str = Field(min_length=1, max_length=200)
    account_id: UUID | None = None
    contact_id: UUID
    opportunity_id: UUID | None = None


# ------------------------------------------------------------------- opportunities
@register
class OpportunityAssigned(_SalesEvent):
    event_type = "crm.sales.opportunity_assigned"

    opportunity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    owner_id: str = Field(min_length=1, max_length=200)
    previous_owner_id: str | None = None
    rule: AssignmentRule
    team: str | None = None


@register
class OpportunityWon(_SalesEvent):
    event_type = "crm.sales.opportunity_won"

    opportunity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    amount: Money


@register
class OpportunityLost(_SalesEvent):
    """Lost-order analysis: a reason from the catalogue plus free text."""

    event_type = "crm.sales.opportunity_lost"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("details",)

    opportunity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    reason: LostReason
    details: str = Field(min_length=1, max_length=2000)
    competitor: str | None = Field(default=None, max_length=200)


@register
class OpportunityReopened(_SalesEvent):
    event_type = "crm.sales.opportunity_reopened"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("reason",)

    opportunity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    to_stage: PipelineStage
    reason: str | None = Field(default=None, max_length=2000)


# -------------------------------------------------------------------------- quotes
@register
class QuoteIssued(_SalesEvent):
    """A quote version; a revision is a new version of the same quote."""

    event_type = "crm.sales.quote_issued"

    quote_id: UUID
    quote_version: int = Field(ge=1)
    opportunity_id: UUID | None = None
    customer_id: str = Field(min_length=1, max_length=200)
    price_list: str = Field(min_length=1, max_length=100)
    currency: CurrencyCode
    lines: list[QuoteLine] = Field(min_length=1)
    totals: QuoteTotals
    max_discount_percent: Decimal = Field(ge=0, le=100)
    requires_approval: bool
    valid_until: date | None = None


@register
class QuoteApproved(_SalesEvent):
    event_type = "crm.sales.quote_approved"

    quote_id: UUID
    quote_version: int = Field(ge=1)
    customer_id: str = Field(min_length=1, max_length=200)
    approved_by: str = Field(min_length=1, max_length=200)


@register
class QuoteAccepted(_SalesEvent):
    event_type = "crm.sales.quote_accepted"

    quote_id: UUID
    quote_version: int = Field(ge=1)
    customer_id: str = Field(min_length=1, max_length=200)
    opportunity_id: UUID | None = None
    total: Money


# -------------------------------------------------------------------------- orders
class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    product_id: str = Field(min_length=1, max_length=100)
    description: str = Field(default="", max_length=500)
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=4)
    line_total: Money


@register
class OrderPlaced(_SalesEvent):
    event_type = "crm.sales.order_placed"

    order_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    quote_id: UUID | None = None
    quote_version: int | None = None
    opportunity_id: UUID | None = None
    lines: list[OrderLine] = Field(min_length=1)
    total: Money
    channel: str = Field(default="direct", max_length=50)
    promised_delivery_date: date | None = None
    """The date promised to the customer (optional, added with late-delivery refunds)."""


@register
class OrderDelivered(_SalesEvent):
    event_type = "crm.sales.order_delivered"

    order_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)


@register
class OrderCancelled(_SalesEvent):
    event_type = "crm.sales.order_cancelled"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("reason",)

    order_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)


@register
class OrderReturned(_SalesEvent):
    event_type = "crm.sales.order_returned"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("reason",)

    order_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    reason: str = Field(min_length=1, max_length=2000)
    defective: bool = False


# ------------------------------------------------------------ activities & follow-ups
class RelatedTo(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    account_id: UUID | None = None
    contact_id: UUID | None = None
    opportunity_id: UUID | None = None


@register
class ActivityLogged(_SalesEvent):
    event_type = "crm.sales.activity_logged"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("subject", "notes", "outcome")

    activity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    kind: ActivityKind
    subject: str = Field(min_length=1, max_length=300)
    notes: str | None = Field(default=None, max_length=10000)
    outcome: str | None = Field(default=None, max_length=500)
    duration_minutes: int | None = Field(default=None, ge=0, le=24 * 60)
    happened_at: AwareDatetime
    actor_id: str | None = None
    related: RelatedTo = Field(default_factory=RelatedTo)


@register
class FollowUpScheduled(_SalesEvent):
    event_type = "crm.sales.follow_up_scheduled"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("subject",)

    follow_up_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    owner_id: str = Field(min_length=1, max_length=200)
    due_at: AwareDatetime
    subject: str = Field(min_length=1, max_length=300)
    channel: Literal["email", "messaging", "in_app"] = "in_app"
    related: RelatedTo = Field(default_factory=RelatedTo)


@register
class FollowUpDue(_SalesEvent):
    """The reminder for the owner: call back, meet, clarify or close."""

    event_type = "crm.sales.follow_up_due"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("subject",)

    follow_up_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    owner_id: str = Field(min_length=1, max_length=200)
    due_at: AwareDatetime
    subject: str = Field(min_length=1, max_length=300)
    channel: Literal["email", "messaging", "in_app"] = "in_app"
