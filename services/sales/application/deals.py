"""Opportunities: opening with the assignment rules, stage changes and reassignment under
the team rule, and the customer's territory."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from contracts.events.sales import Address
from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.sales.application import commands as cmd
from services.sales.application.access import (
    SALES_MANAGER,
    check_new_owner,
    deal_check,
    deal_owner_lock,
    owner_of_new_deal,
)
from services.sales.application.assignment import AssignmentRules
from services.sales.application.ports import SalesRecords
from services.sales.domain import opportunity as opp

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime


async def registration(
    records: SalesRecords, conn: Any, customer_id: str, kinds: tuple[str, ...]
) -> dict[str, Any] | None:
    """The data a customer registered with: the first event of its account, contact or
    lead stream (in that order of preference among ``kinds``), if any."""
    try:
        record_id = UUID(customer_id)
    except ValueError:
        return None
    return await records.first_event(conn, [f"{kind}-{record_id}" for kind in kinds])


async def customer_address(records: SalesRecords, conn: Any, customer_id: str) -> Address | None:
    """The address the customer registered with (account first, then contact), if any."""
    data = await registration(records, conn, customer_id, ("account", "contact", "lead"))
    address = data.get("address") if data else None
    return Address.model_validate(address) if address else None


async def _choose(
    records: SalesRecords, conn: Any, rules: AssignmentRules, customer_id: str
) -> opp.Assignment:
    address = await customer_address(records, conn, customer_id)
    return await rules.choose(
        records, conn, address.country if address else None, address.state if address else None
    )


async def choose_owner(
    records: SalesRecords, rules: AssignmentRules, customer_id: str, team: str | None = None
) -> opp.Assignment:
    """The assignment rules' choice for a customer, decided before the command's transaction.

    The round-robin cursor moves on its own short connection (see ``AssignmentRules``):
    inside the command's transaction its row lock would serialise every opening of the
    team, and a second connection taken while the command holds one can exhaust the pool.
    """
    async with records.connection() as conn:
        if team is not None:  # a sales manager's deal stays in the team: its round-robin
            return await rules.choose_in_team(records, conn, team)
        return await _choose(records, conn, rules, customer_id)


async def open_opportunity(
    uow: UnitOfWork, deps: SalesRuntime, command: opp.OpenOpportunity
) -> dict[str, Any]:
    rules = deps.rules
    if command.owner_id is None and command.assignment is None:
        # Rare path (callers normally choose first): use the command's own connection.
        choice = await _choose(deps.records, uow.conn, rules, command.customer_id)
        command = replace(command, assignment=choice)
    if command.owner_id is not None:
        # The team travels on the event, so read models filter by team without sales code.
        command = replace(command, owner_team=rules.team_of(command.owner_id))
    result = await uow.execute(opp.decider, opp.stream_id(command.opportunity_id), command)
    owner = command.owner_id or (command.assignment.owner_id if command.assignment else None)
    return {"id": str(command.opportunity_id), "owner_id": owner, **result.as_json()}


async def prepare_open(command: cmd.OpenDeal, deps: SalesRuntime) -> cmd.OpenDeal:
    """The owner of the new deal: the caller's rule first, else the assignment rules."""
    actor = command.actor
    owner_id = owner_of_new_deal(actor, command.owner_id, deps.rules)
    assignment = None
    if owner_id is None:
        team = actor.team if actor is not None and actor.role == SALES_MANAGER else None
        if team is not None and team not in {t.name for t in deps.rules.teams}:
            raise DomainError(
                "your team sells nothing: name the owner", field="owner_id", code="forbidden-team"
            )
        assignment = await choose_owner(deps.records, deps.rules, command.customer_id, team)
    return replace(command, owner_id=owner_id, assignment=assignment)


async def open_deal(uow: UnitOfWork, command: cmd.OpenDeal, deps: SalesRuntime) -> dict[str, Any]:
    opened = opp.OpenOpportunity(
        command.opportunity_id,
        command.customer_id,
        command.title,
        command.amount,
        command.owner_id,
        command.expected_close,
        assignment=command.assignment,
        pipeline=deps.pipeline,
    )
    return await open_opportunity(uow, deps, opened)


async def change_deal(
    uow: UnitOfWork, command: cmd.ChangeDeal, deps: SalesRuntime
) -> dict[str, Any]:
    change = replace(command.command, pipeline=deps.pipeline)
    deal_id = change.opportunity_id
    check = deal_check(command.actor, deps.rules)
    result = await uow.execute(
        opp.decider, opp.stream_id(deal_id), change, command.expected_version, check
    )
    return {"id": str(deal_id), **result.as_json()}


async def prepare_reassign(command: cmd.ReassignDeal, deps: SalesRuntime) -> cmd.ReassignDeal:
    check_new_owner(command.actor, command.owner_id, deps.rules)
    return command


async def reassign_deal(
    uow: UnitOfWork, command: cmd.ReassignDeal, deps: SalesRuntime
) -> dict[str, Any]:
    deal_id = command.opportunity_id
    # Held exclusively: a quote command checking this deal's team waits, then sees the
    # new owner (see ``lock_deal_owner``).
    await deps.records.lock(uow.conn, [deal_owner_lock(deal_id)])
    assign = opp.AssignOpportunity(
        deal_id, command.owner_id, "manual", team=deps.rules.team_of(command.owner_id)
    )
    check = deal_check(command.actor, deps.rules)
    result = await uow.execute(
        opp.decider, opp.stream_id(deal_id), assign, command.expected_version, check
    )
    return {"id": str(deal_id), **result.as_json()}
