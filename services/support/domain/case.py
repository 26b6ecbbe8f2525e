"""The case aggregate: a customer's problem from the moment it is reported to its closing.

Lifecycle: new → open → pending (waiting on the customer) / on_hold (waiting on a third
party) → solved → closed. A case is ``new`` until an agent works it (assignment to a
person, a reply or a status change opens it). A solved case may be reopened until its
reopen period ends, then it closes for good; a closed case takes nothing more. A
duplicate merged into another case closes with ``cause="merged"``. Solving a problem
solves its open incidents with ``via_problem_id``, the trail of problem management.

The SLA clocks are not kept here: ``sla_history`` lists the facts they are derived from
(opening, each status change, each public reply), and ``application.sla`` derives them.
The case remembers which SLA warnings and breaches were emitted, so the scheduler can
never emit one twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from contracts.events.support import (
    CaseAssigned,
    CaseClosed,
    CaseEscalated,
    CaseKind,
    CaseOpened,
    CaseReopened,
    CasesMerged,
    CaseSolved,
    CaseStatus,
    CaseStatusChanged,
    Channel,
    ComplaintFiled,
    CustomerTier,
    MessageAdded,
    Priority,
)
from contracts.events.support_quality import (
    CaseLinkedToProblem,
    SlaBreached,
    SlaMetric,
    SlaWarning,
)
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError

PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high", "critical")
WORKED_STATUSES: frozenset[str] = frozenset({"open", "pending", "on_hold"})
"""The statuses an agent may set by hand (solving and closing have their own commands)."""
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"open", "pending", "on_hold"}),
    "open": frozenset({"pending", "on_hold"}),
    "pending": frozenset({"open", "on_hold"}),
    "on_hold": frozenset({"open", "pending"}),
}


@dataclass(frozen=True)
class OpenCase:
    case_id: UUID
    customer_id: str
    kind: CaseKind
    channel: Channel
    subject: str
    description: str
    category: str
    priority: Priority
    tier: CustomerTier
    team: str
    opened_at: datetime
    sla_policy: tuple[str, int]
    """(policy id, version) the case runs under."""
    calendar: tuple[str, int]
    product_id: str | None = None
    order_id: UUID | None = None
    contact_id: UUID | None = None
    required_skills: tuple[str, ...] = ()
    opened_by: str | None = None
    email_message_id: str | None = None


@dataclass(frozen=True)
class AssignCase:
    case_id: UUID
    team: str | None = None
    assignee_id: str | None = None
    assigned_by: str | None = None
    at: datetime | None = None


@dataclass(frozen=True)
class ChangeStatus:
    case_id: UUID
    to_status: CaseStatus
    at: datetime
    changed_by: str | None = None
    reason: str | None = None


@dataclass(frozen=True)
class AddMessage:
    case_id: UUID
    message_id: UUID
    kind: str
    """agent_reply, customer_reply or internal_note."""
    body: str
    at: datetime
    author_id: str | None = None
    channel: Channel = "web"
    email_message_id: str | None = None


@dataclass(frozen=True)
class EscalateCase:
    case_id: UUID
    reason: str
    team: str | None = None
    priority: Priority | None = None
    escalated_by: str | None = None


@dataclass(frozen=True)
class SolveCase:
    case_id: UUID
    resolution: str
    at: datetime
    solved_by: str | None = None
    via_problem_id: UUID | None = None


@dataclass(frozen=True)
class ReopenCase:
    case_id: UUID
    reason: str
    at: datetime
    reopen_period: timedelta
    reopened_by: str | None = None


@dataclass(frozen=True)
class CloseCase:
    case_id: UUID
    at: datetime
    closed_by: str | None = None
    reopen_period: timedelta | None = None
    """Given when the service closes a solved case: refused before the period is over."""


@dataclass(frozen=True)
class MergeInto:
    case_id: UUID
    into_case_id: UUID
    at: datetime
    merged_by: str | None = None


@dataclass(frozen=True)
class LinkToProblem:
    case_id: UUID
    problem_id: UUID
    at: datetime
    linked_by: str | None = None


@dataclass(frozen=True)
class RecordSlaEvent:
    """The scheduler's: a clock reached its warning point or its target."""

    case_id: UUID
    event: SlaWarning | SlaBreached


Command = (
    OpenCase | AssignCase | ChangeStatus | AddMessage | EscalateCase | SolveCase
    | ReopenCase | CloseCase | MergeInto | LinkToProblem | RecordSlaEvent
)  # fmt: skip


@dataclass(frozen=True)
class SlaFact:
    """One fact the SLA clocks are derived from."""

    at: datetime
    kind: str
    """opened, status, agent_reply, customer_message, solved, reopened, closed."""
    status: str | None = None


