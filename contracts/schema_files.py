"""Generated JSON Schemas of every contract, committed under ``contracts/schemas/``.

Regenerate with ``python -m contracts.schema_files`` (``make schemas``). The contract
tests compare what is committed with what the models generate, so a change that would
make already-published events unreadable fails before it ships.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import contracts
from contracts.envelope import CloudEvent
from contracts.personal import sealed_schema
from contracts.registry import is_sealed_version

if TYPE_CHECKING:
    from contracts.compatibility import SchemaDiff

SCHEMA_DIR = Path(__file__).parent / "schemas"


def schema_file(event_type: str, version: int) -> Path:
    return SCHEMA_DIR / f"{event_type}.v{version}.json"


def generated_schemas() -> dict[Path, dict[str, Any]]:
    """Every schema as the current models generate it, keyed by its committed path."""
    out: dict[Path, dict[str, Any]] = {
        SCHEMA_DIR / "cloudevent.json": CloudEvent.model_json_schema()
    }
    for (event_type, version), cls in sorted(contracts.registered_types().items()):
        schema = cls.model_json_schema(mode="serialization")
        if is_sealed_version(event_type, version):
            schema = sealed_schema(cls, schema)
        schema["$id"] = f"urn:crm:schema:{event_type}:v{version}"
        schema["x-event-type"] = event_type
        schema["x-schema-version"] = version
        schema["x-context"] = cls.context
        out[schema_file(event_type, version)] = schema
    return out


ASYNCAPI_FILE = Path(__file__).parent / "asyncapi.json"


def asyncapi_document() -> dict[str, Any]:
    """AsyncAPI 3.0 description of the topics and the events each carries."""
    from contracts.topics import TOPICS, topic_for_context

    messages: dict[str, Any] = {}
    by_topic: dict[str, dict[str, Any]] = {t.name: {} for t in TOPICS}
    for (event_type, version), cls in sorted(contracts.registered_types().items()):
        name = f"{event_type}.v{version}"
        messages[name] = {
            "name": event_type,
            "title": cls.__name__,
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"schemas/{schema_file(event_type, version).name}"},
            "x-schema-version": version,
        }
        by_topic[topic_for_context(cls.context).name][name] = {
            "$ref": f"#/components/messages/{name}"
        }
    external = by_topic["crm.external.events"]
    for topic in ("crm.sales.events", "crm.support.events"):
        external.update(by_topic[topic])  # other systems publish the same contracts
    channels = {
        topic.name: {
            "address": topic.name,
            "description": f"{topic.description}. {topic.partitions} partitions; key: "
            "customer id, else stream id; CloudEvents 1.0 structured mode.",
            "messages": by_topic[topic.name],
        }
        for topic in TOPICS
    }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "OpenCRM event backbone",
            "version": "1.0.0",
            "description": "Domain events of the CRM's bounded contexts on Apache Kafka. "
            "Every record is a CloudEvent (contracts/schemas/cloudevent.json) whose data "
            "follows the event's own schema.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "components": {"messages": messages},
    }


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


class BreakingSchemaChange(Exception):
    """A model change would rewrite a published schema incompatibly."""


def write_all() -> list[Path]:
    """Write new schemas and additive changes; refuse to rewrite a published one breakingly."""
    from contracts.compatibility import compare_schemas

    SCHEMA_DIR.mkdir(exist_ok=True)
    files = {**generated_schemas(), ASYNCAPI_FILE: asyncapi_document()}
    schemas = {path: schema for path, schema in files.items() if path.parent == SCHEMA_DIR}
    breaking = breaking_rewrites(schemas, compare_schemas)
    if breaking:
        raise BreakingSchemaChange(
            "published schemas would change incompatibly; add version N+1 and an upcaster "
            "instead:\n  " + "\n  ".join(breaking)
        )
    return write_changed(files)


def breaking_rewrites(
    documents: dict[Path, dict[str, Any]],
    compare: Callable[[dict[str, Any], dict[str, Any]], SchemaDiff],
) -> list[str]:
    """Why writing ``documents`` over the published files would break their readers
    (empty: every change is additive). Shared by event schemas and HTTP contracts."""
    return [
        f"{path.name}: {reason}"
        for path, document in documents.items()
        if path.exists()
        for reason in compare(json.loads(path.read_text()), document).breaking
    ]


def write_changed(documents: dict[Path, dict[str, Any]]) -> list[Path]:
    """Write each document whose file is missing or differs; the paths written."""
    written = []
    for path, document in documents.items():
        text = render(document)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


if __name__ == "__main__":
    try:
        for p in write_all():
            print(f"wrote {p}")
    except BreakingSchemaChange as exc:
        raise SystemExit(str(exc)) from None
