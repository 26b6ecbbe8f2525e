"""The right team for a new case, by rules over its category, product and the customer's
tier (``config/teams.json``): the first rule whose conditions all match wins.

Only the team: the order in which a team's queue is served and the agent who takes each
case are the routing context's, which reads ``CaseOpened`` / ``CaseAssigned``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class TeamRule:
    team: str
    categories: frozenset[str] = frozenset()
    products: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    skills: tuple[str, ...] = ()
    """Skills the routing context should require of the agent."""

    def matches(self, category: str, product_id: str | None, tier: str) -> bool:
        return (
            (not self.categories or category in self.categories)
            and (not self.products or (product_id or "") in self.products)
            and (not self.tiers or tier in self.tiers)
        )


@dataclass(frozen=True)
class TeamRules:
    rules: tuple[TeamRule, ...]
    tier_thresholds: tuple[tuple[str, Decimal], ...]
    """(tier, lifetime spend from which a customer has it), highest first."""
    reopen_period_days: int = 7

    def choose(self, category: str, product_id: str | None, tier: str) -> TeamRule:
        for rule in self.rules:
            if rule.matches(category, product_id, tier):
                return rule
        raise LookupError("no team rule matches: the last rule must match every case")

    def tier_for(self, spent: Decimal) -> str:
        for tier, threshold in self.tier_thresholds:
            if spent >= threshold:
                return tier
        return "standard"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TeamRules:
        rules = tuple(_rule(r, n) for n, r in enumerate(data.get("rules", ())))
        if not rules or any((r.categories or r.products or r.tiers) for r in rules[-1:]):
            raise ValueError("rules: the last rule must match every case (no conditions)")
        tiers = sorted(((str(t), Decimal(str(v))) for t, v in data.get("tiers", {}).items()),
                       key=lambda item: item[1], reverse=True)  # fmt: skip
        return cls(rules, tuple(tiers), int(data.get("reopen_period_days", 7)))

    @classmethod
    def load(cls, path: Path) -> TeamRules:
        return cls.from_dict(json.loads(path.read_text()))


def _rule(data: Mapping[str, Any], n: int) -> TeamRule:
    team = data.get("team")
    if not isinstance(team, str) or not team.strip():
        raise ValueError(f"rules[{n}].team must be a team name")

    def names(key: str) -> Sequence[str]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError(f"rules[{n}].{key} must be a list of names")
        return value

    return TeamRule(team, frozenset(names("categories")), frozenset(names("products")),
                    frozenset(names("tiers")), tuple(names("skills")))  # fmt: skip
