"""Each context's HTTP contract: its OpenAPI document, with the roles of each operation.

A context's service generates its OpenAPI document; the roles allowed per operation come
from the context's committed roles table (``contracts/http/<context>.roles.json``) and
are written into each operation as ``x-crm-roles``. The gateway serves, guards and
documents a context from this document alone. ``make schemas`` writes it
(``deploy/http_contracts.py``); a published document may only change additively, like
an event schema: a removal or a type change needs a new version file.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from contracts.catalogue import HTTP_CONTRACTS, Context
from contracts.compatibility import SchemaDiff

# One rendering for event schemas and HTTP contracts.
from contracts.schema_files import render as render

ROLES_KEY = "x-crm-roles"
METHODS = ("get", "put", "post", "delete", "patch")


def roles_file(context: Context) -> Path:
    return HTTP_CONTRACTS / f"{context.name}.roles.json"


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) of every operation of an OpenAPI document."""
    for path, item in document.get("paths", {}).items():
        for method, operation in item.items():
            if method in METHODS:
                yield method.upper(), path, operation


class RolesMismatch(ValueError):
    """The roles table and the service's operations do not name the same operations."""


def with_roles(document: dict[str, Any], roles: dict[str, list[str]]) -> dict[str, Any]:
    """``document`` with each operation's roles (``x-crm-roles``) from ``roles``, keyed
    ``"METHOD /path"``. Every operation needs an entry: a new one is refused to everyone
    until someone decides who may call it, and a stale entry is an error too."""
    named = {f"{m} {p}" for m, p, _ in operations(document)}
    missing, stale = sorted(named - set(roles)), sorted(set(roles) - named)
    if missing or stale:
        raise RolesMismatch(f"operations without roles: {missing}; roles of no operation: {stale}")
    out: dict[str, Any] = json.loads(json.dumps(document))
    for method, path, operation in operations(out):
        operation[ROLES_KEY] = sorted(roles[f"{method} {path}"])
    return out


# --------------------------------------------------------------------- compatibility
def _resolve(document: dict[str, Any], node: Any, seen: frozenset[str] = frozenset()) -> Any:
    """``node`` with its local ``$ref``s replaced by what they name (recursion cut)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref in seen:
                return {"$ref": ref}
            target: Any = document
            for part in ref.removeprefix("#/").split("/"):
                target = target.get(part, {})
            return _resolve(document, target, seen | {ref})
        return {k: _resolve(document, v, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(document, v, seen) for v in node]
    return node


def _types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema allows (an ``anyOf`` of types counts as their union)."""
    if "anyOf" in schema or "oneOf" in schema:
        found: set[str] = set()
        for member in schema.get("anyOf", schema.get("oneOf", [])):
            found |= _types(member)
        return found
    kind = schema.get("type")
    if isinstance(kind, list):
        return set(kind)
    return {kind} if isinstance(kind, str) else set()


def _object_of(schema: dict[str, Any]) -> dict[str, Any]:
    """The object member of a schema (``anyOf: [object, null]`` as well as plain)."""
    for member in schema.get("anyOf", schema.get("oneOf", [])):
        if "object" in _types(member) and "properties" in member:
            return dict(member)
    return schema


def _array_items(schema: dict[str, Any]) -> dict[str, Any] | None:
    for member in [schema, *schema.get("anyOf", [])]:
        if isinstance(member.get("items"), dict):
            return dict(member["items"])
    return None


