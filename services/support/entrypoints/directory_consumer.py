"""The support worker's consumer: what support must know of other contexts, and other
systems' complaints turned into cases.

* Sales (``crm.sales.events``): customers as they are registered or merged, and orders
  as they are placed, delivered, cancelled or returned: cases are opened for known
  customers and linked to their own orders. The customer's tier follows their spend.
  Deals as they are opened or reassigned: sellers read their customers' cases
  (``application.seller_scope``).
* Other systems (``crm.external.events``): a ``complaint_filed`` from a call centre or a
  complaints site becomes a case with the complaint's id (redelivered, it is one case).
* Privacy (``crm.privacy.events``): an erased customer is no longer known (no new case).
* The e-mail addresses of accounts, contacts and leads, as keyed hashes
  (``application.mail_addresses``): inbound mail finds its customer by them; an erasure
  deletes them.

Each event is applied in the consumer's transaction with its inbox row (effectively once).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import partial

from contracts.events.privacy import PersonalDataErased
from contracts.events.sales import (
    AccountDetailsCorrected,
    AccountRegistered,
    ContactDetailsCorrected,
    ContactRegistered,
    LeadCaptured,
    OpportunityAssigned,
    OpportunityOpened,
    OrderCancelled,
    OrderDelivered,
    OrderPlaced,
    OrderReturned,
    PurchaseMade,
    RecordsMerged,
)
from contracts.events.support import ComplaintFiled
from contracts.topics import DEAD_LETTER, EXTERNAL, PRIVACY, SALES
from services.platform.commands import UnitOfWork
from services.platform.consumer import ConsumedEvent, EventConsumer
from services.platform.db import Connection
from services.platform.eventstore import CommandContext
from services.platform.kafka import make_producer
from services.platform.logging import get_logger
from services.support.application import mail_addresses, recurring_failures, seller_scope
from services.support.application.cases import NewCase, open_case
from services.support.application.runtime import SupportRuntime
from services.support.domain import case as cs

GROUP = "support.directory"
AddressedEvent = (AccountRegistered | ContactRegistered | LeadCaptured | AccountDetailsCorrected
                  | ContactDetailsCorrected)  # fmt: skip
log = get_logger(__name__)


async def _know(conn: Connection, customer_id: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO known_customers (customer_id, known_at) VALUES ($1, $2) "
        "ON CONFLICT (customer_id) DO NOTHING",
        customer_id, at,
    )  # fmt: skip


async def _retier(deps: SupportRuntime, conn: Connection, customer_id: str) -> None:
    spent = await conn.fetchval(
        "SELECT coalesce(sum(total), 0) FROM known_orders WHERE customer_id = $1 "
        "AND cancelled_at IS NULL AND returned_at IS NULL", customer_id,
    )  # fmt: skip
    await conn.execute("UPDATE known_customers SET tier = $2 WHERE customer_id = $1",
                       customer_id, deps.teams.tier_for(Decimal(spent)))  # fmt: skip


async def _order(conn: Connection, order_id: object, column: str, at: datetime) -> None:
    assert column in ("delivered_at", "cancelled_at", "returned_at")
    await conn.execute(f"UPDATE known_orders SET {column} = coalesce({column}, $2) "
                       "WHERE order_id = $1", order_id, at)  # fmt: skip


async def apply(deps: SupportRuntime, conn: Connection, consumed: ConsumedEvent) -> None:
    event, at = consumed.event, consumed.envelope.time
    match event:
        case AccountRegistered() | ContactRegistered() | LeadCaptured():
            await _know(conn, event.customer_id, at)
            await _addresses(deps, conn, event, at)
        case AccountDetailsCorrected() | ContactDetailsCorrected() if event.emails is not None:
            await _addresses(deps, conn, event, at, replace=True)
        case RecordsMerged():
            await _know(conn, event.merged_customer_id, at)
            await _know(conn, event.customer_id, at)
            await conn.execute("UPDATE known_customers SET merged_into = $2 WHERE customer_id = $1",
                               event.merged_customer_id, event.customer_id)  # fmt: skip
        case OrderPlaced() | PurchaseMade():
            await _know(conn, event.customer_id, at)
            products = ([line.product_id for line in event.lines]
                        if isinstance(event, OrderPlaced) else [])  # fmt: skip
            promised = event.promised_delivery_date if isinstance(event, OrderPlaced) else None
            delivered = at if isinstance(event, PurchaseMade) else None  # a sale over the counter
            await conn.execute(
                "INSERT INTO known_orders (order_id, customer_id, currency, total, products, "
                "placed_at, promised_delivery_date, delivered_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (order_id) DO NOTHING",
                event.order_id, event.customer_id, event.total.currency, event.total.amount,
                products, at, promised, delivered,
            )  # fmt: skip
            await _retier(deps, conn, event.customer_id)
        case OrderDelivered():
            await _order(conn, event.order_id, "delivered_at", at)
        case OrderCancelled():
            await _order(conn, event.order_id, "cancelled_at", at)
            await _retier(deps, conn, event.customer_id)
        case OrderReturned():
            await _order(conn, event.order_id, "returned_at", at)
            await _retier(deps, conn, event.customer_id)
        case OpportunityOpened() | OpportunityAssigned():
            await seller_scope.learn_deal(conn, event)
        case ComplaintFiled() if consumed.envelope.source != deps.store.source:
            await _complaint(deps, conn, consumed, event)
        case PersonalDataErased():
            await conn.execute(
                "UPDATE known_customers SET erased = true WHERE customer_id = ANY($1::text[])",
                list(event.subjects),
            )
            await mail_addresses.forget(conn, event.subjects)
            await recurring_failures.forget(conn, list(event.subjects))


async def _addresses(deps: SupportRuntime, conn: Connection, event: AddressedEvent,
                     at: datetime, *, replace: bool = False) -> None:  # fmt: skip
    if isinstance(event, AccountRegistered | AccountDetailsCorrected):
        record, kind = str(event.account_id), "account"
    elif isinstance(event, ContactRegistered | ContactDetailsCorrected):
        record, kind = str(event.contact_id), "contact"
    else:
        record, kind = str(event.lead_id), mail_addresses.LEAD
    await mail_addresses.learn(deps.keys, conn, record_id=record, customer_id=event.customer_id,
                               kind=kind, emails=event.emails or (), at=at,
                               replace=replace)  # fmt: skip


async def _complaint(deps: SupportRuntime, conn: Connection, consumed: ConsumedEvent,
                     event: ComplaintFiled) -> None:  # fmt: skip
    # Another system vouches for the customer: known from now on.
    await _know(conn, event.customer_id, consumed.envelope.time)
    envelope = consumed.envelope
    context = CommandContext(correlation_id=envelope.correlationid, causation_id=envelope.id)
    uow = UnitOfWork(conn, deps.store, context)
    state, _ = await uow.load(cs.decider, cs.stream_id(event.case_id))
    if state.exists:
        return
    new = NewCase(event.case_id, event.customer_id, "complaint", event.channel, event.subject,
                  event.description or event.subject, event.category or "general",
                  event.severity, event.product_id, event.order_id, event.contact_id,
                  opened_by=consumed.envelope.source)  # fmt: skip
    await open_case(uow, new, deps)
    log.info("support.external_complaint_opened", case_id=str(event.case_id))


def directory_consumer(bootstrap: str, deps: SupportRuntime, *, group: str = GROUP,
                       topics: tuple[str, ...] = (SALES.name, EXTERNAL.name, PRIVACY.name)
                       ) -> EventConsumer:  # fmt: skip
    return EventConsumer(
        group=group, topics=list(topics), pool=deps.pool, handler=partial(apply, deps),
        producer_factory=partial(make_producer, bootstrap),
        dead_letter_topic=DEAD_LETTER.name, keys=deps.keys,
    )  # fmt: skip
