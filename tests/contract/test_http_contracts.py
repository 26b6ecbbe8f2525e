"""Contract tests of each context's HTTP contract (``contracts/http/<context>.vN.json``).

* The committed document is what the service generates today (a drift fails: run
  ``make schemas``), with roles for every operation.
* A published document only changes additively: new operations, new optional fields,
  new answers. Removing an operation, a field or an answer, or changing a type, is
  breaking and needs a new version file.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from contracts.catalogue import CONTEXTS, Context
from contracts.http_contracts import (
    ROLES_KEY,
    RolesMismatch,
    compare_http_contracts,
    operations,
    render,
    with_roles,
)
from deploy import http_contracts
from services.gateway.policy import ROLES

OUT_OF_DATE = "HTTP contract out of date: run make schemas and commit it"
PLUGGED = [c for c in CONTEXTS if c.http_app]


@pytest.mark.parametrize("context", PLUGGED, ids=lambda c: c.name)
def test_the_committed_contract_is_what_the_service_generates(context: Context) -> None:
    assert context.contract_file.exists(), OUT_OF_DATE
    committed = json.loads(context.contract_file.read_text())
    generated = http_contracts.generated_contract(context)
    diff = compare_http_contracts(committed, generated)
    assert diff.breaking == [], "breaking change to a published HTTP contract: add vN+1"
    assert context.contract_file.read_text() == render(generated), OUT_OF_DATE


@pytest.mark.parametrize("context", PLUGGED, ids=lambda c: c.name)
def test_every_operation_names_known_roles_and_admin(context: Context) -> None:
    document = json.loads(context.contract_file.read_text())
    found = list(operations(document))
    assert found
    for method, path, operation in found:
        roles = set(operation[ROLES_KEY])
        assert roles <= set(ROLES), (method, path)
        assert "admin" in roles, (method, path)


# --- the checker itself, on a hand-made document --------------------------------------
BODY = {"$ref": "#/components/schemas/Body"}
ACCEPTED = {"$ref": "#/components/schemas/Accepted"}
PUBLISHED: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/orders": {
            "post": {
                ROLES_KEY: ["admin", "seller"],
                "parameters": [
                    {"in": "header", "name": "Idempotency-Key", "schema": {"type": "string"}}
                ],
                "requestBody": {
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Body"}}
                    }
                },
                "responses": {
                    "201": {
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/Accepted"}
                            }
                        }
                    }
                },
            }
        }
    },
    "components": {
        "schemas": {
            "Body": {
                "type": "object",
                "properties": {"quantity": {"type": "integer"}},
                "required": ["quantity"],
            },
            "Accepted": {"type": "object", "properties": {"id": {"type": "string"}}},
        }
    },
}


def changed(edit: Any) -> dict[str, Any]:
    document = copy.deepcopy(PUBLISHED)
    edit(document)
    return document


def test_new_operations_optional_fields_and_answers_are_additive() -> None:
    def grow(d: dict[str, Any]) -> None:
        d["paths"]["/orders/{id}"] = {"get": {ROLES_KEY: ["admin"], "responses": {}}}
        d["components"]["schemas"]["Body"]["properties"]["note"] = {"type": "string"}
        d["components"]["schemas"]["Accepted"]["properties"]["token"] = {"type": "string"}
        d["paths"]["/orders"]["post"]["responses"]["409"] = {"description": "conflict"}
        body = d["components"]["schemas"]["Body"]["properties"]["quantity"]
        body["minimum"] = 1  # a constraint the service enforced all along, now documented

    diff = compare_http_contracts(PUBLISHED, changed(grow))
    assert diff.breaking == []
    assert len(diff.additive) == 5


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda d: d["paths"].pop("/orders"), "operation removed"),
        (lambda d: d["components"]["schemas"]["Accepted"]["properties"].pop("id"), "removed"),
        (
            lambda d: d["components"]["schemas"]["Body"]["properties"].update(
                quantity={"type": "string"}
            ),
            "type",
        ),
        (
            lambda d: d["components"]["schemas"]["Body"].update(
                properties={"quantity": {"type": "integer"}, "sku": {"type": "string"}},
                required=["quantity", "sku"],
            ),
            "became required",
        ),
        (lambda d: d["paths"]["/orders"]["post"]["responses"].pop("201"), "answer 201 removed"),
        (lambda d: d["paths"]["/orders"]["post"]["parameters"].clear(), "parameter"),
    ],
)
def test_removals_and_type_changes_are_breaking(edit: Any, reason: str) -> None:
    diff = compare_http_contracts(PUBLISHED, changed(edit))
    assert any(reason in b for b in diff.breaking), diff


def test_every_operation_needs_a_roles_decision() -> None:
    bare = changed(lambda d: d["paths"]["/orders"]["post"].pop(ROLES_KEY))
    with pytest.raises(RolesMismatch, match="without roles"):
        with_roles(bare, {})
    with pytest.raises(RolesMismatch, match="of no operation"):
        with_roles(bare, {"POST /orders": ["admin"], "GET /gone": ["admin"]})
    assert with_roles(bare, {"POST /orders": ["seller", "admin"]}) == PUBLISHED