def compare_shapes(old: Any, new: Any, where: str, sent: bool, diff: SchemaDiff) -> None:
    """Breaking when what one side may rely on changes: a type, a removed property, and
    in what clients send (``sent``) a newly required property or a narrower type. New
    optional properties, new constraints of the same type and new answers are additive."""
    if not isinstance(old, dict) or not isinstance(new, dict):
        if old != new:
            diff.breaking.append(f"{where}: changed")
        return
    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and old_types != new_types:
        widened = old_types < new_types
        if not (sent and widened):
            diff.breaking.append(f"{where}: type {sorted(old_types)} -> {sorted(new_types)}")
    structural = {"type", "anyOf", "oneOf", "properties", "required", "items"}
    if any(old.get(k) != new.get(k) for k in (set(old) | set(new)) - structural):
        diff.additive.append(f"{where}: constraints or descriptions changed")
    old_obj, new_obj = _object_of(old), _object_of(new)
    old_props, new_props = old_obj.get("properties", {}), new_obj.get("properties", {})
    for name, sub in old_props.items():
        if name not in new_props:
            diff.breaking.append(f"{where}.{name}: removed")
        else:
            compare_shapes(sub, new_props[name], f"{where}.{name}", sent, diff)
    for name in sorted(set(new_props) - set(old_props)):
        diff.additive.append(f"{where}.{name}: new property")
    if sent:
        for name in sorted(set(new_obj.get("required", [])) - set(old_obj.get("required", []))):
            diff.breaking.append(f"{where}.{name}: became required")
    old_items, new_items = _array_items(old), _array_items(new)
    if old_items is not None and new_items is not None:
        compare_shapes(old_items, new_items, f"{where}[]", sent, diff)


def _body(document: dict[str, Any], holder: dict[str, Any]) -> dict[str, Any]:
    content = holder.get("content", {})
    for media in ("application/json", *sorted(content)):
        if media in content:
            return dict(_resolve(document, content[media].get("schema", {})))
    return {}


def _parameters(document: dict[str, Any], operation: dict[str, Any]) -> dict[Any, Any]:
    return {(p["in"], p["name"]): p for p in _resolve(document, operation.get("parameters", []))}


def compare_http_contracts(committed: dict[str, Any], generated: dict[str, Any]) -> SchemaDiff:
    """Classify how a generated HTTP contract differs from the published one."""
    diff = SchemaDiff()
    old_ops = {(m, p): op for m, p, op in operations(committed)}
    new_ops = {(m, p): op for m, p, op in operations(generated)}
    for key in sorted(set(new_ops) - set(old_ops)):
        diff.additive.append(f"{key[0]} {key[1]}: new operation")
    for key, old in sorted(old_ops.items()):
        name = f"{key[0]} {key[1]}"
        new = new_ops.get(key)
        if new is None:
            diff.breaking.append(f"{name}: operation removed")
            continue
        if old.get(ROLES_KEY) != new.get(ROLES_KEY):
            # who may call is policy, not shape: allowed, but never silently
            diff.additive.append(f"{name}: roles changed")
        old_params = {
            (p["in"], p["name"]): p for p in _resolve(committed, old.get("parameters", []))
        }
        new_params = {
            (p["in"], p["name"]): p for p in _resolve(generated, new.get("parameters", []))
        }
        for pkey, param in old_params.items():
            if pkey not in new_params:
                diff.breaking.append(f"{name}: parameter {pkey[1]} removed")
            else:
                compare_shapes(param.get("schema"), new_params[pkey].get("schema"),
                               f"{name} {pkey[1]}", True, diff)  # fmt: skip
        for pkey, param in new_params.items():
            if pkey not in old_params:
                if param.get("required"):
                    diff.breaking.append(f"{name}: new required parameter {pkey[1]}")
                else:
                    diff.additive.append(f"{name}: new optional parameter {pkey[1]}")
        if "requestBody" in old:
            if "requestBody" not in new:
                diff.breaking.append(f"{name}: request body removed")
            else:
                old_body = _body(committed, old["requestBody"])
                compare_shapes(old_body, _body(generated, new["requestBody"]), f"{name} body",
                               True, diff)  # fmt: skip
        old_answers, new_answers = old.get("responses", {}), new.get("responses", {})
        for status, answer in old_answers.items():
            if status not in new_answers:
                diff.breaking.append(f"{name}: answer {status} removed")
            else:
                compare_shapes(_body(committed, answer), _body(generated, new_answers[status]),
                               f"{name} {status}", False, diff)  # fmt: skip
        for status in sorted(set(new_answers) - set(old_answers)):
            diff.additive.append(f"{name}: new answer {status}")
    if diff.identical and committed != generated:  # never pass a difference unnoticed
        diff.additive.append("documents differ")
    return diff
