"""A SERVQUAL questionnaire as recorded: one stream per answered form, written once.

The answers are validated by ``servqual.ServqualResponse`` (all 22 items twice, 1..7,
importance points summing to 100) before anything is recorded, so every recorded form
can be scored later without a surprise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from contracts.events.support_quality import Locale, ServqualResponseRecorded
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.support.domain.servqual import Dimension, ServqualResponse


@dataclass(frozen=True)
class RecordServqual:
    response_id: UUID
    customer_id: str
    expectations: Sequence[int]
    """Item 1 first: position i answers item i + 1."""
    perceptions: Sequence[int]
    at: datetime
    weights: Mapping[str, int] | None = None
    case_id: UUID | None = None
    team: str = ""
    locale: Locale = "pt-BR"


@dataclass(frozen=True)
class Form:
    exists: bool = False


def _by_item(answers: Sequence[int]) -> dict[int, int]:
    return {number: answer for number, answer in enumerate(answers, start=1)}


def _field_of(message: str) -> str:
    # The domain's messages name the item; the field says which list it is in.
    if "importance" in message:
        return "weights"
    return "perceptions" if "perception" in message else "expectations"


def to_response(expectations: Sequence[int], perceptions: Sequence[int],
                weights: Mapping[str, int] | None) -> ServqualResponse:  # fmt: skip
    """The domain's response of a form's lists; DomainError naming the item if invalid."""
    points = None
    if weights is not None:
        unknown = sorted(set(weights) - {d.value for d in Dimension})
        if unknown:
            raise DomainError(f"importance points name unknown dimensions: {unknown}",
                              field="weights")  # fmt: skip
        points = {Dimension(name): value for name, value in weights.items()}
    try:
        return ServqualResponse(_by_item(expectations), _by_item(perceptions), points)
    except ValueError as error:
        raise DomainError(str(error), field=_field_of(str(error))) from error


def decide(command: RecordServqual, state: Form) -> Sequence[DomainEvent]:
    match command:
        case RecordServqual():
            if state.exists:
                raise DomainError("this response was already recorded", code="already-exists")
            to_response(command.expectations, command.perceptions, command.weights)
            return [ServqualResponseRecorded(
                response_id=command.response_id, customer_id=command.customer_id,
                case_id=command.case_id, team=command.team,
                expectations=list(command.expectations), perceptions=list(command.perceptions),
                weights=dict(command.weights) if command.weights is not None else None,
                locale=command.locale, recorded_at=command.at,
            )]  # fmt: skip
    raise TypeError(f"unknown command {command!r}")


def evolve(state: Form, event: DomainEvent) -> Form:
    match event:
        case ServqualResponseRecorded():
            return Form(exists=True)
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Form())


def stream_id(response_id: UUID) -> str:
    return f"servqual-{response_id}"
