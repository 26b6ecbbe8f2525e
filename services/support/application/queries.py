"""Reads of the support service: a case with its conversation (opened with the
customer's key, as every reader of the store opens it) and lists of cases."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts.events.support import CaseOpened, MessageAdded
from services.platform.decider import DomainError
from services.support.application.runtime import Actor, SupportRuntime
from services.support.application.seller_scope import customers_clause, scoped
from services.support.application.sla_clocks import clocks_of
from services.support.domain import case as cs

LIST_FILTERS = ("customer_id", "team", "assignee_id", "status", "priority", "category",
                "problem_id", "order_id")  # fmt: skip


async def case_view(deps: SupportRuntime, case_id: UUID, *, internal: bool) -> dict[str, Any]:
    """The case, its SLA clocks and its conversation; internal notes only if ``internal``."""
    history = await deps.store.read_stream(cs.stream_id(case_id))
    if not history:
        raise DomainError("no such case", code="not-found")
    events = [record.domain_event() for record in history]
    state = cs.decider.fold(events)
    opened = next(e for e in events if isinstance(e, CaseOpened))
    conversation = [
        {"message_id": str(e.message_id), "kind": e.kind, "author_id": e.author_id,
         "channel": e.channel, "body": e.body, "added_at": e.added_at.isoformat()}
        for e in events
        if isinstance(e, MessageAdded) and (internal or e.kind != "internal_note")
    ]  # fmt: skip
    clocks = await clocks_of(deps.pool, case_id)
    return {
        "case_id": str(case_id), "version": history[-1].stream_version,
        "customer_id": state.customer_id, "kind": state.kind, "channel": state.channel,
        "subject": opened.subject, "description": opened.description,
        "category": state.category, "priority": state.priority, "tier": state.tier,
        "product_id": state.product_id,
        "order_id": str(state.order_id) if state.order_id else None,
        "team": state.team, "assignee_id": state.assignee_id, "status": state.status,
        "escalation_level": state.escalation_level,
        "problem_id": str(state.problem_id) if state.problem_id else None,
        "merged_into": str(state.merged_into) if state.merged_into else None,
        "opened_at": state.opened_at.isoformat() if state.opened_at else None,
        "solved_at": state.solved_at.isoformat() if state.solved_at else None,
        "sla": {"policy_id": state.sla_policy[0], "policy_version": state.sla_policy[1],
                "calendar_id": state.calendar[0], "calendar_version": state.calendar[1],
                "clocks": clocks},
        "conversation": conversation,
    }  # fmt: skip


async def list_cases(deps: SupportRuntime, filters: dict[str, Any], limit: int,
                     after: str | None = None, reader: Actor | None = None
                     ) -> dict[str, Any]:  # fmt: skip
    """Cases matching ``filters``, newest first; a seller's, only their customers'."""
    where: list[str] = []
    args: list[object] = []
    for name in LIST_FILTERS:
        value = filters.get(name)
        if value is not None:
            args.append(value)
            where.append(f"{name} = ${len(args)}")
    if filters.get("open_only"):
        where.append("status NOT IN ('solved', 'closed')")
    if reader is not None and scoped(reader):
        where.append(customers_clause(reader, args))
    if after:
        args.append(after)
        where.append(f"(opened_at, case_id::text) < (SELECT opened_at, case_id::text FROM cases "
                     f"WHERE case_id::text = ${len(args)})")  # fmt: skip
    args.append(limit)
    sql = ("SELECT case_id, customer_id, kind, channel, category, priority, tier, product_id, "
           "order_id, team, assignee_id, status, problem_id, opened_at, solved_at, closed_at "
           "FROM cases" + (" WHERE " + " AND ".join(where) if where else "")
           + f" ORDER BY opened_at DESC, case_id::text DESC LIMIT ${len(args)}")  # fmt: skip
    rows = await deps.pool.fetch(sql, *args)
    items = [{k: (str(v) if isinstance(v, UUID) else v.isoformat() if hasattr(v, "isoformat")
                  else v) for k, v in dict(r).items()} for r in rows]  # fmt: skip
    return {"items": items, "next": items[-1]["case_id"] if len(items) == limit else None}
