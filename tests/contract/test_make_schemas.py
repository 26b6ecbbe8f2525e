"""`make schemas` writes additive changes and refuses to rewrite a published schema."""

from __future__ import annotations

import json

import pytest

from contracts import schema_files


@pytest.fixture
def published(tmp_path, monkeypatch):
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    monkeypatch.setattr(schema_files, "SCHEMA_DIR", schemas)
    monkeypatch.setattr(schema_files, "ASYNCAPI_FILE", tmp_path / "asyncapi.json")
    monkeypatch.setattr(schema_files, "asyncapi_document", lambda: {"asyncapi": "3.0.0"})
    committed = {
        "type": "object",
        "properties": {"order_id": {"type": "string"}},
        "required": ["order_id"],
    }
    (schemas / "x.v1.json").write_text(schema_files.render(committed))
    return schemas, committed


def test_an_additive_change_is_written(published, monkeypatch):
    schemas, committed = published
    grown = {**committed, "properties": {**committed["properties"], "note": {"type": "string"}}}
    monkeypatch.setattr(schema_files, "generated_schemas", lambda: {schemas / "x.v1.json": grown})
    assert schemas / "x.v1.json" in schema_files.write_all()
    assert json.loads((schemas / "x.v1.json").read_text()) == grown


def test_a_breaking_change_is_refused_and_nothing_is_written(published, monkeypatch):
    schemas, committed = published
    broken = {**committed, "properties": {"order_id": {"type": "integer"}}}
    monkeypatch.setattr(schema_files, "generated_schemas", lambda: {schemas / "x.v1.json": broken})
    with pytest.raises(schema_files.BreakingSchemaChange, match="order_id"):
        schema_files.write_all()
    assert json.loads((schemas / "x.v1.json").read_text()) == committed
