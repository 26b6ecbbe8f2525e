"""Recurring failures: the thresholds, and the once-per-group rule as a decider.

Each detected group has its own stream (``recurring-failure-<group id>``): the decider
emits ``RecurringFailureDetected`` only on an empty stream, so a repeated scan, a retried
command or two workers racing append it once (the second gets a version conflict or
nothing to append)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

from contracts.events.support_quality import RecurringFailureDetected
from contracts.registry import DomainEvent
from services.platform.decider import Decider


@dataclass(frozen=True)
class RecurringRules:
    """Product: ``group_size`` similar cases (same category and product, estimated
    trigram similarity of at least ``min_similarity``) within ``window_days``. Human: a
    team's or agent's reopen rate of at least ``max_reopen_rate``, or a CSAT score below
    ``min_csat``, over ``human_window_days`` with at least ``min_sample`` cases."""

    group_size: int = 5
    window_days: int = 7
    min_similarity: float = 0.3
    max_reopen_rate: float = 0.3
    min_csat: float = 0.6
    min_sample: int = 10
    human_window_days: int = 30


@dataclass(frozen=True)
class DetectFailure:
    group_id: str
    kind: Literal["product", "human"]
    indicator: Literal["similar_cases", "reopen_rate", "low_satisfaction"]
    value: float
    threshold: float
    window_days: int
    method: str
    detected_at: datetime
    case_ids: tuple[UUID, ...] = ()
    category: str | None = None
    product_id: str | None = None
    team: str | None = None
    agent_id: str | None = None
    proposed_problem_id: UUID | None = None


@dataclass(frozen=True)
class Detected:
    exists: bool = False


def decide(command: DetectFailure, state: Detected) -> Sequence[DomainEvent]:
    if state.exists:
        return []
    return [RecurringFailureDetected(
        group_id=command.group_id, kind=command.kind, indicator=command.indicator,
        category=command.category, product_id=command.product_id, team=command.team,
        agent_id=command.agent_id, case_ids=list(command.case_ids), value=command.value,
        threshold=command.threshold, window_days=command.window_days, method=command.method,
        proposed_problem_id=command.proposed_problem_id, detected_at=command.detected_at,
    )]  # fmt: skip


def evolve(state: Detected, event: DomainEvent) -> Detected:
    return Detected(exists=True) if isinstance(event, RecurringFailureDetected) else state


decider = Decider(decide=decide, evolve=evolve, initial_state=Detected())


def stream_id(group_id: str) -> str:
    return f"recurring-failure-{group_id}"
