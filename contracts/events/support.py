"""Events published by the customer-service context (topic ``crm.support.events``)."""

from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts.registry import DomainEvent, register


class _SupportEvent(DomainEvent):
    context = "support"


@register
class ComplaintFiled(_SupportEvent):
    event_type = "crm.support.complaint_filed"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("subject", "description")

    case_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10000)
    channel: Literal["phone", "email", "chat", "web", "social", "store", "other"] = "phone"
    severity: Literal["low", "normal", "high", "critical"] = "normal"
