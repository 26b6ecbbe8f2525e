"""Leads: captured with an owner from the assignment rules, qualified or disqualified,
converted into customers (see ``customers.convert_lead``)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any
from uuid import UUID

from services.platform.commands import UnitOfWork
from services.sales.application import commands as cmd
from services.sales.application import customers, deals
from services.sales.domain import lead
from services.sales.domain import opportunity as opp

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime


async def prepare_capture(command: lead.CaptureLead, deps: SalesRuntime) -> lead.CaptureLead:
    """Without an owner, the assignment rules choose one (territory, then round-robin),
    on a short connection of its own before the command's transaction (see ``deals``)."""
    if command.owner_id is not None:
        return command
    country = command.address.country if command.address else None
    state = command.address.state if command.address else None
    async with deps.records.connection() as conn:
        owner = (await deps.rules.choose(deps.records, conn, country, state)).owner_id
    return replace(command, owner_id=owner)


async def capture_lead(
    uow: UnitOfWork, command: lead.CaptureLead, deps: SalesRuntime
) -> dict[str, Any]:
    result = await uow.execute(lead.decider, lead.stream_id(command.lead_id), command)
    return {"id": str(command.lead_id), "owner_id": command.owner_id, **result.as_json()}


async def change_lead(
    uow: UnitOfWork, command: cmd.ChangeLead, deps: SalesRuntime
) -> dict[str, Any]:
    lead_id = command.command.lead_id
    result = await uow.execute(
        lead.decider, lead.stream_id(lead_id), command.command, command.expected_version
    )
    return {"id": str(lead_id), **result.as_json()}


async def convert_lead(
    uow: UnitOfWork, command: cmd.ConvertLead, deps: SalesRuntime
) -> dict[str, Any]:
    """Lead → account (when it names a company) + contact + opportunity, in one transaction."""
    draft = command.opportunity
    opener = None
    if draft is not None:

        async def opener(customer_id: str, opportunity_id: UUID, owner: str | None) -> Any:
            opened = opp.OpenOpportunity(
                opportunity_id,
                customer_id,
                draft.title,
                draft.amount,
                owner,
                draft.expected_close,
                lead_id=command.lead_id,
                pipeline=deps.pipeline,
            )
            return await deals.open_opportunity(uow, deps, opened)

    return await customers.convert_lead(uow, deps.records, command.lead_id, opener)
