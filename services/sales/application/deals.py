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


async def customer_address(conn: Connection, customer_id: str) -> Address | None:
    """The address the customer registered with (account first, then contact), if any."""
    try:
        record_id = UUID(customer_id)
    except ValueError:
        return None
    payload = await conn.fetchval(
        "SELECT payload::text FROM events WHERE stream_id = ANY($1::text[]) "
        "AND stream_version = 1 ORDER BY stream_id LIMIT 1",
        [f"account-{record_id}", f"contact-{record_id}", f"lead-{record_id}"],
    )
    if payload is None:
        return None
    address = orjson.loads(payload).get("address")
    return Address.model_validate(address) if address else None


async def open_opportunity(
    uow: UnitOfWork, pool: asyncpg.Pool, rules: AssignmentRules, command: opp.OpenOpportunity
) -> dict[str, Any]:
    if command.owner_id is None and command.assignment is None:
        address = await customer_address(uow.conn, command.customer_id)
        # The round-robin cursor moves outside the command's transaction: holding its row
        # lock until commit would serialise every opening of the team. A rolled back
        # command may therefore skip a seller's turn, which is harmless.
        async with pool.acquire() as cursor_conn:
            assignment = await rules.choose(
                cursor_conn,
                address.country if address else None,
                address.state if address else None,
            )
        command = replace(command, assignment=assignment)
    result = await uow.execute(opp.opportunity, opp.stream_id(command.opportunity_id), command)
    owner = command.owner_id or (command.assignment.owner_id if command.assignment else None)
    return {"id": str(command.opportunity_id), "owner_id": owner, **result.as_json()}
