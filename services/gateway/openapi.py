"""The gateway's OpenAPI document: its own reads and ``/v1/events``, each plugged
context's contract under its path prefix, and what the gateway itself answers
(authentication, roles, limits) before a service sees a request."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI

from contracts.http_contracts import operations
from services.gateway.middleware import CORRELATION_PATTERN
from services.gateway.plugged import Plugged


def problem_answer(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {}}}


COMMON_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: problem_answer("No or invalid credentials (expired, tampered, unknown key)"),
    403: problem_answer("The caller's role or team may not do this"),
    429: problem_answer("Rate limit exceeded; see Retry-After"),
}
SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "People: a JWT from the key ring (`crm auth token`)"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "Other systems: `crm_<id>_<secret>` (`crm auth api-key`); "
               "`Authorization: ApiKey <key>` works too"},
}  # fmt: skip
_BAD_CORRELATION = problem_answer("Malformed JSON, or an unusable X-Correlation-Id")
_GATEWAY_ANSWERS = {
    "413": problem_answer("The body is larger than the gateway accepts"),
    "415": problem_answer("The body is not JSON"),
}
_IF_MATCH = {
    "name": "If-Match", "in": "header", "required": False,
    "description": "The record's version you read (`3`, or as an ETag `\"3\"`): a stale "
    "one answers 409",
    "schema": {"type": "string", "pattern": '^"*(W/"*)?[0-9]+"*$', "examples": ["3"]},
}  # fmt: skip
_CORRELATION = {
    "name": "X-Correlation-Id", "in": "header", "required": False,
    "description": "Your id for this request, carried onto the events it causes and "
    "returned; made up when absent. An unusable one is refused (400)",
    "schema": {"type": "string", "pattern": CORRELATION_PATTERN},
}  # fmt: skip


def _renamed_refs(node: Any, renames: dict[str, str]) -> Any:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref in renames:
            return {**node, "$ref": renames[ref]}
        return {k: _renamed_refs(v, renames) for k, v in node.items()}
    if isinstance(node, list):
        return [_renamed_refs(v, renames) for v in node]
    return node


def merge_context(document: dict[str, Any], plugged: Plugged) -> None:
    """Add a context's operations to ``document``, at their gateway paths, with the
    answers the gateway adds; a component whose name another already uses differently
    is renamed ``<context>.<name>``."""
    name = plugged.context.name
    theirs = copy.deepcopy(plugged.document)
    components = document.setdefault("components", {})
    renames: dict[str, str] = {}
    for kind, entries in theirs.get("components", {}).items():
        ours = components.get(kind, {})
        for key, value in entries.items():
            if key in ours and ours[key] != value:
                renames[f"#/components/{kind}/{key}"] = f"#/components/{kind}/{name}.{key}"
    theirs = _renamed_refs(theirs, renames)
    for kind, entries in theirs.get("components", {}).items():
        target = components.setdefault(kind, {})
        for key, value in entries.items():
            renamed = renames.get(f"#/components/{kind}/{key}", "").rsplit("/", 1)[-1]
            target[renamed or key] = value
    unavailable = problem_answer(f"The {name} service did not answer; retry")
    prefix = plugged.context.path_prefix.rstrip("/")
    for method, path, operation in operations(theirs):
        if "operationId" in operation:
            operation["operationId"] = f"{name}_{operation['operationId']}"
        answers = operation.setdefault("responses", {})
        for status, answer in {**COMMON_RESPONSES, 503: unavailable}.items():
            answers.setdefault(str(status), copy.deepcopy(answer))
        document.setdefault("paths", {}).setdefault(prefix + path, {})[method.lower()] = operation


def describe_security(document: dict[str, Any]) -> None:
    """What a dependency cannot tell FastAPI: how to authenticate, and what the gateway
    itself answers before a service sees the request."""
    document.setdefault("components", {})["securitySchemes"] = SECURITY_SCHEMES
    for path, item in document["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in item.items():
            operation["security"] = [{"bearer": []}, {"apiKey": []}]
            # the gateway's own rule for the header, whatever a service says of it
            parameters = [
                p for p in operation.get("parameters", []) if p.get("name") != "X-Correlation-Id"
            ]
            operation["parameters"] = [*parameters, _CORRELATION]
            operation["responses"].setdefault("400", _BAD_CORRELATION)
            if method == "post":
                for status, answer in _GATEWAY_ANSWERS.items():
                    operation["responses"].setdefault(status, answer)
                if "{" in path and path != "/v1/events":  # a command on one record
                    names = {p.get("name") for p in operation.get("parameters", [])}
                    if "If-Match" not in names:
                        operation.setdefault("parameters", []).append(_IF_MATCH)


def gateway_document(own: dict[str, Any], plugged: Iterable[Plugged]) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(json.dumps(own))
    for entry in plugged:
        merge_context(document, entry)
    describe_security(document)
    return document


def documented_routes(app: FastAPI) -> list[str]:
    """Every ``METHOD /path`` of the OpenAPI document."""
    return [f"{m} {p}" for m, p, _ in operations(app.openapi())]


def unguarded_routes(app: FastAPI) -> list[str]:
    """Routes under /v1 that no role table mentions (a test keeps this empty)."""
    roles: dict[str, frozenset[str]] = app.state.route_roles
    return [
        r for r in documented_routes(app) if r.split(" ", 1)[1].startswith("/v1") and r not in roles
    ]
