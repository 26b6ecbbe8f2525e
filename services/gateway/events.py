"""``POST /v1/events``: other systems publish CloudEvents over HTTP.

One event (``application/cloudevents+json`` or ``application/json`` with an object) or a
batch (``application/cloudevents-batch+json`` or ``application/json`` with an array).
Each event is validated against its contract (``contracts/``: envelope, type, schema
version, data); valid ones are published to the external topic (acks from every
in-sync replica before the answer) and the answer says, event by event, what happened.
A single invalid event is a 422 problem; in a batch, invalid events are refused and the
valid ones are still published. Re-sending an event is safe: consumers skip an event
whose (source, id) they already applied.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from pydantic import BaseModel, Field, ValidationError

import contracts
from contracts.envelope import CloudEvent, partition_key
from contracts.registry import DomainEvent, parse_data
from contracts.topics import RESERVED_SOURCE_PREFIX, external_refusal
from services.gateway.errors import GatewayProblem
from services.platform.logging import get_logger
from services.platform.privacy.codec import seal_cloudevents
from services.platform.privacy.data_keys import SubjectErased, SubjectKeys

log = get_logger(__name__)

BATCH_TYPE = "application/cloudevents-batch+json"
MAX_EVENT_BYTES = 256 * 1024
"""As the event store's limit: an event that size always fits a Kafka record."""


class EventResult(BaseModel):
    index: int = Field(description="Position in the request (0 for a single event)")
    id: str | None = None
    source: str | None = None
    status: Literal["accepted", "rejected"]
    problem: dict[str, Any] | None = Field(
        None, description="Why it was refused: an RFC 9457 problem naming the fields"
    )


class EventsAnswer(BaseModel):
    accepted: int
    rejected: int
    results: list[EventResult]


def _cloud_event_schema() -> dict[str, Any]:
    schema = CloudEvent.model_json_schema()
    schema.pop("title", None)
    # only the contracts' event types are accepted (their data: contracts/schemas)
    known = sorted({event_type for event_type, _ in contracts.registered_types()})
    schema["properties"]["type"] = {**schema["properties"]["type"], "enum": known}
    return schema


_BATCH: dict[str, Any] = {
    "type": "array", "minItems": 1, "maxItems": 500,
    # Anything: each item is validated on its own and answered in the batch's results
    # (a batch is never refused for one invalid event), so no item is refused here.
    "items": {"description": "A CloudEvent (see the single-event form); each is answered"},
}  # fmt: skip
REQUEST_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        media: {
            "schema": (
                _BATCH
                if media == BATCH_TYPE
                else {"oneOf": [_cloud_event_schema(), _BATCH]}
            ),
            "example": {
                "specversion": "1.0", "id": "6f1c2f4e-0f55-4d55-9d43-2d2b6f1b7a11",
                "source": "urn:shop:loja-1", "type": "crm.sales.purchase_made",
                "time": "2026-11-25T10:00:00Z", "customerid": "customer-42",
                "data": {"order_id": "0b8f1c0e-5d4e-4f6a-9a57-3a2f4f8f4c11",
                         "customer_id": "customer-42",
                         "total": {"amount": "99.90", "currency": "BRL"}, "channel": "web"},
            } if media != BATCH_TYPE else None,
        }
        for media in ("application/cloudevents+json", BATCH_TYPE, "application/json")
    },
}  # fmt: skip
for _media in REQUEST_BODY["content"].values():
    if _media.get("example") is None:
        _media.pop("example", None)


def _problem(detail: str, errors: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "https://opencrm.dev/problems/invalid-event",
        "title": "Invalid event",
        "status": 422,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return body


def validate_event(
    item: Any, correlation_id: str | None, allowed_sources: frozenset[str] = frozenset()
) -> tuple[CloudEvent, DomainEvent] | dict[str, Any]:
    """The event ready to publish (its envelope and its validated data), or the problem
    saying why it is refused."""
    if not isinstance(item, dict):
        return _problem("an event must be a JSON object (a CloudEvent)")
    try:
        # strict, as JSON: a time or a version of the wrong JSON type is refused, as the
        # document says, rather than coerced (0 is not a time)
        envelope = CloudEvent.model_validate_json(orjson.dumps(item), strict=True)
    except ValidationError as exc:
        return _problem("not a valid CloudEvent", _field_errors(exc))
    try:
        event = parse_data(envelope.type, envelope.schemaversion, envelope.data)
    except ValidationError as exc:
        return _problem(
            f"data does not match the contract of {envelope.type!r}",
            _field_errors(exc, prefix="data."),
        )
    except Exception as exc:  # unknown type or schema version
        return _problem(str(exc), [{"field": "type", "message": str(exc), "type": "unknown"}])
    refusal = external_refusal(envelope.type, envelope.source)
    if refusal is not None:
        field = "source" if envelope.source.startswith(RESERVED_SOURCE_PREFIX) else "type"
        return _problem(refusal, [{"field": field, "message": refusal, "type": "refused"}])
    if allowed_sources and envelope.source not in allowed_sources:
        detail = f"this API key may publish from {', '.join(sorted(allowed_sources))} only"
        return _problem(detail, [{"field": "source", "message": detail, "type": "refused"}])
    if len(orjson.dumps(item)) > MAX_EVENT_BYTES:
        detail = f"an event may be at most {MAX_EVENT_BYTES} bytes"
        return _problem(detail, [{"field": "body", "message": detail, "type": "too-large"}])
    update: dict[str, Any] = {}
    if envelope.customerid is None and event.customer():
        update["customerid"] = event.customer()  # key by customer: their events keep order
    if envelope.correlationid is None and correlation_id:
        update["correlationid"] = correlation_id
    return (envelope.model_copy(update=update) if update else envelope), event


async def _sealed(
    keys: SubjectKeys, validated: list[tuple[CloudEvent, DomainEvent] | dict[str, Any]]
) -> list[CloudEvent | dict[str, Any]]:
    """Valid events sealed for publishing; an event of an erased subject is refused (409),
    the rest of a batch still goes."""
    events = [item for item in validated if not isinstance(item, dict)]
    try:
        sealed = iter(await seal_cloudevents(keys, events))
        return [item if isinstance(item, dict) else next(sealed) for item in validated]
    except SubjectErased:
        pass  # one by one, to refuse just the erased subjects' events
    out: list[CloudEvent | dict[str, Any]] = []
    for item in validated:
        if isinstance(item, dict):
            out.append(item)
            continue
        try:
            out.extend(await seal_cloudevents(keys, [item]))
        except SubjectErased as exc:
            detail = f"{exc}: the CRM keeps no new personal data about this subject"
            problem = _problem(detail, [{"field": "customerid", "message": detail,
                                         "type": "erased"}])  # fmt: skip
            out.append({**problem, "status": 409, "title": "Personal data erased",
                        "type": "https://opencrm.dev/problems/personal-data-erased"})  # fmt: skip
    return out


def _field_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, Any]]:
    return [
        {
            "field": prefix + ".".join(str(p) for p in e["loc"]) if e["loc"] else prefix or "body",
            "message": e["msg"],
            "type": e["type"],
        }
        for e in exc.errors()
    ]


