"""Events published by the sales context (topic ``crm.sales.events``)."""

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts.money import Money
from contracts.registry import DomainEvent, register

PipelineStage = Literal[
    "qualification", "quote_requested", "proposal_sent", "renegotiation", "won", "lost"
]


class _SalesEvent(DomainEvent):
    context = "sales"


@register
class OpportunityOpened(_SalesEvent):
    event_type = "crm.sales.opportunity_opened"

    opportunity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    title: str = Field(min_length=1, max_length=300)
    amount: Money
    stage: PipelineStage = "qualification"
    owner_id: str | None = None
    expected_close: date | None = None


@register
class DealStageChanged(_SalesEvent):
    event_type = "crm.sales.deal_stage_changed"

    opportunity_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    from_stage: PipelineStage
    to_stage: PipelineStage
    reason: str | None = Field(default=None, max_length=2000)


@register
class PurchaseMade(_SalesEvent):
    event_type = "crm.sales.purchase_made"

    order_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    total: Money
    channel: str = Field(default="direct", max_length=50)
    opportunity_id: UUID | None = None
