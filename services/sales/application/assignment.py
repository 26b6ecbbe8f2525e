"""Assignment rules: territory by country/state, then round-robin among the team's sellers.

The round-robin cursor is one counter per team in the sales records (``next_turn``, an
atomic increment), so concurrent assignments never take the same turn. Callers move it on
a short connection of their own, before the command's transaction (``deals.choose_owner``,
``leads.prepare_capture``): a command that then fails has still used its turn, so a
seller's turn may be skipped, which is harmless.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.events.sales import AssignmentRule
from services.sales.application.ports import SalesRecords
from services.sales.domain.opportunity import Assignment

DEFAULT_FILE = Path(__file__).resolve().parents[1] / "config" / "assignment.json"


@dataclass(frozen=True)
class Territory:
    country: str
    states: frozenset[str]

    def covers(self, country: str | None, state: str | None) -> bool:
        if country is None or country.upper() != self.country:
            return False
        return not self.states or (state is not None and state.upper() in self.states)


def _territory(raw: dict[str, Any]) -> Territory:
    return Territory(raw["country"].upper(), frozenset(s.upper() for s in raw.get("states", [])))


@dataclass(frozen=True)
class Team:
    name: str
    sellers: tuple[str, ...]
    territories: tuple[Territory, ...]


@dataclass(frozen=True)
class AssignmentRules:
    teams: tuple[Team, ...]
    default_team: str

    @classmethod
    def load(cls, path: Path | None = None) -> AssignmentRules:
        raw = json.loads((path or DEFAULT_FILE).read_text())
        teams = tuple(
            Team(
                t["name"],
                tuple(t["sellers"]),
                tuple(
                    Territory(
                        x["country"].upper(), frozenset(s.upper() for s in x.get("states", []))
                    )
                    for x in t.get("territories", [])
                ),
            )
            for t in raw["teams"]
        )
        if not all(t.sellers for t in teams):
            raise ValueError("every team needs at least one seller")
        if raw["default_team"] not in {t.name for t in teams}:
            raise ValueError("default_team must be one of the teams")
        return cls(teams, raw["default_team"])

    def team_of(self, seller: str | None) -> str | None:
        """The team a seller sells in (None for someone in no team)."""
        return next((t.name for t in self.teams if seller in t.sellers), None)

    def team_for(self, country: str | None, state: str | None) -> tuple[Team, bool]:
        """The team for a territory, and whether a territory (not the default) matched."""
        for team in self.teams:
            if any(t.covers(country, state) for t in team.territories):
                return team, True
        return next(t for t in self.teams if t.name == self.default_team), False

    async def choose(
        self, records: SalesRecords, conn: Any, country: str | None, state: str | None
    ) -> Assignment:
        team, by_territory = self.team_for(country, state)
        rule: AssignmentRule = "territory" if by_territory else "round_robin"
        return await self._next_in(records, conn, team, rule)

    async def choose_in_team(self, records: SalesRecords, conn: Any, team_name: str) -> Assignment:
        """The team's next seller in turn (a deal a sales manager opens for the team)."""
        team = next((t for t in self.teams if t.name == team_name), None)
        if team is None:
            raise ValueError(f"no team {team_name!r}")
        return await self._next_in(records, conn, team, "round_robin")

    async def _next_in(
        self, records: SalesRecords, conn: Any, team: Team, rule: AssignmentRule
    ) -> Assignment:
        turn = await records.next_turn(conn, team.name)
        seller = team.sellers[turn % len(team.sellers)]
        return Assignment(seller, rule, team.name)