@dataclass(frozen=True)
class Case:
    exists: bool = False
    customer_id: str = ""
    kind: CaseKind = "request"
    channel: Channel = "other"
    category: str = ""
    priority: Priority = "normal"
    tier: CustomerTier = "standard"
    product_id: str | None = None
    order_id: UUID | None = None
    team: str = ""
    assignee_id: str | None = None
    status: CaseStatus = "new"
    opened_at: datetime | None = None
    solved_at: datetime | None = None
    sla_policy: tuple[str, int] = ("", 0)
    calendar: tuple[str, int] = ("", 0)
    escalation_level: int = 0
    problem_id: UUID | None = None
    merged_into: UUID | None = None
    messages: int = 0
    sla_history: tuple[SlaFact, ...] = ()
    sla_events: frozenset[tuple[str, str, int]] = frozenset()
    """(warning|breach, metric, cycle) already emitted."""

    @property
    def is_closed(self) -> bool:
        return self.status == "closed"


def _existing(state: Case) -> None:
    if not state.exists:
        raise DomainError("no such case", code="not-found")


def _open_for_work(state: Case, what: str) -> None:
    _existing(state)
    if state.status == "closed":
        what_on = "merged into another case" if state.merged_into else "closed"
        raise DomainError(f"the case is {what_on}: cannot {what}", code="case-closed")


def _text(value: str, field: str, max_length: int) -> str:
    text = value.strip()
    if not text:
        raise DomainError(f"{field} must not be blank", field=field)
    if len(text) > max_length:
        raise DomainError(f"{field} is longer than {max_length} characters", field=field)
    return text


def _status_change(state: Case, case_id: UUID, to: CaseStatus, at: datetime,
                   by: str | None, reason: str | None = None) -> CaseStatusChanged:  # fmt: skip
    return CaseStatusChanged(
        case_id=case_id, customer_id=state.customer_id, from_status=state.status,
        to_status=to, changed_at=at, changed_by=by, reason=reason,
    )  # fmt: skip


def _decide_open(command: OpenCase, state: Case) -> Sequence[DomainEvent]:
    if state.exists:
        raise DomainError("case already exists", code="already-exists")
    subject = _text(command.subject, "subject", 300)
    description = command.description.strip()
    if len(description) > 10000:
        raise DomainError("description is longer than 10000 characters", field="description")
    if command.priority not in PRIORITIES:
        raise DomainError(f"priority must be one of {PRIORITIES}", field="priority")
    common = {"case_id": command.case_id, "customer_id": command.customer_id}
    opened = CaseOpened(
        **common, kind=command.kind, channel=command.channel, subject=subject,
        description=description, category=command.category, priority=command.priority,
        tier=command.tier, product_id=command.product_id, order_id=command.order_id,
        contact_id=command.contact_id, team=command.team,
        required_skills=list(command.required_skills), opened_by=command.opened_by,
        opened_at=command.opened_at, sla_policy_id=command.sla_policy[0],
        sla_policy_version=command.sla_policy[1], calendar_id=command.calendar[0],
        calendar_version=command.calendar[1], email_message_id=command.email_message_id,
    )  # fmt: skip
    events: list[DomainEvent] = [opened]
    if command.kind == "complaint":
        events.append(ComplaintFiled(
            **common, subject=subject, description=description,
            channel=command.channel, severity=command.priority, category=command.category,
            product_id=command.product_id, order_id=command.order_id,
            contact_id=command.contact_id,
        ))  # fmt: skip
    events.append(CaseAssigned(
        **common, team=command.team, priority=command.priority, channel=command.channel,
        category=command.category, required_skills=list(command.required_skills),
    ))  # fmt: skip
    return events


def _decide_assign(command: AssignCase, state: Case) -> Sequence[DomainEvent]:
    _open_for_work(state, "assign it")
    team = command.team or state.team
    if team == state.team and command.assignee_id == state.assignee_id:
        return []
    events: list[DomainEvent] = [CaseAssigned(
        case_id=command.case_id, customer_id=state.customer_id, team=team,
        assignee_id=command.assignee_id, previous_team=state.team,
        previous_assignee_id=state.assignee_id, assigned_by=command.assigned_by,
        priority=state.priority, channel=state.channel, category=state.category,
    )]  # fmt: skip
    if state.status == "new" and command.assignee_id and command.at is not None:
        events.append(_status_change(state, command.case_id, "open", command.at,
                                     command.assigned_by))  # fmt: skip
    return events


