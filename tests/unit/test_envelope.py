"""The CloudEvents envelope: what goes on the wire comes back the same, and anything
that is not a readable CloudEvent is an ``EnvelopeError`` (so consumers dead-letter it)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest

from contracts.envelope import (
    STRUCTURED_CONTENT_TYPE,
    CloudEvent,
    EnvelopeError,
    decode_kafka_record,
    partition_key,
)

SAO_PAULO = timezone(timedelta(hours=-3))
MOSCOW = timezone(timedelta(hours=3))


def make_event(**overrides: Any) -> CloudEvent:
    fields: dict[str, Any] = {
        "id": "0f8e4c3a-8b1d-4f6e-9c2a-5d7b3e1f0a99",
        "source": "/crm/sales",
        "type": "crm.sales.deal_stage_changed",
        "time": datetime(2024, 5, 17, 14, 30, 5, 123456, tzinfo=UTC),
        "subject": "opportunity-6f1c2b9e",
        "schemaversion": 1,
        "streamid": "opportunity-6f1c2b9e",
        "streamversion": 3,
        "customerid": "cust-br-00042",
        "correlationid": "req-77",
        "causationid": "cmd-12",
        "data": {"from_stage": "qualification", "to_stage": "won", "nested": {"a": [1, "b"]}},
    }
    fields.update(overrides)
    return CloudEvent(**fields)


def structured(raw: dict[str, Any]) -> bytes:
    return orjson.dumps(raw)


def minimal_raw(**overrides: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "specversion": "1.0",
        "id": "ev-1",
        "source": "/shop",
        "type": "crm.external.order_placed",
        "time": "2024-05-17T14:30:05Z",
        "data": {"order": "A-1"},
    }
    raw.update(overrides)
    return raw


# --- structured mode -----------------------------------------------------------------


def test_structured_mode_round_trip_returns_an_equal_event() -> None:
    event = make_event()
    assert decode_kafka_record(event.to_json_bytes(), event.kafka_headers()) == event


def test_structured_mode_headers_declare_cloudevents_json() -> None:
    assert dict(make_event().kafka_headers())["content-type"] == STRUCTURED_CONTENT_TYPE.encode()


def test_structured_mode_round_trip_without_optional_attributes() -> None:
    event = CloudEvent(**minimal_raw())
    decoded = decode_kafka_record(event.to_json_bytes(), None)
    assert decoded == event
    assert decoded.customerid is None and decoded.streamid is None
    assert decoded.schemaversion == 1


def test_structured_output_omits_absent_attributes_instead_of_writing_null() -> None:
    wire = orjson.loads(CloudEvent(**minimal_raw()).to_json_bytes())
    assert "subject" not in wire and "customerid" not in wire
    assert None not in wire.values()


def test_time_is_normalised_to_utc_keeping_the_instant() -> None:
    local = datetime(2024, 5, 17, 17, 30, 5, tzinfo=MOSCOW)
    decoded = decode_kafka_record(make_event(time=local).to_json_bytes(), None)
    assert decoded.time.utcoffset() == timedelta(0)
    assert decoded.time == local
    assert (decoded.time.hour, decoded.time.minute) == (14, 30)


def test_time_with_offset_on_the_wire_is_read_as_utc() -> None:
    decoded = decode_kafka_record(structured(minimal_raw(time="2024-05-17T11:30:05-03:00")), None)
    assert decoded.time.utcoffset() == timedelta(0)
    assert decoded.time == datetime(2024, 5, 17, 14, 30, 5, tzinfo=UTC)
    assert orjson.loads(decoded.to_json_bytes())["time"] == "2024-05-17T14:30:05Z"


def test_naive_time_is_refused() -> None:
    with pytest.raises(EnvelopeError):
        decode_kafka_record(structured(minimal_raw(time="2024-05-17T14:30:05")), None)


def test_unknown_extension_attributes_are_preserved_through_a_round_trip() -> None:
    raw = minimal_raw(traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
    raw["shopregion"] = "ar-caba"
    decoded = decode_kafka_record(structured(raw), None)
    assert decoded.model_extra == {
        "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "shopregion": "ar-caba",
    }
    again = orjson.loads(decoded.to_json_bytes())
    assert again["traceparent"] == raw["traceparent"]
    assert again["shopregion"] == "ar-caba"


# --- binary mode ---------------------------------------------------------------------


def binary_headers(**attributes: str) -> list[tuple[str, bytes]]:
    base = {
        "specversion": "1.0",
        "id": "ev-bin-1",
        "source": "/telephony",
        "type": "crm.external.call_ended",
        "time": "2024-05-17T11:30:05-03:00",
    }
    base.update(attributes)
    headers = [(f"ce_{k}", v.encode()) for k, v in base.items()]
    return [("content-type", b"application/json"), *headers]


def test_binary_mode_reads_attributes_from_ce_headers_and_data_from_value() -> None:
    headers = binary_headers(
        customerid="cust-ar-9", streamid="call-1", schemaversion="2", streamversion="7"
    )
    event = decode_kafka_record(orjson.dumps({"duration_s": 312}), headers)
    assert event.id == "ev-bin-1"
    assert event.source == "/telephony"
    assert event.type == "crm.external.call_ended"
    assert event.customerid == "cust-ar-9"
    assert event.data == {"duration_s": 312}
    assert event.time == datetime(2024, 5, 17, 14, 30, 5, tzinfo=UTC)
    assert event.time.utcoffset() == timedelta(0)


def test_binary_mode_turns_version_headers_into_ints() -> None:
    event = decode_kafka_record(b"{}", binary_headers(schemaversion="2", streamversion="7"))
    assert event.schemaversion == 2 and isinstance(event.schemaversion, int)
    assert event.streamversion == 7 and isinstance(event.streamversion, int)


def test_binary_mode_header_names_are_case_insensitive() -> None:
    headers = [(name.upper(), value) for name, value in binary_headers()]
    assert decode_kafka_record(b"{}", headers).id == "ev-bin-1"


def test_binary_mode_keeps_unknown_extension_headers() -> None:
    event = decode_kafka_record(b"{}", binary_headers(traceparent="00-abc-def-01"))
    assert event.model_extra == {"traceparent": "00-abc-def-01"}


def test_binary_mode_with_non_numeric_version_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError):
        decode_kafka_record(b"{}", binary_headers(schemaversion="two"))


def test_binary_mode_with_non_object_data_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError):
        decode_kafka_record(b"[1, 2]", binary_headers())


# --- what is not a CloudEvent --------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        b"not json at all",
        b"\xff\xfe\x00garbage",
        b"[1, 2, 3]",
        b'"just a string"',
        b"",
    ],
    ids=["text", "binary-garbage", "array", "string", "empty"],
)
def test_malformed_bytes_are_an_envelope_error(value: bytes) -> None:
    with pytest.raises(EnvelopeError):
        decode_kafka_record(value, None)


@pytest.mark.parametrize("missing", ["id", "source", "type", "time", "data"])
def test_missing_required_attribute_is_an_envelope_error(missing: str) -> None:
    raw = minimal_raw()
    del raw[missing]
    with pytest.raises(EnvelopeError):
        decode_kafka_record(structured(raw), None)


def test_wrong_specversion_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError):
        decode_kafka_record(structured(minimal_raw(specversion="0.3")), None)


def test_tombstone_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError, match="tombstone"):
        decode_kafka_record(None, [])


@pytest.mark.parametrize(
    "time",
    ["0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"],
    ids=["year-1-east-of-utc", "year-9999-west-of-utc"],
)
def test_time_whose_utc_instant_is_out_of_range_is_an_envelope_error(time: str) -> None:
    # The wire text is a valid RFC 3339 time, but normalising it to UTC leaves the range
    # of ``datetime``. A consumer treats only EnvelopeError/ValueError as poison; any
    # other exception would stall the partition instead of dead-lettering the record.
    with pytest.raises(EnvelopeError):
        decode_kafka_record(structured(minimal_raw(time=time)), None)


# --- partition key -------------------------------------------------------------------


def test_partition_key_is_the_customer_id_when_present() -> None:
    assert partition_key(make_event(customerid="cust-br-1", streamid="s-1")) == b"cust-br-1"


def test_partition_key_falls_back_to_the_stream_id() -> None:
    assert partition_key(make_event(customerid=None, streamid="s-1")) == b"s-1"


def test_partition_key_falls_back_to_the_event_id() -> None:
    event = make_event(customerid=None, streamid=None, id="ev-42")
    assert partition_key(event) == b"ev-42"


def test_partition_key_is_utf8_encoded() -> None:
    assert partition_key(make_event(customerid="joão-ñandú")) == "joão-ñandú".encode()


def test_events_of_one_customer_share_a_key_across_streams() -> None:
    a = make_event(customerid="cust-ar-7", streamid="opportunity-1")
    b = make_event(customerid="cust-ar-7", streamid="case-9", source="/crm/support")
    assert partition_key(a) == partition_key(b)
