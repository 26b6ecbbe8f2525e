"""Contract tests: a change that would make already-published events unreadable fails here.

* Committed schemas (``contracts/schemas``) are the published contract. The models may
  only grow them additively (a new optional property); anything else needs a new schema
  version and an upcaster. Even an additive change must be committed (``make schemas``).
* Every registered (type, version) has committed examples in ``contracts/examples``. They
  are never deleted: each must still validate against its committed schema and parse
  into the current model (through the upcasters), which is "old events stay readable".
* Topic catalogue and event naming rules.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import contracts
from contracts.compatibility import compare_schemas
from contracts.registry import DomainEvent, is_sealed_version, parse_data
from contracts.schema_files import SCHEMA_DIR, generated_schemas, render, schema_file
from contracts.topics import TOPICS, topic_for_context
from services.platform.privacy.codec import open_data
from tests.example_keys import EXAMPLE_DATA_KEY

EXAMPLES_DIR = Path(contracts.__file__).parent / "examples"
ENVELOPE_SCHEMA = SCHEMA_DIR / "cloudevent.json"

BREAKING_HINT = "breaking change to a published schema: add version N+1 and an upcaster"
OUT_OF_DATE_HINT = "schemas out of date: run make schemas to commit the additive change"
MISSING_HINT = "no committed schema: run make schemas and commit the new file"


# --- the checker itself, on hand-made schemas ----------------------------------------

MONEY_DEF = {
    "type": "object",
    "properties": {"amount": {"type": "string"}, "currency": {"type": "string"}},
    "required": ["amount", "currency"],
}
BASE: dict[str, Any] = {
    "$defs": {"Money": MONEY_DEF},
    "type": "object",
    "title": "PurchaseMade",
    "properties": {
        "order_id": {"type": "string", "format": "uuid"},
        "total": {"$ref": "#/$defs/Money"},
        "channel": {"type": "string", "default": "direct"},
    },
    "required": ["order_id", "total"],
    "x-event-type": "crm.sales.purchase_made",
    "x-schema-version": 1,
}


_DELETE = object()


def _changed(**updates: Any) -> dict[str, Any]:
    schema = json.loads(json.dumps(BASE))
    for path, value in updates.items():
        *parents, leaf = path.split("__")
        node = schema
        for part in parents:
            node = node[part]
        if value is _DELETE:
            del node[leaf]
        else:
            node[leaf] = value
    return schema


def test_checker_sees_identical_schemas_as_identical() -> None:
    assert compare_schemas(BASE, _changed()).identical


def test_checker_flags_a_removed_field_as_breaking() -> None:
    diff = compare_schemas(BASE, _changed(properties__channel=_DELETE))
    assert any("'channel' removed" in reason for reason in diff.breaking)


def test_checker_flags_a_changed_type_as_breaking() -> None:
    diff = compare_schemas(BASE, _changed(properties__channel={"type": "integer"}))
    assert any("'channel' changed" in reason for reason in diff.breaking)


def test_checker_flags_a_new_required_field_as_breaking() -> None:
    new = _changed(properties__store={"type": "string"}, required=["order_id", "total", "store"])
    diff = compare_schemas(BASE, new)
    assert any("'store' became required" in reason for reason in diff.breaking)


def test_checker_flags_an_existing_field_becoming_required_as_breaking() -> None:
    diff = compare_schemas(BASE, _changed(required=["order_id", "total", "channel"]))
    assert diff.breaking


def test_checker_flags_a_change_inside_a_referenced_definition_as_breaking() -> None:
    money = {
        **MONEY_DEF,
        "properties": {"amount": {"type": "number"}, "currency": {"type": "string"}},
    }
    diff = compare_schemas(BASE, _changed(**{"$defs__Money": money}))
    assert any("'Money'" in reason for reason in diff.breaking)


def test_checker_flags_a_changed_identity_as_breaking() -> None:
    assert compare_schemas(BASE, _changed(**{"x-event-type": "crm.sales.order_paid"})).breaking


def test_checker_sees_a_new_optional_field_as_additive_only() -> None:
    diff = compare_schemas(BASE, _changed(properties__coupon={"type": "string", "default": None}))
    assert diff.breaking == []
    assert diff.additive == ["new optional property 'coupon'"]


def test_checker_sees_a_new_unreferenced_definition_as_additive_only() -> None:
    new = _changed(**{"$defs__Address": {"type": "object"}})
    new["properties"]["ship_to"] = {"$ref": "#/$defs/Address"}
    diff = compare_schemas(BASE, new)
    assert diff.breaking == []
    assert diff.additive


def test_checker_flags_a_removed_field_in_a_real_published_schema() -> None:
    committed = json.loads(schema_file("crm.sales.opportunity_opened", 1).read_text())
    generated = json.loads(json.dumps(committed))
    del generated["properties"]["title"]
    generated["required"].remove("title")
    assert compare_schemas(committed, generated).breaking


def test_checker_sees_a_changed_title_as_additive_only() -> None:
    diff = compare_schemas(BASE, _changed(title="Purchase"))
    assert diff.breaking == [] and diff.additive


# --- committed schemas against the models --------------------------------------------

GENERATED = generated_schemas()
COMMITTED_FILES = sorted(SCHEMA_DIR.glob("*.json"))


def _load(path: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


@pytest.mark.parametrize("path", sorted(GENERATED), ids=lambda p: p.name)
def test_every_generated_schema_is_committed(path: Path) -> None:
    assert path.exists(), f"{path.name}: {MISSING_HINT}"


@pytest.mark.parametrize("path", COMMITTED_FILES, ids=lambda p: p.name)
def test_every_published_schema_is_still_generated_by_a_model(path: Path) -> None:
    assert path in GENERATED, (
        f"{path.name} is published but no registered model generates it any more; "
        "events written with it would become unreadable"
    )


@pytest.mark.parametrize(
    "path", [p for p in COMMITTED_FILES if p in GENERATED], ids=lambda p: p.name
)
def test_committed_schema_matches_the_model(path: Path) -> None:
    committed, generated = _load(path), GENERATED[path]
    diff = compare_schemas(committed, generated)
    assert not diff.breaking, f"{path.name}: {BREAKING_HINT}: " + "; ".join(diff.breaking)
    assert not diff.additive, f"{path.name}: {OUT_OF_DATE_HINT}: " + "; ".join(diff.additive)
    assert path.read_text(encoding="utf-8") == render(generated), (
        f"{path.name}: {OUT_OF_DATE_HINT} (formatting)"
    )


@pytest.mark.parametrize("path", COMMITTED_FILES, ids=lambda p: p.name)
def test_committed_schemas_are_valid_draft_2020_12(path: Path) -> None:
    Draft202012Validator.check_schema(_load(path))


# --- examples: old events stay readable ----------------------------------------------

REGISTERED = contracts.registered_types()


def _examples(path: Path) -> list[dict[str, Any]]:
    loaded = json.loads(path.read_text(encoding="utf-8"))
    examples = loaded if isinstance(loaded, list) else [loaded]
    assert examples, f"{path.name} holds no example"
    assert all(isinstance(e, dict) for e in examples), f"{path.name}: examples are objects"
    return examples


_EXAMPLE_NAME = re.compile(r"^(?P<type>.+)\.v(?P<version>[1-9][0-9]*)\.json$")
EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("*.json"))


@pytest.mark.parametrize(("event_type", "version"), sorted(REGISTERED), ids=lambda v: str(v))
def test_every_registered_event_has_a_committed_example(event_type: str, version: int) -> None:
    path = EXAMPLES_DIR / f"{event_type}.v{version}.json"
    assert path.exists(), f"add at least one example of {event_type} v{version} at {path}"
    assert _examples(path)


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_validates_against_its_committed_schema_and_parses(path: Path) -> None:
    match = _EXAMPLE_NAME.match(path.name)
    assert match, f"{path.name}: examples are named <type>.v<version>.json"
    event_type, version = match["type"], int(match["version"])
    schema_path = schema_file(event_type, version)
    assert schema_path.exists(), f"{path.name}: no committed schema {schema_path.name}"
    validator = Draft202012Validator(
        _load(schema_path), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    latest = contracts.event_class(event_type)
    for index, example in enumerate(_examples(path)):
        errors = [e.message for e in validator.iter_errors(example)]
        assert not errors, f"{path.name}[{index}] violates {schema_path.name}: {errors}"
        if is_sealed_version(event_type, version):
            exposed = set(latest.personal_fields) & set(example)
            assert not exposed, f"{path.name}[{index}] carries personal fields in plain text"
            example = open_data(event_type, example, {example["personal"]["subject"]:
                                                      EXAMPLE_DATA_KEY})  # fmt: skip
        event = parse_data(event_type, version, example)
        assert type(event) is latest, f"{path.name}[{index}] must parse into {latest.__name__}"


def test_there_are_examples_at_all() -> None:
    # Guards the parametrized test above against an empty or misplaced directory.
    assert len(EXAMPLE_FILES) >= len(REGISTERED) > 0


# --- topics and naming ---------------------------------------------------------------

EVENT_TYPE_NAME = re.compile(r"^crm\.(?P<context>[a-z][a-z0-9]*)\.[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


def test_topic_names_are_unique() -> None:
    names = [topic.name for topic in TOPICS]
    assert len(names) == len(set(names)), f"duplicate topic names in {names}"


@pytest.mark.parametrize(("key", "cls"), sorted(REGISTERED.items()), ids=lambda v: str(v))
def test_every_event_context_maps_to_a_catalogued_topic(
    key: tuple[str, int], cls: type[DomainEvent]
) -> None:
    topic = topic_for_context(cls.context)
    assert topic in TOPICS


@pytest.mark.parametrize(("key", "cls"), sorted(REGISTERED.items()), ids=lambda v: str(v))
def test_event_type_names_follow_crm_context_snake_case(
    key: tuple[str, int], cls: type[DomainEvent]
) -> None:
    match = EVENT_TYPE_NAME.match(cls.event_type)
    assert match, f"{cls.event_type!r} is not crm.<context>.<snake_case>"
    assert match["context"] == cls.context, f"{cls.event_type!r} is not in context {cls.context!r}"
    plain_before_sealing = key[1] == cls.sealed_since - 1 and bool(cls.personal_fields)
    assert key == (cls.event_type, cls.schema_version) or plain_before_sealing


def test_each_model_is_registered_under_one_type_name_only() -> None:
    # One model may serve two wire versions of its type: the plain one published before
    # its personal fields were sealed, and the sealed one (contracts.personal).
    types_by_model: dict[type[DomainEvent], set[str]] = {}
    for (event_type, _), cls in REGISTERED.items():
        types_by_model.setdefault(cls, set()).add(event_type)
    shared = {cls.__name__: names for cls, names in types_by_model.items() if len(names) > 1}
    assert not shared, f"one model registered under several names: {shared}"


def test_all_versions_of_an_event_type_belong_to_one_context() -> None:
    contexts: dict[str, set[str]] = {}
    for (event_type, _), cls in REGISTERED.items():
        contexts.setdefault(event_type, set()).add(cls.context)
    mixed = {t: c for t, c in contexts.items() if len(c) > 1}
    assert not mixed, f"an event type must not change context between versions: {mixed}"


def test_versions_of_each_event_type_are_contiguous_from_one() -> None:
    versions: dict[str, list[int]] = {}
    for event_type, version in REGISTERED:
        versions.setdefault(event_type, []).append(version)
    gaps = {t: sorted(v) for t, v in versions.items() if sorted(v) != list(range(1, len(v) + 1))}
    assert not gaps, f"schema versions must run 1..N without gaps: {gaps}"


def test_the_envelope_schema_is_committed() -> None:
    assert ENVELOPE_SCHEMA.exists(), f"cloudevent.json: {MISSING_HINT}"