def _decide_status(command: ChangeStatus, state: Case) -> Sequence[DomainEvent]:
    _open_for_work(state, "change its status")
    if command.to_status == state.status:
        return []
    if command.to_status not in WORKED_STATUSES:
        raise DomainError(
            "solve, reopen or close a case with its own command, not a status change",
            field="status", code="invalid-transition",
        )  # fmt: skip
    if command.to_status not in TRANSITIONS.get(state.status, frozenset()):
        raise DomainError(f"a {state.status} case cannot become {command.to_status}",
                          field="status", code="invalid-transition")  # fmt: skip
    reason = command.reason.strip() if command.reason else None
    return [_status_change(state, command.case_id, command.to_status, command.at,
                           command.changed_by, reason or None)]  # fmt: skip


def _decide_message(command: AddMessage, state: Case) -> Sequence[DomainEvent]:
    _open_for_work(state, "add a message")
    if command.kind not in ("agent_reply", "customer_reply", "internal_note"):
        raise DomainError("kind must be agent_reply, customer_reply or internal_note",
                          field="kind")  # fmt: skip
    body = _text(command.body, "body", 50000)
    events: list[DomainEvent] = [MessageAdded(
        case_id=command.case_id, customer_id=state.customer_id, message_id=command.message_id,
        kind=command.kind, author_id=command.author_id, channel=command.channel, body=body,  # type: ignore[arg-type]
        added_at=command.at, email_message_id=command.email_message_id,
    )]  # fmt: skip
    # The conversation moves the case: the customer answering a pending case (or a solved
    # one) hands it back to the agents; an agent's reply to a new case opens it.
    if command.kind == "customer_reply" and state.status == "pending":
        events.append(_status_change(state, command.case_id, "open", command.at, None,
                                     "the customer replied"))  # fmt: skip
    elif command.kind == "agent_reply" and state.status == "new":
        events.append(_status_change(state, command.case_id, "open", command.at,
                                     command.author_id))  # fmt: skip
    return events


def _decide_escalate(command: EscalateCase, state: Case) -> Sequence[DomainEvent]:
    _open_for_work(state, "escalate it")
    if state.status == "solved":
        raise DomainError("a solved case is reopened, not escalated", code="invalid-transition")
    reason = _text(command.reason, "reason", 2000)
    priority = command.priority or _raised(state.priority)
    if command.priority is not None and PRIORITIES.index(command.priority) < PRIORITIES.index(
        state.priority
    ):
        raise DomainError("an escalation never lowers the priority", field="priority")
    return [CaseEscalated(
        case_id=command.case_id, customer_id=state.customer_id,
        level=min(10, state.escalation_level + 1), team=command.team or state.team,
        priority=priority, reason=reason, escalated_by=command.escalated_by,
    )]  # fmt: skip


def _raised(priority: Priority) -> Priority:
    return PRIORITIES[min(len(PRIORITIES) - 1, PRIORITIES.index(priority) + 1)]


def _decide_solve(command: SolveCase, state: Case) -> Sequence[DomainEvent]:
    _open_for_work(state, "solve it")
    if state.status == "solved":
        return []
    return [
        CaseSolved(
            case_id=command.case_id, customer_id=state.customer_id,
            resolution=_text(command.resolution, "resolution", 10000), solved_at=command.at,
            solved_by=command.solved_by, team=state.team, via_problem_id=command.via_problem_id,
        ),
        _status_change(state, command.case_id, "solved", command.at, command.solved_by),
    ]  # fmt: skip


def _decide_reopen(command: ReopenCase, state: Case) -> Sequence[DomainEvent]:
    _open_for_work(state, "reopen it")
    if state.status != "solved":
        raise DomainError("only a solved case can be reopened", code="invalid-transition")
    assert state.solved_at is not None
    if command.at > state.solved_at + command.reopen_period:
        raise DomainError("the reopen period is over: open a new case", code="reopen-period-over")
    return [
        CaseReopened(case_id=command.case_id, customer_id=state.customer_id,
                     reason=_text(command.reason, "reason", 2000), reopened_at=command.at,
                     reopened_by=command.reopened_by),
        _status_change(state, command.case_id, "open", command.at, command.reopened_by),
    ]  # fmt: skip


def _decide_close(command: CloseCase, state: Case) -> Sequence[DomainEvent]:
    _existing(state)
    if state.status == "closed":
        return []
    if state.status != "solved":
        raise DomainError("solve the case before closing it", code="invalid-transition")
    automatic = command.reopen_period is not None
    if automatic:
        assert state.solved_at is not None and command.reopen_period is not None
        if command.at < state.solved_at + command.reopen_period:
            raise DomainError("the reopen period is not over", code="too-early")
    return [
        _status_change(state, command.case_id, "closed", command.at, command.closed_by),
        CaseClosed(case_id=command.case_id, customer_id=state.customer_id, closed_at=command.at,
                   closed_by=command.closed_by,
                   cause="reopen_period_over" if automatic else "closed_by_agent"),
    ]  # fmt: skip


