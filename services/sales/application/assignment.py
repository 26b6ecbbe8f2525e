"""Assignment rules: territory by country/state, then round-robin among the team's sellers.

The round-robin cursor lives in PostgreSQL and moves in the command's own transaction, so
concurrent assignments never hand two deals to the same seller by accident and a rolled
back command does not skip anyone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts.events.sales import AssignmentRule
from services.platform.db import Connection
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

    async def choose(self, conn: Connection, country: str | None, state: str | None) -> Assignment:
        team, by_territory = self.team_for(country, state)
        return await self._next_in(conn, team, "territory" if by_territory else "round_robin")

    async def choose_in_team(self, conn: Connection, team_name: str) -> Assignment:
        """The team's next seller in turn (a deal a sales manager opens for the team)."""
        team = next((t for t in self.teams if t.name == team_name), None)
        if team is None:
            raise ValueError(f"no team {team_name!r}")
        return await self._next_in(conn, team, "round_robin")

    async def _next_in(self, conn: Connection, team: Team, rule: AssignmentRule) -> Assignment:
        turn = await conn.fetchval(
            "INSERT INTO assignment_cursors (team, turns) VALUES ($1, 1) "
            "ON CONFLICT (team) DO UPDATE SET turns = assignment_cursors.turns + 1 "
            "RETURNING turns - 1",
            team.name,
        )
        seller = team.sellers[int(turn) % len(team.sellers)]
        return Assignment(seller, rule, team.name)
