"""The gateway's view of plugged contexts: operations, roles and the merged document."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.catalogue import Context
from services.gateway.openapi import gateway_document
from services.gateway.plugged import plug, route_roles

CONTEXT = Context(
    name="probe", source="/crm/probe", topic="t", schema="probe", url_setting="CRM_X_URL",
    default_url="http://probe:1", http_contract="probe.v1.json", path_prefix="/v1/probe",
)  # fmt: skip
MONEY_THEIRS = {"type": "object", "properties": {"cents": {"type": "integer"}}}
DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/notes/{note_id}": {
            "get": {
                "operationId": "read_note",
                "x-crm-roles": ["admin", "analyst"],
                "responses": {"200": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Money"}}}}},
            },
        },
        "/notes": {"post": {"responses": {}}},  # no roles named
    },
    "components": {"schemas": {"Money": MONEY_THEIRS}},
}  # fmt: skip


def test_operations_sit_under_the_prefix_with_their_contracts_roles() -> None:
    plugged = plug(CONTEXT, DOCUMENT)
    found = {op.route_id: op.roles for op in plugged.operations}
    assert found == {
        "GET /v1/probe/notes/{note_id}": frozenset({"admin", "analyst"}),
        "POST /v1/probe/notes": frozenset(),  # refused to everyone until decided
    }
    [read] = [op for op in plugged.operations if op.method == "GET"]
    assert read.pattern.match("/v1/probe/notes/n-1") and not read.pattern.match("/v1/notes/n")


def test_the_url_comes_from_an_override_else_the_setting_else_the_default() -> None:
    plugged = plug(CONTEXT, DOCUMENT)
    assert plugged.base_url({"probe": "http://a"}, {"CRM_X_URL": "http://b"}) == "http://a"
    assert plugged.base_url({}, {"CRM_X_URL": "http://b"}) == "http://b"
    assert plugged.base_url({}, {}) == "http://probe:1"


def test_a_route_served_twice_is_an_error() -> None:
    own = {"GET /v1/probe/notes/{note_id}": frozenset({"admin"})}
    with pytest.raises(ValueError, match="served twice"):
        route_roles(own, [plug(CONTEXT, DOCUMENT)])


def test_the_merged_document_keeps_both_components_of_one_name() -> None:
    ours = {"type": "object", "properties": {"amount": {"type": "string"}}}
    own = {"openapi": "3.1.0", "paths": {}, "components": {"schemas": {"Money": ours}}}
    document = gateway_document(own, [plug(CONTEXT, DOCUMENT)])
    schemas = document["components"]["schemas"]
    assert schemas["Money"] == ours and schemas["probe.Money"] == MONEY_THEIRS
    operation = document["paths"]["/v1/probe/notes/{note_id}"]["get"]
    answer = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert answer == {"$ref": "#/components/schemas/probe.Money"}
    assert operation["operationId"] == "probe_read_note"
    assert {"401", "403", "429", "503"} <= set(operation["responses"])
    assert [p["name"] for p in operation["parameters"]] == ["X-Correlation-Id"]
