"""The customer 360's support part: cases, complaints, SLA states and the last rating.

"Open" means neither solved nor closed: a solved case leaves ``open_cases`` (the
customer's problem is answered) and comes back if it is reopened; a closed one (closed
after its reopen period, by an agent, or merged into another case) never comes back.

A case's events share the support topic and the customer's key, so they usually arrive
in order, but not always: a call centre's ``ComplaintFiled`` comes on the external topic,
and a merge of customers joins two partial views of one case (events before the merge
on the merged profile, after it on both). So each value of a ``CaseView`` is a register
keyed by the time the event states (the envelope's time where the event states none):
the latest status, priority and team, the earliest opening and closing, the worst SLA
state. Registers join by the same rule, in any order, and give the same record.
"""

from __future__ import annotations

from datetime import datetime

from contracts.events.support import (
    CaseAssigned,
    CaseClosed,
    CaseEscalated,
    CaseOpened,
    CaseReopened,
    CasesMerged,
    CaseSolved,
    CaseStatus,
    CaseStatusChanged,
    ComplaintFiled,
    Priority,
)
from contracts.events.support_quality import SatisfactionRated, SlaBreached, SlaWarning
from contracts.registry import DomainEvent
from projections.customer360.model import CaseView, CsatView, Profile, SlaCounts, SlaState

CASE_EVENTS: tuple[type[DomainEvent], ...] = (
    ComplaintFiled, CaseOpened, CaseAssigned, CaseStatusChanged, CaseEscalated, CaseSolved,
    CaseReopened, CaseClosed, CasesMerged, SlaWarning, SlaBreached, SatisfactionRated,
)  # fmt: skip
"""The events this module folds: what a merged customer's survivor also receives."""

_SLA_RANK: dict[str, int] = {"on_track": 0, "at_risk": 1, "breached": 2}
_PRIORITY_RANK: dict[str, int] = {"low": 0, "normal": 1, "high": 2, "critical": 3}
# Ranks of status changes at the same instant: working statuses, then solving, then a
# reopen (only a solved case can be reopened, so it came after the solving).
_WORKED, _SOLVED, _REOPENED = 1, 2, 3


def apply_case_event(data: dict[str, object], p: Profile, event: DomainEvent, at: datetime) -> None:
    """Fold a support event into ``data`` (the profile ``p`` being evolved); ``at`` is
    when it occurred. Other events leave ``data`` as it is."""
    if isinstance(event, SatisfactionRated):
        rating = CsatView(
            score=event.score,
            scale_high=event.scale_high,
            satisfied=event.satisfied,
            rated_at=event.rated_at,
            case_id=str(event.case_id),
        )
        data["last_csat"] = latest_csat(p.last_csat, rating)
        return
    if not isinstance(event, CASE_EVENTS):
        return
    key = str(getattr(event, "case_id"))  # noqa: B009 - every case event has one
    if isinstance(event, ComplaintFiled):
        data["last_complaint_at"] = _max(p.last_complaint_at, at)
    view = _evolve_case(p.cases.get(key, CaseView()), event, at)
    data["cases"] = {**p.cases, key: view}


def _evolve_case(c: CaseView, event: DomainEvent, at: datetime) -> CaseView:
    match event:
        case ComplaintFiled():
            kind = c.kind if c.opened_at is not None else "complaint"
            return _prioritised(c.model_copy(update={"kind": kind}), event.severity, at)
        case CaseOpened():
            opened_at = _min(c.opened_at, event.opened_at)
            c = c.model_copy(update={"kind": event.kind, "opened_at": opened_at})
            c = _status(c, "new", event.opened_at, 0)
            return _staffed(_prioritised(c, event.priority, event.opened_at), event.team, at)
        case CaseAssigned():
            return _staffed(_prioritised(c, event.priority, at), event.team, at)
        case CaseEscalated():
            return _staffed(_prioritised(c, event.priority, at), event.team, at)
        case CaseStatusChanged():
            if event.to_status == "closed":
                return _closed(c, event.changed_at)
            rank = _WORKED
            if event.from_status == "solved":
                rank = _REOPENED
            elif event.to_status == "solved":
                rank = _SOLVED
            return _status(c, event.to_status, event.changed_at, rank)
        case CaseSolved():
            return _status(c, "solved", event.solved_at, _SOLVED)
        case CaseReopened():
            return _status(c, "open", event.reopened_at, _REOPENED)
        case CaseClosed():
            return _closed(c, event.closed_at)
        case CasesMerged():
            c = c.model_copy(update={"merged_into": str(event.into_case_id)})
            return _closed(c, event.merged_at)
        case SlaWarning():
            return _sla(c, "at_risk")
        case SlaBreached():
            return _sla(c, "breached")
    return c


