"""Late-delivery refunds, exactly once per order.

Three things make it so, in the command's one transaction:

1. the order's row is locked FOR UPDATE first, so two commands on one order (two clicks,
   the customer and the worker) run one after the other and the second sees the first's
   ledger row and answers with that refund;
2. the ledger's primary key on ``order_id`` and the refund stream's expected version 0
   refuse a second refund even if the lock were bypassed;
3. the payment provider is asked with the order id as idempotency key, so a crash after
   its answer and before our commit, retried, gets the same refund back, not a second;
4. the decision to refund is committed (``refund_attempts``, on a connection of its own)
   before the provider is asked, and removed with the ledger row's insert. A retry that
   finds it completes the refund without judging the order again: the order may have
   been delivered since, but the provider may have paid, and a refund paid and never
   recorded is the one outcome worse than a late one. The worker's timer completes the
   decisions nobody retried (``complete_decided_refunds``), automatic mode or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from services.platform.commands import UnitOfWork
from services.platform.db import Connection
from services.platform.eventstore import CommandContext
from services.platform.logging import get_logger
from services.support.application.orders import order_for
from services.support.application.runtime import Actor, SupportRuntime
from services.support.domain import refund as rf

log = get_logger(__name__)
WORKER = Actor("support-worker", "system")
DECISION_CONNECTION_TIMEOUT = 5.0
"""Seconds a refund waits for the connection that commits its decision."""


@dataclass(frozen=True)
class ReportLateDelivery:
    order_id: UUID
    actor: Actor
    grace: timedelta = timedelta(0)
    """The automatic run's grace period; a customer's report needs none."""


async def _issued(conn: Connection, order_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM refunds WHERE order_id = $1", order_id)
    if row is None:
        return None
    return {"stream_id": rf.stream_id(order_id), "version": 1, "event_ids": [row["event_id"]],
            "order_id": str(order_id), "refund_id": str(row["refund_id"]),
            "amount": {"amount": str(row["amount"]), "currency": row["currency"]},
            "provider": row["provider"], "payment_reference": row["payment_reference"],
            "issued_at": row["issued_at"]}  # fmt: skip


async def refund_late_delivery(uow: UnitOfWork, report: ReportLateDelivery,
                               deps: SupportRuntime) -> dict[str, Any]:  # fmt: skip
    if deps.payments is None:
        raise RuntimeError("no payment adapter: the composition root sets one")
    order = await order_for(uow.conn, report.order_id, report.actor, lock=True)
    already = await _issued(uow.conn, order.order_id)
    if already is not None:
        return already  # delivered since, retried, replayed: the refund stays, one of it
    now = deps.clock()
    decided = await uow.conn.fetchval(
        "SELECT true FROM refund_attempts WHERE order_id = $1", order.order_id
    )
    if not decided:
        rf.require_eligible(order, now, report.grace)
        await _record_decision(deps, order.order_id, now)
    amount = rf.refund_amount(order)
    reference = await deps.payments.refund(order.order_id, amount.amount, amount.currency,
                                           idempotency_key=str(order.order_id))  # fmt: skip
    stream = rf.stream_id(order.order_id)
    state, version = await uow.load(rf.decider, stream)
    command = rf.IssueRefund(order, now, deps.payments.name, reference, report.grace,
                             decided=bool(decided))  # fmt: skip
    result = await uow.append(stream, version, rf.decider.decide(command, state))
    await uow.conn.execute(
        "INSERT INTO refunds (order_id, refund_id, customer_id, amount, currency, reason, "
        "provider, payment_reference, event_id, issued_at) "
        "VALUES ($1, $2, $3, $4, $5, 'late_delivery', $6, $7, $8, $9)",
        order.order_id, rf.refund_id_for(order.order_id), order.customer_id, amount.amount,
        amount.currency, deps.payments.name, reference, result.event_ids[0], now,
    )  # fmt: skip
    await uow.conn.execute("DELETE FROM refund_attempts WHERE order_id = $1", order.order_id)
    answer = await _issued(uow.conn, order.order_id)
    assert answer is not None
    return answer


async def _record_decision(deps: SupportRuntime, order_id: UUID, at: datetime) -> None:
    # Its own transaction, committed before the money moves: the command's may roll back.
    # A second connection while the command holds one: bounded, so a pool drained by
    # concurrent refunds answers 503 (retried) instead of every command waiting forever.
    async with deps.pool.acquire(timeout=DECISION_CONNECTION_TIMEOUT) as conn:
        await conn.execute(
            "INSERT INTO refund_attempts (order_id, decided_at) VALUES ($1, $2) "
            "ON CONFLICT (order_id) DO NOTHING", order_id, at,
        )  # fmt: skip


async def refund_late_deliveries(deps: SupportRuntime, limit: int = 100) -> int:
    """The worker's timer: refund, unasked, the orders late beyond the grace period (when
    ``auto_refund_late_deliveries`` is on); how many were refunded."""
    rules = deps.self_service
    if not rules.auto_refund_late_deliveries:
        return 0
    grace = timedelta(days=rules.late_delivery_grace_days)
    today = deps.clock().date()
    rows = await deps.pool.fetch(
        "SELECT o.order_id FROM known_orders o LEFT JOIN refunds r USING (order_id) "
        "WHERE r.order_id IS NULL AND o.delivered_at IS NULL AND o.cancelled_at IS NULL "
        "AND o.total IS NOT NULL AND o.promised_delivery_date < $1 "
        "ORDER BY o.promised_delivery_date, o.order_id LIMIT $2",
        today - grace, limit,
    )  # fmt: skip
    return await _refund_each(deps, [row["order_id"] for row in rows], grace)


async def complete_decided_refunds(deps: SupportRuntime, limit: int = 100) -> int:
    """The worker's timer: complete the refunds decided by an attempt that then failed
    (the provider may have paid) and that nobody retried; how many were completed."""
    rows = await deps.pool.fetch(
        "SELECT a.order_id FROM refund_attempts a LEFT JOIN refunds r USING (order_id) "
        "WHERE r.order_id IS NULL ORDER BY a.decided_at, a.order_id LIMIT $1", limit,
    )  # fmt: skip
    return await _refund_each(deps, [row["order_id"] for row in rows], timedelta(0))


async def _refund_each(deps: SupportRuntime, order_ids: list[UUID], grace: timedelta) -> int:
    refunded = 0
    for order_id in order_ids:
        report = ReportLateDelivery(order_id, WORKER, grace)

        async def work(uow: UnitOfWork, report: ReportLateDelivery = report) -> dict[str, Any]:
            return await refund_late_delivery(uow, report, deps)

        context = CommandContext(causation_id=f"timer:refund:{report.order_id}")
        try:
            await deps.commands.run(work, context=context)  # its own transaction per order
            refunded += 1
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError):
            raise
        except Exception as exc:  # one bad order must not hold up the others
            log.error("support.auto_refund_failed", order_id=str(report.order_id),
                      error=repr(exc))  # fmt: skip
    return refunded
