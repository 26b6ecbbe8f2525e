"""Timeline lines for the customer-service context's events, in English.

Problems, articles and recurring failures name no customer, so they never reach a
timeline; they have lines all the same, for any reader that lists them. An internal
note says that there was one, never what it says: the timeline is read by more people
than the agents who work the case.
"""

from __future__ import annotations

from contracts.events.support import (
    CaseAssigned,
    CaseClosed,
    CaseEscalated,
    CaseOpened,
    CaseReopened,
    CasesMerged,
    CaseSolved,
    CaseStatusChanged,
    ComplaintFiled,
    MessageAdded,
)
from contracts.events.support_quality import (
    CaseLinkedToProblem,
    KnowledgeArticleDrafted,
    KnowledgeArticleFeedback,
    KnowledgeArticlePublished,
    KnowledgeArticleReviewed,
    KnowledgeArticleSubmitted,
    ProblemOpened,
    ProblemSolved,
    RecurringFailureDetected,
    SatisfactionRated,
    SatisfactionSurveyRequested,
    ServqualResponseRecorded,
    SlaBreached,
    SlaWarning,
)
from contracts.events.support_self_service import (
    ExchangeRequested,
    RefundIssued,
    ReturnLabelIssued,
)
from contracts.registry import DomainEvent

_CLIP = 140


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _CLIP else text[: _CLIP - 1] + "…"


def _words(value: str) -> str:
    return value.replace("_", " ")


def _short(value: object) -> str:
    return str(value)[:8]


def _amount(event: RefundIssued) -> str:
    return f"{event.amount.currency} {event.amount.amount:,.2f}"


def support_summary(event: DomainEvent) -> str | None:
    """The line for a support event; None for an event of another context."""
    match event:
        case ComplaintFiled():
            text = f"Complaint filed via {event.channel}"
            if event.severity != "normal":
                text += f" ({event.severity} severity)"
            return f"{text}: {_clip(event.subject)}"
        case CaseOpened():
            kind = _words(event.kind).capitalize()
            return (f"{kind} case opened via {event.channel} ({event.priority} priority, "
                    f"team {event.team}): {_clip(event.subject)}")  # fmt: skip
        case CaseAssigned():
            who = event.assignee_id or "the queue"
            return f"Case assigned to {who} (team {event.team})"
        case CaseStatusChanged():
            text = f"Case moved from {_words(event.from_status)} to {_words(event.to_status)}"
            return f"{text}: {_clip(event.reason)}" if event.reason else text
        case MessageAdded():
            if event.kind == "internal_note":
                return f"Internal note by {event.author_id or 'an agent'}"
            who = "Agent replied" if event.kind == "agent_reply" else "Customer replied"
            return f"{who} via {event.channel}: {_clip(event.body)}"
        case CaseEscalated():
            return (f"Case escalated to level {event.level} (team {event.team}, "
                    f"{event.priority} priority): {_clip(event.reason)}")  # fmt: skip
        case CaseSolved():
            text = "Case solved"
            if event.via_problem_id:
                text += f" with problem {_short(event.via_problem_id)}"
            return f"{text}: {_clip(event.resolution)}"
        case CaseReopened():
            return f"Case reopened: {_clip(event.reason)}"
        case CaseClosed():
            return f"Case closed ({_words(event.cause)})"
        case CasesMerged():
            return f"Case merged into case {_short(event.into_case_id)}"
        case ProblemOpened():
            return f"Problem opened: {_clip(event.headline)}"
        case CaseLinkedToProblem():
            return f"Case linked to problem {_short(event.problem_id)}"
        case ProblemSolved():
            return f"Problem solved, with {len(event.incident_ids)} incident(s)"
        case SlaWarning():
            return f"SLA warning: {_words(event.metric)} due {event.due_at:%Y-%m-%d %H:%M} UTC"
        case SlaBreached():
            return f"SLA breached: {_words(event.metric)} ({event.target_minutes} min target)"
        case KnowledgeArticleDrafted():
            return f"Article drafted ({event.locale}): {_clip(event.headline)}"
        case KnowledgeArticleSubmitted():
            return f"Article v{event.version} submitted for review"
        case KnowledgeArticleReviewed():
            verdict = "approved" if event.approved else "sent back"
            return f"Article v{event.version} {verdict} in review"
        case KnowledgeArticlePublished():
            return f"Article v{event.version} published ({event.locale}): {_clip(event.headline)}"
        case KnowledgeArticleFeedback():
            return "Article helped" if event.helped else "Article did not help"
        case RecurringFailureDetected():
            about = event.product_id or event.team or event.agent_id or event.category or "?"
            return f"Recurring failure detected ({_words(event.indicator)}): {about}"
        case SatisfactionSurveyRequested():
            return f"Satisfaction survey requested ({event.scale_low} to {event.scale_high})"
        case SatisfactionRated():
            text = f"Satisfaction rated {event.score} of {event.scale_high}"
            return f"{text}: {_clip(event.comment)}" if event.comment else text
        case ServqualResponseRecorded():
            return "SERVQUAL questionnaire answered"
        case ExchangeRequested():
            what = f"{event.quantity} of {event.product_id}"
            return f"Exchange requested for {what}: {_clip(event.reason)}"
        case ReturnLabelIssued():
            return f"Return label issued by {event.carrier}: postage code {event.postage_code}"
        case RefundIssued():
            return f"Refund of {_amount(event)} issued ({_words(event.reason)})"
    return None
