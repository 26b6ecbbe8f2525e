"""Property: any valid envelope survives structured-mode encoding unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.envelope import CloudEvent, decode_kafka_record

# Offsets a real producer may use; instants kept far from datetime's limits so that
# normalising to UTC cannot leave its range (that edge has its own example test).
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_times = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2200, 12, 31), timezones=offsets
)
short_text = st.text(min_size=1, max_size=40)
# orjson writes 64-bit integers; JSON numbers beyond that are not portable anyway.
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
data_dicts = st.dictionaries(st.text(max_size=15), json_values, max_size=6)
# Extension names follow the CloudEvents rule (lower-case letters and digits) and must
# not shadow a declared attribute.
extension_names = st.from_regex(r"[a-z][a-z0-9]{0,19}", fullmatch=True).filter(
    lambda name: name not in CloudEvent.model_fields
)


@st.composite
def envelopes(draw: st.DrawFn) -> CloudEvent:
    maybe = lambda strategy: st.none() | strategy  # noqa: E731
    fields: dict[str, Any] = {
        "id": draw(st.uuids().map(str) | short_text),
        "source": draw(st.sampled_from(["/crm/sales", "/crm/support", "/shop", "urn:x:tel"])),
        "type": draw(st.from_regex(r"crm\.[a-z]+\.[a-z_]+", fullmatch=True)),
        "time": draw(aware_times),
        "subject": draw(maybe(short_text)),
        "schemaversion": draw(st.integers(min_value=1, max_value=1000)),
        "streamid": draw(maybe(short_text)),
        "streamversion": draw(maybe(st.integers(min_value=1, max_value=2**40))),
        "customerid": draw(maybe(short_text)),
        "correlationid": draw(maybe(st.uuids().map(str))),
        "causationid": draw(maybe(st.uuids().map(str))),
        "data": draw(data_dicts),
    }
    fields.update(draw(st.dictionaries(extension_names, short_text, max_size=3)))
    return CloudEvent(**fields)


@settings(database=None)  # no example database on disk: unit tests do no I/O
@given(envelopes())
def test_decode_of_encode_is_identity(event: CloudEvent) -> None:
    decoded = decode_kafka_record(event.to_json_bytes(), event.kafka_headers())
    assert decoded == event
    assert decoded.model_extra == event.model_extra
    assert decoded.time.utcoffset() == timedelta(0)


@settings(database=None)  # no example database on disk: unit tests do no I/O
@given(envelopes())
def test_encoding_is_stable(event: CloudEvent) -> None:
    once = event.to_json_bytes()
    assert decode_kafka_record(once, None).to_json_bytes() == once


@settings(database=None)  # no example database on disk: unit tests do no I/O
@given(aware_times)
def test_time_keeps_its_instant_and_becomes_utc(time: datetime) -> None:
    event = CloudEvent(id="e", source="/x", type="crm.sales.x", time=time, data={})
    decoded = decode_kafka_record(event.to_json_bytes(), None)
    assert decoded.time == time
    assert decoded.time.astimezone(UTC).replace(tzinfo=None) == decoded.time.replace(tzinfo=None)
