"""Generated JSON Schemas of every contract, committed under ``contracts/schemas/``.

Regenerate with ``python -m contracts.schema_files`` (``make schemas``). The contract
tests compare what is committed with what the models generate, so a change that would
make already-published events unreadable fails before it ships.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import contracts
from contracts.envelope import CloudEvent

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
        schema["$id"] = f"urn:crm:schema:{event_type}:v{version}"
        schema["x-event-type"] = event_type
        schema["x-schema-version"] = version
        schema["x-context"] = cls.context
        out[schema_file(event_type, version)] = schema
    return out


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def write_all() -> list[Path]:
    """Write schemas that are new. Existing files are left alone unless only additive."""
    SCHEMA_DIR.mkdir(exist_ok=True)
    written = []
    for path, schema in generated_schemas().items():
        text = render(schema)
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            written.append(path)
    return written


if __name__ == "__main__":
    for p in write_all():
        print(f"wrote {p}")
