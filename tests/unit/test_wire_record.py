"""The relay's fast serialisation equals the envelope model's, field for field."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

import orjson
import pytest

from contracts.envelope import decode_kafka_record, partition_key
from contracts.events.sales import PurchaseMade
from contracts.money import Money
from services.platform.eventstore import RecordedEvent, wire_record


def recorded(customer: str | None, correlation: str | None) -> RecordedEvent:
    event = PurchaseMade(
        order_id=uuid.uuid4(),
        customer_id=customer or "ignored",
        total=Money(amount=Decimal("1234.5600"), currency="ARS"),
    )
    return RecordedEvent(
        global_position=7,
        transaction_id=123,
        event_id=uuid.uuid4(),
        stream_id="order-1",
        stream_version=3,
        event_type=event.event_type,
        schema_version=1,
        source="/crm/sales",
        customer_id=customer,
        occurred_at=datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
        recorded_at=datetime.now(UTC),
        correlation_id=correlation,
        causation_id=None,
        payload=orjson.loads(event.model_dump_json()),
    )


@pytest.mark.parametrize(("customer", "correlation"), [("cust-9", "corr-1"), (None, None)])
def test_wire_record_is_the_same_cloudevent_as_the_model(customer, correlation):
    event = recorded(customer, correlation)
    row = {**event.__dict__, "payload": orjson.dumps(event.payload).decode()}
    key, value = wire_record(row)
    expected = event.to_cloudevent()
    assert decode_kafka_record(value, None) == expected
    assert key == partition_key(expected)
    body = orjson.loads(value)
    assert body["data"]["total"]["amount"] == "1234.5600"  # money stays a string
    assert body["time"] == "2026-03-01T12:30:15.123456Z"