def read_events(body: bytes, content_type: str, max_events: int) -> tuple[list[Any], bool]:
    """The events of a request body and whether it was a batch; problems for bad bodies."""
    ctype = content_type.split(";")[0].strip().lower()
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise GatewayProblem(400, "Malformed JSON", str(exc), "malformed") from None
    batch = isinstance(parsed, list)
    if ctype == BATCH_TYPE and not batch:
        raise GatewayProblem(422, "Invalid request", f"{BATCH_TYPE} needs a JSON array",
                             "validation")  # fmt: skip
    items = parsed if batch else [parsed]
    if not items:
        raise GatewayProblem(422, "Invalid request", "the batch is empty", "validation")
    if len(items) > max_events:
        # 422, not 413: the batch breaks the document's maxItems, like any other field
        raise GatewayProblem(422, "Too many events", f"at most {max_events} events per request",
                             "too-many-events")  # fmt: skip
    return items, batch


async def publish(
    producer: AIOKafkaProducer,
    topic: str,
    items: list[Any],
    batch: bool,
    correlation_id: str | None,
    allowed_sources: frozenset[str],
    keys: SubjectKeys,
) -> EventsAnswer:
    """Validate each event, seal its personal fields, publish the valid ones (acks=all),
    answer event by event."""
    validated = [validate_event(item, correlation_id, allowed_sources) for item in items]
    checked = await _sealed(keys, validated)
    first = checked[0]
    if not batch and not isinstance(first, CloudEvent):
        raise GatewayProblem(
            first["status"], first["title"], first["detail"], "invalid-event",
            extra={"errors": first.get("errors", [])},
        )  # fmt: skip
    outcomes: dict[int, BaseException | None] = {}
    valid = [(i, e) for i, e in enumerate(checked) if isinstance(e, CloudEvent)]
    try:
        sends = [
            await producer.send(
                topic, envelope.to_json_bytes(), key=partition_key(envelope),
                headers=envelope.kafka_headers(),
            )
            for _, envelope in valid
        ]  # fmt: skip
    except KafkaError as exc:
        log.warning("gateway.publish_failed", error=repr(exc))
        raise GatewayProblem(
            503, "Could not publish", "the event backbone did not take the events; re-sending "
            "the same events is safe", "unavailable", {"Retry-After": "1"},
        ) from exc  # fmt: skip
    acks = await asyncio.gather(*sends, return_exceptions=True)
    for (index, _), ack in zip(valid, acks, strict=True):
        outcomes[index] = ack if isinstance(ack, BaseException) else None
    failed = [index for index, error in outcomes.items() if error is not None]
    if failed and len(failed) == len(valid):
        log.warning("gateway.publish_failed", error=repr(outcomes[failed[0]]))
        raise GatewayProblem(
            503, "Could not publish", "the event backbone did not acknowledge; re-sending "
            "the same events is safe", "unavailable", {"Retry-After": "1"},
        )  # fmt: skip
    results = []
    for index, outcome in enumerate(checked):
        if isinstance(outcome, CloudEvent) and outcomes.get(index) is None:
            results.append(EventResult(index=index, id=outcome.id, source=outcome.source,
                                       status="accepted"))  # fmt: skip
            continue
        if isinstance(outcome, CloudEvent):  # valid, but the broker did not acknowledge it
            outcome = {
                "type": "https://opencrm.dev/problems/unavailable", "title": "Not published",
                "status": 503, "detail": "the event backbone did not acknowledge this event; "
                "re-send it",
            }  # fmt: skip
        item = items[index] if isinstance(items[index], dict) else {}
        ident, source = item.get("id"), item.get("source")
        results.append(EventResult(
            index=index, id=ident if isinstance(ident, str) else None,
            source=source if isinstance(source, str) else None,
            status="rejected", problem=outcome,
        ))  # fmt: skip
    accepted = sum(1 for r in results if r.status == "accepted")
    return EventsAnswer(accepted=accepted, rejected=len(items) - accepted, results=results)
