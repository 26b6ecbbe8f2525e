"""Sellers read their customers' cases, and no one else's.

A seller's customers are those with a deal the seller owns or one of their team's; a
sales manager's, those with a deal of their team (the team rule of deals, applied to
the customers the deals are for). Support learns each deal's customer, owner and team
from the sales events (``learn_deal``), so the rule needs nothing of the sales service
at read time. Other roles are not scoped here (a customer's own scope is
``require_own``'s).
"""

from __future__ import annotations

import asyncpg

from contracts.events.sales import OpportunityAssigned, OpportunityOpened
from services.platform.db import Connection
from services.support.application.runtime import Actor

SELLER = "seller"
SALES_MANAGER = "sales_manager"
SCOPED_ROLES = frozenset({SELLER, SALES_MANAGER})


def scoped(who: Actor) -> bool:
    return who.role in SCOPED_ROLES


def _owners(who: Actor, args: list[object]) -> str:
    """The deals ``who`` may follow, as a SQL condition on ``customer_deals``; its values
    are appended to ``args`` (positional parameters)."""
    conditions = []
    if who.role == SELLER and who.actor_id:
        args.append(who.actor_id)
        conditions.append(f"owner_id = ${len(args)}")
    if who.team:
        args.append(who.team)
        conditions.append(f"owner_team = ${len(args)}")
    return " OR ".join(conditions) or "false"  # no id and no team: no customers


def customers_clause(who: Actor, args: list[object]) -> str:
    """A SQL condition on a ``customer_id`` column keeping the customers ``who`` reads."""
    return f"customer_id IN (SELECT customer_id FROM customer_deals WHERE {_owners(who, args)})"


async def may_read(conn: Connection | asyncpg.Pool, who: Actor, customer_id: str) -> bool:
    if not scoped(who):
        return True
    args: list[object] = [customer_id]
    condition = _owners(who, args)
    found = await conn.fetchval("SELECT EXISTS (SELECT 1 FROM customer_deals "
                                f"WHERE customer_id = $1 AND ({condition}))", *args)  # fmt: skip
    return bool(found)


async def learn_deal(conn: Connection, event: OpportunityOpened | OpportunityAssigned) -> None:
    """A deal opened or reassigned: its customer's cases follow its owner and team."""
    if isinstance(event, OpportunityOpened):
        await conn.execute(
            "INSERT INTO customer_deals (opportunity_id, customer_id, owner_id, owner_team) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (opportunity_id) DO NOTHING",
            event.opportunity_id, event.customer_id, event.owner_id, event.owner_team,
        )  # fmt: skip
        return
    await conn.execute(
        "INSERT INTO customer_deals (opportunity_id, customer_id, owner_id, owner_team) "
        "VALUES ($1, $2, $3, $4) ON CONFLICT (opportunity_id) DO UPDATE "
        "SET owner_id = EXCLUDED.owner_id, "
        "owner_team = coalesce(EXCLUDED.owner_team, customer_deals.owner_team)",
        event.opportunity_id, event.customer_id, event.owner_id, event.team,
    )  # fmt: skip
