"""Events of the customer-service context's quality work (topic ``crm.support.events``):
problems, SLA clocks, knowledge articles, recurring failures and satisfaction.

Problems and articles are the company's own records, not a customer's: they carry no
customer id and no personal data (an article drafted from a case is reviewed before it
is published, so a customer's words never reach it). Everything about a case carries
the customer id, and a customer's own words (a survey comment) are sealed.
"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from contracts.events.support import Priority, _CaseEvent, _SupportEvent
from contracts.registry import register

SlaMetric = Literal["first_response", "next_reply", "resolution"]
Locale = Literal["pt-BR", "es", "en"]


# --------------------------------------------------------------------------- problems
@register
class ProblemOpened(_SupportEvent):
    """The cause behind many incidents (ITIL problem management)."""

    event_type = "crm.support.problem_opened"

    problem_id: UUID
    headline: str = Field(min_length=1, max_length=300)
    summary: str = Field(default="", max_length=10000)
    category: str | None = Field(None, max_length=100)
    product_id: str | None = Field(None, max_length=100)
    opened_by: str | None = Field(None, max_length=200)
    """None: proposed by the recurring-failure detector."""
    recurring_group_id: str | None = Field(None, max_length=200)
    opened_at: datetime


@register
class CaseLinkedToProblem(_CaseEvent):
    event_type = "crm.support.case_linked_to_problem"

    problem_id: UUID
    linked_by: str | None = Field(None, max_length=200)
    linked_at: datetime


@register
class ProblemSolved(_SupportEvent):
    """Solving a problem solves its open incidents: each gets a ``CaseSolved`` naming it."""

    event_type = "crm.support.problem_solved"

    problem_id: UUID
    resolution: str = Field(min_length=1, max_length=10000)
    solved_by: str | None = Field(None, max_length=200)
    solved_at: datetime
    incident_ids: list[UUID] = Field(default_factory=list)


# --------------------------------------------------------------------------- SLA
class _SlaClockEvent(_CaseEvent):
    metric: SlaMetric
    cycle: int = Field(1, ge=1)
    """Which reply a next-reply clock is for (1 for first response and resolution)."""
    target_minutes: int = Field(ge=1)
    due_at: datetime
    policy_id: str = Field(min_length=1, max_length=100)
    policy_version: int = Field(ge=1)
    calendar_id: str = Field(min_length=1, max_length=100)
    calendar_version: int = Field(ge=1)
    team: str = Field(default="", max_length=100)
    assignee_id: str | None = Field(None, max_length=200)
    priority: Priority = "normal"


@register
class SlaWarning(_SlaClockEvent):
    """A clock reached its warning point (a share of the target) before breaching."""

    event_type = "crm.support.sla_warning"

    warned_at: datetime


@register
class SlaBreached(_SlaClockEvent):
    """Exactly once per (case, metric, cycle) and policy target."""

    event_type = "crm.support.sla_breached"

    breached_at: datetime


# --------------------------------------------------------------------------- knowledge
class _ArticleEvent(_SupportEvent):
    article_id: UUID
    version: int = Field(ge=1)


@register
class KnowledgeArticleDrafted(_ArticleEvent):
    event_type = "crm.support.knowledge_article_drafted"

    locale: Locale
    headline: str = Field(min_length=1, max_length=300)
    content: str = Field(min_length=1, max_length=50000)
    category: str | None = Field(None, max_length=100)
    product_id: str | None = Field(None, max_length=100)
    source_case_id: UUID | None = None
    drafted_by: str | None = Field(None, max_length=200)


@register
class KnowledgeArticleSubmitted(_ArticleEvent):
    """A draft sent to a supervisor for review (only a reviewed draft is published)."""

    event_type = "crm.support.knowledge_article_submitted"

    submitted_by: str | None = Field(None, max_length=200)


@register
class KnowledgeArticleReviewed(_ArticleEvent):
    event_type = "crm.support.knowledge_article_reviewed"

    approved: bool
    reviewer_id: str | None = Field(None, max_length=200)
    remarks: str = Field(default="", max_length=5000)


@register
class KnowledgeArticlePublished(_ArticleEvent):
    event_type = "crm.support.knowledge_article_published"

    locale: Locale
    headline: str = Field(min_length=1, max_length=300)
    content: str = Field(min_length=1, max_length=50000)
    category: str | None = Field(None, max_length=100)
    product_id: str | None = Field(None, max_length=100)
    published_by: str | None = Field(None, max_length=200)


@register
class KnowledgeArticleFeedback(_ArticleEvent):
    """Whether an article offered on a case (deflection) or read in self-service helped."""

    event_type = "crm.support.knowledge_article_feedback"

    helped: bool
    case_id: UUID | None = None
    customer_id: str | None = Field(None, max_length=200)


# --------------------------------------------------------------------------- failures
@register
class RecurringFailureDetected(_SupportEvent):
    """Once per group of similar cases that crossed the threshold in the window; a
    product failure proposes a problem, a human one names the team or agent."""

    event_type = "crm.support.recurring_failure_detected"

    group_id: str = Field(min_length=1, max_length=200)
    kind: Literal["product", "human"]
    category: str | None = Field(None, max_length=100)
    product_id: str | None = Field(None, max_length=100)
    team: str | None = Field(None, max_length=100)
    agent_id: str | None = Field(None, max_length=200)
    indicator: Literal["similar_cases", "reopen_rate", "low_satisfaction"]
    case_ids: list[UUID] = Field(default_factory=list)
    value: float = Field(description="Cases in the window, or the rate found")
    threshold: float
    window_days: int = Field(ge=1)
    method: str = Field(max_length=200, description="How similarity was judged")
    proposed_problem_id: UUID | None = None
    detected_at: datetime


# --------------------------------------------------------------------------- satisfaction
@register
class SatisfactionSurveyRequested(_CaseEvent):
    """A case was solved: ask the customer (the marketing context delivers it)."""

    event_type = "crm.support.satisfaction_survey_requested"

    survey_id: UUID
    scale_low: int = 1
    scale_high: int = 5
    team: str = Field(default="", max_length=100)
    agent_id: str | None = Field(None, max_length=200)
    category: str = Field(default="", max_length=100)
    locale: Locale = "pt-BR"
    requested_at: datetime
    transactional: bool = True
    """A service message: bypasses marketing consent and caps, never a suppression."""


@register
class SatisfactionRated(_CaseEvent):
    event_type = "crm.support.satisfaction_rated"
    personal_fields = ("comment",)

    survey_id: UUID
    score: int
    scale_low: int = 1
    scale_high: int = 5
    satisfied: bool
    comment: str = Field(default="", max_length=5000)
    team: str = Field(default="", max_length=100)
    agent_id: str | None = Field(None, max_length=200)
    category: str = Field(default="", max_length=100)
    rated_at: datetime


@register
class ServqualResponseRecorded(_SupportEvent):
    """One SERVQUAL questionnaire: the 22 items answered twice (expectation, perception)
    on a 7-point scale, with optional importance points over the five dimensions."""

    event_type = "crm.support.servqual_response_recorded"

    response_id: UUID
    customer_id: str = Field(min_length=1, max_length=200)
    case_id: UUID | None = None
    team: str = Field(default="", max_length=100)
    expectations: list[int] = Field(min_length=22, max_length=22)
    perceptions: list[int] = Field(min_length=22, max_length=22)
    weights: dict[str, int] | None = None
    locale: Locale = "pt-BR"
    recorded_at: datetime