def join_cases(data: dict[str, object], survivor: Profile, merged: Profile) -> None:
    """Carry a merged customer's cases, complaints and rating over to its survivor."""
    cases = dict(survivor.cases)
    for key, view in merged.cases.items():
        cases[key] = join_case(cases[key], view) if key in cases else view
    data["cases"] = cases
    data["last_complaint_at"] = _max(survivor.last_complaint_at, merged.last_complaint_at)
    if merged.last_csat is not None:
        data["last_csat"] = latest_csat(survivor.last_csat, merged.last_csat)


def join_case(a: CaseView, b: CaseView) -> CaseView:
    """One case's record from two partial ones: the same as folding all their events."""
    kind = a.kind if a.opened_at is not None else b.kind if b.opened_at is not None else None
    c = a.model_copy(
        update={
            "kind": kind or a.kind or b.kind,
            "opened_at": _min(a.opened_at, b.opened_at),
            "merged_into": a.merged_into or b.merged_into,
        }
    )
    if b.status_at is not None:
        c = _status(c, b.status, b.status_at, b.status_rank)
    if b.closed_at is not None:
        c = _closed(c, b.closed_at)
    if b.priority is not None and b.priority_at is not None:
        c = _prioritised(c, b.priority, b.priority_at)
    if b.team is not None and b.team_at is not None:
        c = _staffed(c, b.team, b.team_at)
    return _sla(c, b.sla_state)


def derive_cases(data: dict[str, object]) -> None:
    """``open_cases``, ``open_complaints`` and ``sla`` from ``data["cases"]``."""
    cases = data["cases"]
    assert isinstance(cases, dict)
    open_ = {k: v for k, v in cases.items() if isinstance(v, CaseView) and is_open(v)}
    data["open_cases"] = sorted(open_)
    data["open_complaints"] = sum(1 for v in open_.values() if v.kind == "complaint")
    data["sla"] = SlaCounts(
        breached=sum(1 for v in open_.values() if v.sla_state == "breached"),
        at_risk=sum(1 for v in open_.values() if v.sla_state == "at_risk"),
    )


def is_open(case: CaseView) -> bool:
    return case.closed_at is None and case.status not in ("solved", "closed")


def latest_csat(a: CsatView | None, b: CsatView) -> CsatView:
    """The later rating (ties by case, then score: never by reading order)."""
    if a is None:
        return b
    return max(a, b, key=lambda r: (r.rated_at, r.case_id, r.score, r.scale_high, r.satisfied))


# ------------------------------------------------------------------------- registers


def _status(c: CaseView, status: CaseStatus, at: datetime, rank: int) -> CaseView:
    if c.status_at is not None and (at, rank, status) <= (c.status_at, c.status_rank, c.status):
        return c
    changed = c.model_copy(update={"status": status, "status_at": at, "status_rank": rank})
    return _with_closing(changed)


def _closed(c: CaseView, at: datetime) -> CaseView:
    return _with_closing(c.model_copy(update={"closed_at": _min(c.closed_at, at)}))


def _with_closing(c: CaseView) -> CaseView:
    # A closed case reads closed whatever status change is the latest known.
    return c.model_copy(update={"status": "closed"}) if c.closed_at is not None else c


def _prioritised(c: CaseView, priority: Priority, at: datetime) -> CaseView:
    if c.priority is not None and c.priority_at is not None:  # noqa: SIM102 - narrows types
        if (at, _PRIORITY_RANK[priority]) <= (c.priority_at, _PRIORITY_RANK[c.priority]):
            return c
    return c.model_copy(update={"priority": priority, "priority_at": at})


def _staffed(c: CaseView, team: str, at: datetime) -> CaseView:
    if c.team is not None and c.team_at is not None and (at, team) <= (c.team_at, c.team):
        return c
    return c.model_copy(update={"team": team, "team_at": at})


def _sla(c: CaseView, state: SlaState) -> CaseView:
    if _SLA_RANK[state] <= _SLA_RANK[c.sla_state]:
        return c
    return c.model_copy(update={"sla_state": state})


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)
