"""The opportunity aggregate: a deal moving through the sales pipeline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from contracts.events.sales import DealStageChanged, OpportunityOpened, PipelineStage
from contracts.money import Money
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError

CLOSED_STAGES: frozenset[str] = frozenset({"won", "lost"})


@dataclass(frozen=True)
class OpenOpportunity:
    opportunity_id: UUID
    customer_id: str
    title: str
    amount: Money
    owner_id: str | None = None
    expected_close: date | None = None


@dataclass(frozen=True)
class ChangeDealStage:
    opportunity_id: UUID
    to_stage: PipelineStage
    reason: str | None = None


Command = OpenOpportunity | ChangeDealStage


@dataclass(frozen=True)
class Opportunity:
    exists: bool = False
    customer_id: str = ""
    stage: PipelineStage = "qualification"


def decide(command: Command, state: Opportunity) -> Sequence[DomainEvent]:
    match command:
        case OpenOpportunity():
            if state.exists:
                raise DomainError("opportunity already exists", code="already-exists")
            if command.amount.amount < 0:
                raise DomainError("amount must not be negative", field="amount.amount")
            return [
                OpportunityOpened(
                    opportunity_id=command.opportunity_id,
                    customer_id=command.customer_id,
                    title=command.title,
                    amount=command.amount,
                    owner_id=command.owner_id,
                    expected_close=command.expected_close,
                )
            ]
        case ChangeDealStage():
            if not state.exists:
                raise DomainError("no such opportunity", code="not-found")
            if state.stage in CLOSED_STAGES:
                raise DomainError(
                    f"opportunity is {state.stage}; reopen it before changing its stage",
                    field="to_stage",
                )
            if command.to_stage == state.stage:
                return []
            if command.to_stage == "lost" and not (command.reason or "").strip():
                raise DomainError("a lost deal needs a reason", field="reason")
            return [
                DealStageChanged(
                    opportunity_id=command.opportunity_id,
                    customer_id=state.customer_id,
                    from_stage=state.stage,
                    to_stage=command.to_stage,
                    reason=command.reason,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Opportunity, event: DomainEvent) -> Opportunity:
    match event:
        case OpportunityOpened():
            return Opportunity(exists=True, customer_id=event.customer_id, stage=event.stage)
        case DealStageChanged():
            return replace(state, stage=event.to_stage)
    return state


opportunity = Decider(decide=decide, evolve=evolve, initial_state=Opportunity())


def stream_id(opportunity_id: UUID) -> str:
    return f"opportunity-{opportunity_id}"
