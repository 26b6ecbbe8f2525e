"""The command table: each command type the sales service accepts, and its handler.

A handler is ``async def handle(uow, command, deps)``: it runs inside the command's one
transaction (loads, checks, decides, appends; identity claims, locks and timers go
through ``deps.records`` on ``uow.conn``, see ``ports``) and returns the JSON answer.
``prepare`` runs before that transaction, for work that must not hold the command's
connection (the assignment rules' round-robin, see ``deals``), and returns the command
to handle.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.platform.commands import UnitOfWork
from services.sales.application import (
    activities,
    corrections,
    customers,
    deals,
    leads,
    orders,
    quotes,
)
from services.sales.application import commands as cmd
from services.sales.domain import account, contact, lead

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime


@dataclass(frozen=True)
class Handler:
    handle: Callable[[UnitOfWork, Any, SalesRuntime], Awaitable[dict[str, Any]]]
    prepare: Callable[[Any, SalesRuntime], Awaitable[Any]] | None = None


HANDLERS: dict[type, Handler] = {
    account.RegisterAccount: Handler(customers.handle_register_account),
    contact.RegisterContact: Handler(customers.handle_register_contact),
    cmd.MergeRecord: Handler(customers.handle_merge),
    cmd.CorrectDetails: Handler(corrections.correct_details),
    lead.CaptureLead: Handler(leads.capture_lead, leads.prepare_capture),
    cmd.ChangeLead: Handler(leads.change_lead),
    cmd.ConvertLead: Handler(leads.convert_lead),
    cmd.OpenDeal: Handler(deals.open_deal, deals.prepare_open),
    cmd.ChangeDeal: Handler(deals.change_deal),
    cmd.ReassignDeal: Handler(deals.reassign_deal, deals.prepare_reassign),
    cmd.IssueQuote: Handler(quotes.issue_quote),
    cmd.ChangeQuote: Handler(quotes.change_quote),
    cmd.PlaceOrder: Handler(orders.place_order),
    cmd.ChangeOrder: Handler(orders.change_order),
    cmd.LogActivity: Handler(activities.log_activity),
    cmd.ScheduleFollowUp: Handler(activities.schedule_follow_up),
}
