"""Events published by the customer-service context (topic ``crm.support.events``): cases.

A case records a customer's problem from the moment it is reported to its closing. Every
case event carries the customer id, so the timeline and the customer 360 place it; the
routing context reads ``CaseOpened`` / ``CaseAssigned`` (team, skills, priority, channel)
to queue the work. Problems, SLA clocks, knowledge and satisfaction are in
``support_quality``, exchanges and refunds in ``support_self_service``.

Free text written by or about a person (subjects, descriptions, messages, reasons,
resolutions) is personal data: sealed with the customer's key from version 1.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts.registry import DomainEvent, register

CaseKind = Literal["complaint", "request", "non_conformity", "question"]
Channel = Literal["phone", "email", "chat", "web", "social", "store", "other"]
Priority = Literal["low", "normal", "high", "critical"]
CaseStatus = Literal["new", "open", "pending", "on_hold", "solved", "closed"]
"""new → open → pending (waiting on the customer) / on hold (waiting on a third party)
→ solved → closed; a solved case may be reopened within the reopen period."""
CustomerTier = Literal["standard", "gold", "vip"]


class _SupportEvent(DomainEvent):
    context = "support"


class _CaseEvent(_SupportEvent):
    case_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)


@register
class ComplaintFiled(_SupportEvent):
    """A complaint reported, by the support service (with its ``CaseOpened``) or by
    another system (a call centre, a complaints site), which support turns into a case."""

    event_type = "crm.support.complaint_filed"
    schema_version = 2
    sealed_since = 2
    personal_fields = ("subject", "description")

    case_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10000)
    channel: Channel = "phone"
    severity: Priority = "normal"
    # Added with the support service (optional, so version 2 still reads every record).
    category: str | None = Field(None, max_length=100)
    product_id: str | None = Field(None, max_length=100)
    order_id: UUID | None = None
    contact_id: UUID | None = None


@register
class CaseOpened(_CaseEvent):
    """A case, with what routing and the SLA clocks need: its priority, category,
    product, the customer's tier, the team the rules chose and the SLA it runs under."""

    event_type = "crm.support.case_opened"
    personal_fields = ("subject", "description")

    kind: CaseKind
    channel: Channel
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(default="", max_length=10000)
    category: str = Field(min_length=1, max_length=100)
    priority: Priority = "normal"
    tier: CustomerTier = "standard"
    product_id: str | None = Field(None, max_length=100)
    order_id: UUID | None = None
    contact_id: UUID | None = None
    team: str = Field(min_length=1, max_length=100)
    required_skills: list[str] = Field(default_factory=list, max_length=20)
    opened_by: str | None = Field(None, max_length=200)
    opened_at: datetime
    sla_policy_id: str = Field(min_length=1, max_length=100)
    sla_policy_version: int = Field(ge=1)
    calendar_id: str = Field(min_length=1, max_length=100)
    calendar_version: int = Field(ge=1)
    email_message_id: str | None = Field(None, max_length=998)
    """The ``Message-ID`` of the inbound e-mail that opened it (threads replies)."""


@register
class CaseAssigned(_CaseEvent):
    event_type = "crm.support.case_assigned"

    team: str = Field(min_length=1, max_length=100)
    assignee_id: str | None = Field(None, max_length=200)
    previous_team: str | None = Field(None, max_length=100)
    previous_assignee_id: str | None = Field(None, max_length=200)
    assigned_by: str | None = Field(None, max_length=200)
    """None: the assignment rules."""
    priority: Priority = "normal"
    channel: Channel = "other"
    category: str = Field(default="", max_length=100)
    required_skills: list[str] = Field(default_factory=list, max_length=20)


@register
class CaseStatusChanged(_CaseEvent):
    """Every change of status, solving and closing included: the SLA clocks are derived
    from this history (pauses while pending or on hold)."""

    event_type = "crm.support.case_status_changed"
    personal_fields = ("reason",)

    from_status: CaseStatus
    to_status: CaseStatus
    changed_at: datetime
    changed_by: str | None = Field(None, max_length=200)
    reason: str | None = Field(None, max_length=2000)


@register
class MessageAdded(_CaseEvent):
    """A message of the case's conversation: an agent's public reply, the customer's
    reply, or an internal note only agents see."""

    event_type = "crm.support.message_added"
    personal_fields = ("body",)

    message_id: UUID
    kind: Literal["agent_reply", "customer_reply", "internal_note"]
    author_id: str | None = Field(None, max_length=200)
    channel: Channel = "web"
    body: str = Field(min_length=1, max_length=50000)
    added_at: datetime
    email_message_id: str | None = Field(None, max_length=998)


@register
class CaseEscalated(_CaseEvent):
    event_type = "crm.support.case_escalated"
    personal_fields = ("reason",)

    level: int = Field(ge=1, le=10)
    team: str = Field(min_length=1, max_length=100)
    priority: Priority
    reason: str = Field(min_length=1, max_length=2000)
    escalated_by: str | None = Field(None, max_length=200)
    """None: the SLA (a breach escalates)."""


@register
class CaseSolved(_CaseEvent):
    event_type = "crm.support.case_solved"
    personal_fields = ("resolution",)

    resolution: str = Field(min_length=1, max_length=10000)
    solved_at: datetime
    solved_by: str | None = Field(None, max_length=200)
    team: str = Field(default="", max_length=100)
    via_problem_id: UUID | None = None
    """Solved with its problem (problem management), not on its own."""


@register
class CaseReopened(_CaseEvent):
    event_type = "crm.support.case_reopened"
    personal_fields = ("reason",)

    reason: str = Field(min_length=1, max_length=2000)
    reopened_at: datetime
    reopened_by: str | None = Field(None, max_length=200)


@register
class CaseClosed(_CaseEvent):
    event_type = "crm.support.case_closed"

    closed_at: datetime
    closed_by: str | None = Field(None, max_length=200)
    """None: closed by the service when the reopen period ended."""
    cause: Literal["reopen_period_over", "closed_by_agent", "merged"] = "closed_by_agent"


@register
class CasesMerged(_CaseEvent):
    """The duplicate ``case_id`` merged into ``into_case_id`` (the one that stays open):
    its conversation stays readable, its clocks stop."""

    event_type = "crm.support.cases_merged"

    into_case_id: UUID
    merged_at: datetime
    merged_by: str | None = Field(None, max_length=200)
