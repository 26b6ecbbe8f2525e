"""``POST /v1/events``: other systems publish CloudEvents through the gateway."""

from __future__ import annotations

from typing import Any

from aiokafka.errors import KafkaError
from fastapi import Request

from services.gateway import events as external_events
from services.gateway.access import CurrentPrincipal, runtime_of
from services.gateway.errors import GatewayProblem, unavailable


async def publish_events(principal: CurrentPrincipal, request: Request) -> Any:
    """Publish CloudEvents from another system: one event, or a batch of up to 500.

    Each is validated against `contracts/` (envelope, type, schema version, data) and the
    valid ones are published to `crm.external.events`, their personal fields sealed with
    the subject's key (a subject already erased refuses the event); the answer says event
    by event what happened. A single invalid event answers 422; re-sending an event is safe."""
    runtime = runtime_of(request)
    items, batch = external_events.read_events(
        await request.body(), request.headers.get("content-type", ""),
        runtime.settings.max_batch_events,
    )  # fmt: skip
    try:
        producer = await runtime.producer.get()
        return await external_events.publish(
            producer, runtime.settings.events_topic, items, batch,
            request.scope["state"].get("correlation_id"), principal.sources,
            runtime.data_keys,
        )  # fmt: skip
    except GatewayProblem as exc:
        if exc.status == 503:
            await runtime.producer.drop()
        raise
    except KafkaError:
        await runtime.producer.drop()
        raise unavailable("the event backbone") from None
