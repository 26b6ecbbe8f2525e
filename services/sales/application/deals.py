"""Opportunities: opening with the assignment rules, and the customer's territory."""

from __future__ import annotations

from dataclasses import replace
from typing import Any
from uuid import UUID

import asyncpg
import orjson

from contracts.events.sales import Address
from services.platform.commands import UnitOfWork
from services.platform.db import Connection
from services.sales.application.assignment import AssignmentRules
from services.sales.domain import opportunity as opp


async def registration(
    conn: Connection | asyncpg.Pool, customer_id: str, kinds: tuple[str, ...]
) -> dict[str, Any] | None:
    """The data a customer registered with: the first event of its account, contact or
    lead stream (in that order of preference among ``kinds``), if any."""
    try:
        record_id = UUID(customer_id)
    except ValueError:
        return None
    payload = await conn.fetchval(
        "SELECT payload::text FROM events WHERE stream_id = ANY($1::text[]) "
        "AND stream_version = 1 ORDER BY stream_id LIMIT 1",
        [f"{kind}-{record_id}" for kind in kinds],
    )
    if payload is None:
        return None
    data: dict[str, Any] = orjson.loads(payload)
    return data


async def customer_address(conn: Connection, customer_id: str) -> Address | None:
    """The address the customer registered with (account first, then contact), if any."""
    data = await registration(conn, customer_id, ("account", "contact", "lead"))
    address = data.get("address") if data else None
    return Address.model_validate(address) if address else None


async def _choose(conn: Connection, rules: AssignmentRules, customer_id: str) -> opp.Assignment:
    address = await customer_address(conn, customer_id)
    return await rules.choose(
        conn, address.country if address else None, address.state if address else None
    )


async def choose_owner(
    pool: asyncpg.Pool, rules: AssignmentRules, customer_id: str, team: str | None = None
) -> opp.Assignment:
    """The assignment rules' choice for a customer, decided before the command's transaction.

    The round-robin cursor moves on its own short connection: inside the command's
    transaction its row lock would serialise every opening of the team, and a second
    connection taken while the command holds one can exhaust the pool. A command that
    rolls back may therefore skip a seller's turn, which is harmless.
    """
    async with pool.acquire() as conn:
        if team is not None:  # a sales manager's deal stays in the team: its round-robin
            return await rules.choose_in_team(conn, team)
        return await _choose(conn, rules, customer_id)


async def open_opportunity(
    uow: UnitOfWork, rules: AssignmentRules, command: opp.OpenOpportunity
) -> dict[str, Any]:
    if command.owner_id is None and command.assignment is None:
        # Rare path (callers normally choose first): use the command's own connection.
        command = replace(command, assignment=await _choose(uow.conn, rules, command.customer_id))
    result = await uow.execute(opp.opportunity, opp.stream_id(command.opportunity_id), command)
    owner = command.owner_id or (command.assignment.owner_id if command.assignment else None)
    return {"id": str(command.opportunity_id), "owner_id": owner, **result.as_json()}
