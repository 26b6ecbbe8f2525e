"""The CloudEvents 1.0 envelope every event travels in, with the CRM's extensions.

Wire format: JSON, CloudEvents *structured mode* (the whole envelope is the Kafka record
value, header ``content-type: application/cloudevents+json``). Readers also accept
*binary mode* (``ce_*`` headers, value = data) so any CloudEvents SDK can publish.
Extension attribute names follow the CloudEvents rule: lower-case letters and digits.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


class EnvelopeError(ValueError):
    """The bytes on the wire are not a CloudEvent this system can read."""


class CloudEvent(BaseModel):
    """CloudEvents 1.0 attributes plus the CRM's extensions.

    Other extensions (e.g. ``traceparent``) are kept as the spec requires.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=200, description="Unique per source; a UUID here")
    source: str = Field(
        min_length=1, max_length=500, description="URI-reference of the producer, e.g. /crm/sales"
    )
    type: str = Field(
        min_length=1, max_length=200, description="Event type, e.g. crm.sales.deal_stage_changed"
    )
    time: AwareDatetime = Field(description="When the fact occurred (UTC)")
    subject: str | None = Field(default=None, max_length=500)
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    # CRM extensions
    schemaversion: int = Field(default=1, ge=1, description="Version of the data's schema")
    streamid: str | None = Field(default=None, max_length=200)
    streamversion: int | None = Field(default=None, ge=1)
    customerid: str | None = Field(default=None, max_length=200)
    correlationid: str | None = Field(default=None, max_length=200)
    causationid: str | None = Field(default=None, max_length=200)
    data: dict[str, Any]

    @field_validator("time")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        try:
            return value.astimezone(UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 has no UTC datetime
            raise ValueError("time is outside the representable range in UTC") from None

    def to_json_bytes(self) -> bytes:
        """Structured-mode serialisation."""
        return orjson.dumps(self.model_dump(mode="json", exclude_none=True))

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        return [("content-type", STRUCTURED_CONTENT_TYPE.encode())]

    @property
    def event_uuid(self) -> UUID | None:
        try:
            return UUID(self.id)
        except ValueError:
            return None


def partition_key(event: CloudEvent) -> bytes:
    """Kafka key policy: the customer id where the event has one, else the stream id.

    Keeping every event of one customer on one partition keeps their order for every
    consumer; events of no customer keep their stream's order instead.
    """
    return (event.customerid or event.streamid or event.id).encode()


def decode_kafka_record(value: bytes | None, headers: list[tuple[str, bytes]] | None) -> CloudEvent:
    """Read a CloudEvent from a Kafka record in structured or binary mode."""
    header_map = {k.lower(): v for k, v in (headers or [])}
    try:
        if "ce_specversion" in header_map:
            attributes: dict[str, Any] = {
                k[3:]: v.decode() for k, v in header_map.items() if k.startswith("ce_")
            }
            for int_attr in ("schemaversion", "streamversion"):
                if int_attr in attributes:
                    attributes[int_attr] = int(attributes[int_attr])
            attributes["data"] = orjson.loads(value) if value else {}
            return CloudEvent.model_validate(attributes)
        if value is None:
            raise EnvelopeError("record has no value (tombstone) and no ce_ headers")
        return CloudEvent.model_validate(orjson.loads(value))
    except EnvelopeError:
        raise
    except (ValueError, UnicodeDecodeError) as exc:  # pydantic ValidationError is a ValueError
        raise EnvelopeError(f"not a valid CloudEvent: {exc}") from exc
