"""Aggregates as deciders: ``decide(command, state) -> events``, ``evolve(state, event)``.

Both are pure. A handler only loads (folds the stream with ``evolve``), decides, appends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from contracts.registry import DomainEvent

S = TypeVar("S")
C = TypeVar("C")


class DomainError(Exception):
    """A command that breaks a business rule; the caller gets a 4xx, nothing is appended."""

    def __init__(self, message: str, *, field: str | None = None, code: str = "rule-violated"):
        super().__init__(message)
        self.field = field
        self.code = code


@dataclass(frozen=True)
class Decider(Generic[C, S]):
    decide: Callable[[C, S], Sequence[DomainEvent]]
    evolve: Callable[[S, DomainEvent], S]
    initial_state: S

    def fold(self, events: Iterable[DomainEvent]) -> S:
        state = self.initial_state
        for event in events:
            state = self.evolve(state, event)
        return state