def _decide_merge(command: MergeInto, state: Case) -> Sequence[DomainEvent]:
    _open_for_work(state, "merge it")
    if command.into_case_id == command.case_id:
        raise DomainError("a case cannot be merged into itself", field="into_case_id")
    return [
        CasesMerged(case_id=command.case_id, customer_id=state.customer_id,
                    into_case_id=command.into_case_id, merged_at=command.at,
                    merged_by=command.merged_by),
        _status_change(state, command.case_id, "closed", command.at, command.merged_by,
                       f"merged into case {command.into_case_id}"),
        CaseClosed(case_id=command.case_id, customer_id=state.customer_id, closed_at=command.at,
                   closed_by=command.merged_by, cause="merged"),
    ]  # fmt: skip


def _decide_link(command: LinkToProblem, state: Case) -> Sequence[DomainEvent]:
    _open_for_work(state, "link it to a problem")
    if state.problem_id == command.problem_id:
        return []
    return [CaseLinkedToProblem(case_id=command.case_id, customer_id=state.customer_id,
                                problem_id=command.problem_id, linked_by=command.linked_by,
                                linked_at=command.at)]  # fmt: skip


def _decide_sla(command: RecordSlaEvent, state: Case) -> Sequence[DomainEvent]:
    _existing(state)
    event = command.event
    kind = "warning" if isinstance(event, SlaWarning) else "breach"
    if (kind, event.metric, event.cycle) in state.sla_events or state.is_closed:
        return []  # exactly once: a second timer firing appends nothing
    return [event]


def decide(command: Command, state: Case) -> Sequence[DomainEvent]:
    match command:
        case OpenCase():
            return _decide_open(command, state)
        case AssignCase():
            return _decide_assign(command, state)
        case ChangeStatus():
            return _decide_status(command, state)
        case AddMessage():
            return _decide_message(command, state)
        case EscalateCase():
            return _decide_escalate(command, state)
        case SolveCase():
            return _decide_solve(command, state)
        case ReopenCase():
            return _decide_reopen(command, state)
        case CloseCase():
            return _decide_close(command, state)
        case MergeInto():
            return _decide_merge(command, state)
        case LinkToProblem():
            return _decide_link(command, state)
        case RecordSlaEvent():
            return _decide_sla(command, state)
    raise TypeError(f"unknown command {command!r}")


def _fact(state: Case, fact: SlaFact) -> Case:
    return replace(state, sla_history=(*state.sla_history, fact))


def evolve(state: Case, event: DomainEvent) -> Case:
    match event:
        case CaseOpened():
            return Case(
                exists=True, customer_id=event.customer_id, kind=event.kind,
                channel=event.channel, category=event.category, priority=event.priority,
                tier=event.tier, product_id=event.product_id, order_id=event.order_id,
                team=event.team, opened_at=event.opened_at,
                sla_policy=(event.sla_policy_id, event.sla_policy_version),
                calendar=(event.calendar_id, event.calendar_version),
                sla_history=(SlaFact(event.opened_at, "opened", "new"),),
            )  # fmt: skip
        case CaseAssigned():
            return replace(state, team=event.team, assignee_id=event.assignee_id)
        case CaseStatusChanged():
            kind = {"solved": "solved", "closed": "closed"}.get(event.to_status, "status")
            if state.status == "solved" and event.to_status == "open":
                kind = "reopened"
            moved = replace(state, status=event.to_status)
            if event.to_status == "solved":
                moved = replace(moved, solved_at=event.changed_at)
            return _fact(moved, SlaFact(event.changed_at, kind, event.to_status))
        case MessageAdded():
            counted = replace(state, messages=state.messages + 1)
            if event.kind == "agent_reply":
                return _fact(counted, SlaFact(event.added_at, "agent_reply"))
            if event.kind == "customer_reply":
                return _fact(counted, SlaFact(event.added_at, "customer_message"))
            return counted
        case CaseEscalated():
            return replace(state, escalation_level=event.level, team=event.team,
                           priority=event.priority)  # fmt: skip
        case CasesMerged():
            return replace(state, merged_into=event.into_case_id)
        case CaseLinkedToProblem():
            return replace(state, problem_id=event.problem_id)
        case SlaWarning():
            return replace(state, sla_events=state.sla_events | {_sla_key("warning", event)})
        case SlaBreached():
            return replace(state, sla_events=state.sla_events | {_sla_key("breach", event)})
    return state


def _sla_key(kind: str, event: SlaWarning | SlaBreached) -> tuple[str, str, int]:
    metric: SlaMetric = event.metric
    return (kind, metric, event.cycle)


decider = Decider(decide=decide, evolve=evolve, initial_state=Case())


def stream_id(case_id: UUID) -> str:
    return f"case-{case_id}"
