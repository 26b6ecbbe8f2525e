"""Exchanges of delivered items: check the order, request the exchange, have the carrier
issue a return label, record both events and the exchange's row in one transaction.

The row's partial unique index (one open exchange per order line) settles a race between
two requests for the same line: the loser's insert conflicts and its command is refused,
its events never committed. The carrier is asked with the exchange id as its key, so a
retry of a command that failed after the carrier answered gets the same label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.support.application.orders import CUSTOMER_ROLE, order_for
from services.support.application.ports import LabelRequest
from services.support.application.runtime import Actor, SupportRuntime
from services.support.domain import exchange as ex


@dataclass(frozen=True)
class AskExchange:
    exchange_id: UUID
    order_id: UUID
    product_id: str
    quantity: int
    reason: str
    actor: Actor


async def request_exchange(uow: UnitOfWork, ask: AskExchange, deps: SupportRuntime
                           ) -> dict[str, Any]:  # fmt: skip
    if deps.carrier is None:
        raise RuntimeError("no carrier adapter: the composition root sets one")
    order = await order_for(uow.conn, ask.order_id, ask.actor, lock=True)
    open_line = await uow.conn.fetchval(
        "SELECT exists (SELECT 1 FROM exchanges WHERE order_id = $1 AND product_id = $2 "
        "AND status = 'open')", ask.order_id, ask.product_id,
    )  # fmt: skip
    now = deps.clock()
    command = ex.RequestExchange(
        exchange_id=ask.exchange_id, order=order, product_id=ask.product_id,
        quantity=ask.quantity, reason=ask.reason, at=now,
        return_window=deps.self_service.return_window,
        requested_via="self_service" if ask.actor.role == CUSTOMER_ROLE else "agent",
        line_has_open_exchange=bool(open_line),
    )  # fmt: skip
    stream = ex.stream_id(ask.exchange_id)
    state, version = await uow.load(ex.decider, stream)
    events = list(ex.decider.decide(command, state))
    for event in events:
        state = ex.decider.evolve(state, event)
    label = await deps.carrier.issue_label(LabelRequest(
        exchange_id=ask.exchange_id, order_id=order.order_id, customer_id=order.customer_id,
        product_id=ask.product_id, quantity=ask.quantity, requested_at=now,
        valid_until=now + deps.self_service.label_validity,
    ))  # fmt: skip
    events += ex.decider.decide(ex.RecordLabel(ask.exchange_id, label, now), state)
    inserted = await uow.conn.fetchval(
        "INSERT INTO exchanges (exchange_id, order_id, customer_id, product_id, quantity, "
        "requested_via, requested_at, carrier, label_id, postage_code, expires_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) "
        "ON CONFLICT (order_id, product_id) WHERE status = 'open' DO NOTHING "
        "RETURNING true",
        ask.exchange_id, order.order_id, order.customer_id, ask.product_id, ask.quantity,
        command.requested_via, now, label.carrier, label.label_id, label.postage_code,
        label.expires_at,
    )  # fmt: skip
    if not inserted:  # a concurrent request for the same line committed first
        raise DomainError("this product of the order already has an open exchange",
                          field="product_id", code="already-exists")  # fmt: skip
    result = await uow.append(stream, version, events)
    return {**result.as_json(), "exchange_id": str(ask.exchange_id),
            "order_id": str(order.order_id), "product_id": ask.product_id,
            "carrier": label.carrier, "label_id": label.label_id,
            "postage_code": label.postage_code, "expires_at": label.expires_at}  # fmt: skip


async def list_exchanges(deps: SupportRuntime, order_id: UUID, who: Actor
                         ) -> list[dict[str, Any]]:  # fmt: skip
    async with deps.pool.acquire() as conn:
        await order_for(conn, order_id, who)
        rows = await conn.fetch(
            "SELECT exchange_id, order_id, product_id, quantity, status, requested_via, "
            "requested_at, carrier, label_id, postage_code, expires_at FROM exchanges "
            "WHERE order_id = $1 ORDER BY requested_at, exchange_id", order_id,
        )  # fmt: skip
    return [dict(row) for row in rows]
