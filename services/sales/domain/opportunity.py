"""The opportunity aggregate: a deal moving through the sales pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from uuid import UUID

from contracts.events.sales import (
    AssignmentRule,
    DealStageChanged,
    LostReason,
    OpportunityAssigned,
    OpportunityLost,
    OpportunityOpened,
    OpportunityReopened,
    OpportunityWon,
    PipelineStage,
)
from contracts.money import Money
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.sales.domain.pipeline import CLOSED, DEFAULT_PIPELINE, Pipeline

CLOSED_STAGES = CLOSED


@dataclass(frozen=True)
class Assignment:
    owner_id: str
    rule: AssignmentRule
    team: str | None = None


@dataclass(frozen=True)
class OpenOpportunity:
    opportunity_id: UUID
    customer_id: str
    title: str
    amount: Money
    owner_id: str | None = None
    expected_close: date | None = None
    lead_id: UUID | None = None
    assignment: Assignment | None = None
    """Where no owner is given, the assignment rules' choice (application layer)."""
    pipeline: Pipeline = field(default=DEFAULT_PIPELINE, compare=False)
    owner_team: str | None = None
    """The team of ``owner_id`` (application layer, from the assignment rules)."""


@dataclass(frozen=True)
class ChangeDealStage:
    opportunity_id: UUID
    to_stage: PipelineStage
    reason: str | None = None
    lost_reason: LostReason | None = None
    competitor: str | None = None
    pipeline: Pipeline = field(default=DEFAULT_PIPELINE, compare=False)


@dataclass(frozen=True)
class ReopenOpportunity:
    opportunity_id: UUID
    to_stage: PipelineStage
    reason: str | None = None
    pipeline: Pipeline = field(default=DEFAULT_PIPELINE, compare=False)


@dataclass(frozen=True)
class AssignOpportunity:
    opportunity_id: UUID
    owner_id: str
    rule: AssignmentRule = "manual"
    team: str | None = None


Command = OpenOpportunity | ChangeDealStage | ReopenOpportunity | AssignOpportunity


@dataclass(frozen=True)
class Opportunity:
    exists: bool = False
    customer_id: str = ""
    title: str = ""
    stage: PipelineStage = "qualification"
    amount: Money | None = None
    owner_id: str | None = None


def decide(command: Command, state: Opportunity) -> Sequence[DomainEvent]:
    if isinstance(command, OpenOpportunity):
        return _open(command, state)
    if not state.exists:
        raise DomainError("no such opportunity", code="not-found")
    match command:
        case ChangeDealStage():
            return _change_stage(command, state)
        case ReopenOpportunity():
            if state.stage not in CLOSED:
                raise DomainError("only a won or lost deal can be reopened", code="not-closed")
            if command.to_stage in CLOSED or not command.pipeline.has(command.to_stage):
                raise DomainError(
                    f"cannot reopen into {command.to_stage!r}: pick an open pipeline stage",
                    field="to_stage",
                )
            return [
                OpportunityReopened(
                    opportunity_id=command.opportunity_id,
                    customer_id=state.customer_id,
                    to_stage=command.to_stage,
                    reason=command.reason,
                )
            ]
        case AssignOpportunity():
            if not command.owner_id.strip():
                raise DomainError("an owner is required", field="owner_id")
            if command.owner_id == state.owner_id:
                return []
            return [
                OpportunityAssigned(
                    opportunity_id=command.opportunity_id,
                    customer_id=state.customer_id,
                    owner_id=command.owner_id,
                    previous_owner_id=state.owner_id,
                    rule=command.rule,
                    team=command.team,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def _open(command: OpenOpportunity, state: Opportunity) -> Sequence[DomainEvent]:
    if state.exists:
        raise DomainError("opportunity already exists", code="already-exists")
    if command.amount.amount < 0:
        raise DomainError("amount must not be negative", field="amount.amount")
    if not command.title.strip():
        raise DomainError("a title is required", field="title")
    if not command.customer_id.strip():
        raise DomainError("a customer is required", field="customer_id")
    stage = command.pipeline.first_stage
    events: list[DomainEvent] = [
        OpportunityOpened(
            opportunity_id=command.opportunity_id,
            customer_id=command.customer_id,
            title=command.title,
            amount=command.amount,
            stage=stage,
            owner_id=command.owner_id,
            expected_close=command.expected_close,
            lead_id=command.lead_id,
            probability=command.pipeline.probability(stage),
            owner_team=command.owner_team if command.owner_id is not None else None,
        )
    ]
    if command.owner_id is None and command.assignment is not None:
        events.append(
            OpportunityAssigned(
                opportunity_id=command.opportunity_id,
                customer_id=command.customer_id,
                owner_id=command.assignment.owner_id,
                rule=command.assignment.rule,
                team=command.assignment.team,
            )
        )
    return events


def _change_stage(command: ChangeDealStage, state: Opportunity) -> Sequence[DomainEvent]:
    if not command.pipeline.has(command.to_stage):
        raise DomainError(f"stage {command.to_stage!r} is not in this pipeline", field="to_stage")
    if state.stage in CLOSED:
        raise DomainError(
            f"opportunity is {state.stage}; reopen it before changing its stage",
            field="to_stage",
            code="closed",
        )
    if command.to_stage == state.stage:
        return []
    changed = DealStageChanged(
        opportunity_id=command.opportunity_id,
        customer_id=state.customer_id,
        from_stage=state.stage,
        to_stage=command.to_stage,
        reason=command.reason,
        probability=command.pipeline.probability(command.to_stage),
    )
    if command.to_stage == "lost":
        if command.lost_reason is None:
            raise DomainError("a lost deal needs a reason from the catalogue", field="lost_reason")
        if not (command.reason or "").strip():
            raise DomainError("a lost deal needs a reason", field="reason")
        return [
            changed,
            OpportunityLost(
                opportunity_id=command.opportunity_id,
                customer_id=state.customer_id,
                reason=command.lost_reason,
                details=(command.reason or "").strip(),
                competitor=command.competitor,
            ),
        ]
    if command.to_stage == "won":
        assert state.amount is not None
        return [
            changed,
            OpportunityWon(
                opportunity_id=command.opportunity_id,
                customer_id=state.customer_id,
                amount=state.amount,
            ),
        ]
    return [changed]


def evolve(state: Opportunity, event: DomainEvent) -> Opportunity:
    match event:
        case OpportunityOpened():
            return Opportunity(
                exists=True,
                customer_id=event.customer_id,
                title=event.title,
                stage=event.stage,
                amount=event.amount,
                owner_id=event.owner_id,
            )
        case DealStageChanged():
            return replace(state, stage=event.to_stage)
        case OpportunityReopened():
            return replace(state, stage=event.to_stage)
        case OpportunityAssigned():
            return replace(state, owner_id=event.owner_id)
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Opportunity())


def stream_id(opportunity_id: UUID) -> str:
    return f"opportunity-{opportunity_id}"
