"""Given/when/then for deciders: given past events, when a command, then the new events
(or the business rule it breaks). Pure: no store, no broker.

    given = Spec(opportunity.decider).given
    given(opened()).when(ChangeDealStage(...)).then(moved(...))
    given().when(OpenOpportunity(...)).then_raises(field="amount.amount")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import pytest

from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError

C = TypeVar("C")
S = TypeVar("S")


@dataclass(frozen=True)
class When(Generic[C, S]):
    decider: Decider[C, S]
    history: tuple[DomainEvent, ...]
    command: C

    def _decide(self) -> Sequence[DomainEvent]:
        return self.decider.decide(self.command, self.decider.fold(self.history))

    def then(self, *expected: DomainEvent) -> None:
        assert list(self._decide()) == list(expected)

    def then_raises(
        self,
        error: type[DomainError] = DomainError,
        *,
        field: str | None = None,
        code: str | None = None,
    ) -> DomainError:
        """The command is refused; ``field`` must match exactly (None: no field named)."""
        with pytest.raises(error) as caught:
            self._decide()
        assert caught.value.field == field
        if code is not None:
            assert caught.value.code == code
        return caught.value


@dataclass(frozen=True)
class Given(Generic[C, S]):
    decider: Decider[C, S]
    history: tuple[DomainEvent, ...]

    def when(self, command: C) -> When[C, S]:
        return When(self.decider, self.history, command)


@dataclass(frozen=True)
class Spec(Generic[C, S]):
    decider: Decider[C, S]

    def given(self, *events: DomainEvent) -> Given[C, S]:
        return Given(self.decider, events)
