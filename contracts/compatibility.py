"""Is a schema change to a published event additive, or breaking?

Used by ``make schemas`` (which refuses to overwrite a published schema with a breaking
change) and by the contract tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Top-level keys that identify what a schema describes: changing one is never additive.
IDENTITY_KEYS = (
    "$id",
    "type",
    "additionalProperties",
    "x-event-type",
    "x-schema-version",
    "x-context",
)


@dataclass
class SchemaDiff:
    breaking: list[str] = field(default_factory=list)
    additive: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return not self.breaking and not self.additive


def _refs(node: Any) -> set[str]:
    """Names of the ``#/$defs/...`` a schema fragment points at (directly)."""
    found: set[str] = set()
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            found.add(ref.removeprefix("#/$defs/"))
        for value in node.values():
            found |= _refs(value)
    elif isinstance(node, list):
        for value in node:
            found |= _refs(value)
    return found


def _reachable_defs(schema: dict[str, Any], roots: Any) -> set[str]:
    defs = schema.get("$defs", {})
    pending, seen = list(_refs(roots)), set()
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        pending.extend(_refs(defs.get(name, {})))
    return seen


def compare_schemas(committed: dict[str, Any], generated: dict[str, Any]) -> SchemaDiff:
    """Classify how ``generated`` differs from the published ``committed`` schema.

    Breaking: a committed property removed or its sub-schema changed, a new required
    field (old events lack it), a ``$defs`` entry used by committed properties changed,
    an identity key changed. Additive: anything else (a new optional property, a new
    definition, a changed title or description).
    """
    diff = SchemaDiff()
    old_props: dict[str, Any] = committed.get("properties", {})
    new_props: dict[str, Any] = generated.get("properties", {})
    old_required = set(committed.get("required", []))
    new_required = set(generated.get("required", []))

    for name, sub_schema in old_props.items():
        if name not in new_props:
            diff.breaking.append(f"property {name!r} removed")
        elif new_props[name] != sub_schema:
            diff.breaking.append(f"property {name!r} changed: {sub_schema} -> {new_props[name]}")
    for name in sorted(new_required - old_required):
        diff.breaking.append(f"property {name!r} became required")
    for name in sorted(set(new_props) - set(old_props)):
        if name not in new_required:
            diff.additive.append(f"new optional property {name!r}")
    if new_required < old_required:
        diff.additive.append(f"no longer required: {sorted(old_required - new_required)}")

    old_defs: dict[str, Any] = committed.get("$defs", {})
    new_defs: dict[str, Any] = generated.get("$defs", {})
    used = _reachable_defs(committed, old_props)
    for name in sorted(used):
        if old_defs.get(name) != new_defs.get(name):
            diff.breaking.append(f"definition {name!r} used by published properties changed")
    for name in sorted((set(old_defs) | set(new_defs)) - used):
        if old_defs.get(name) != new_defs.get(name):
            diff.additive.append(f"definition {name!r} added or changed (unused before)")

    for key in IDENTITY_KEYS:
        if committed.get(key) != generated.get(key):
            diff.breaking.append(f"{key} changed: {committed.get(key)!r} -> {generated.get(key)!r}")

    checked = {"properties", "required", "$defs", *IDENTITY_KEYS}
    for key in sorted((set(committed) | set(generated)) - checked):
        if committed.get(key) != generated.get(key):
            diff.additive.append(f"{key} changed")
    if diff.identical and committed != generated:  # belt and braces: never pass a difference
        diff.additive.append("schemas differ")
    return diff
