"""Timeline projector: every event that names a customer becomes one timeline entry."""

from __future__ import annotations

from pathlib import Path

from contracts.events.sales import (
    ActivityLogged,
    DealStageChanged,
    FollowUpDue,
    OpportunityAssigned,
    OpportunityLost,
    OpportunityOpened,
    PurchaseMade,
)
from contracts.events.support import ComplaintFiled
from contracts.registry import DomainEvent
from services.platform.consumer import ConsumedEvent
from services.platform.db import Connection

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
GROUP = "projection.timeline"


def summarize(event: DomainEvent) -> str:
    """A line a person reads on the timeline."""
    match event:
        case OpportunityOpened():
            return (
                f"Opportunity opened: {event.title} ({event.amount.amount} {event.amount.currency})"
            )
        case DealStageChanged():
            text = f"Deal moved from {event.from_stage} to {event.to_stage}"
            return f"{text}: {event.reason}" if event.reason else text
        case PurchaseMade():
            return f"Purchase made: {event.total.amount} {event.total.currency} ({event.channel})"
        case ComplaintFiled():
            return f"Complaint filed via {event.channel}: {event.subject}"
        case OpportunityAssigned():
            return f"Deal assigned to {event.owner_id} ({event.rule.replace('_', ' ')})"
        case OpportunityLost():
            return f"Deal lost ({event.reason.replace('_', ' ')}): {event.details}"
        case ActivityLogged():
            return f"{event.kind.capitalize()}: {event.subject}"
        case FollowUpDue():
            return f"Follow-up due for {event.owner_id}: {event.subject}"
    # Every other event: its type in words ("crm.sales.order_delivered" -> "Order delivered").
    return event.event_type.rsplit(".", 1)[-1].replace("_", " ").capitalize()


async def project(conn: Connection, consumed: ConsumedEvent) -> None:
    customer = consumed.envelope.customerid or consumed.event.customer()
    if customer is None:
        return
    env = consumed.envelope
    await conn.execute(
        """
        INSERT INTO timeline_entries (event_source, event_id, customer_id, occurred_at, context,
            event_type, summary, stream_id, stream_version, correlation_id, payload)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
        """,
        env.source,
        env.id,
        customer,
        env.time,
        consumed.event.context,
        env.type,
        summarize(consumed.event),
        env.streamid,
        env.streamversion,
        env.correlationid,
        consumed.event.model_dump_json(),
    )
