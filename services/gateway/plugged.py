"""The contexts the gateway serves, as their catalogue entries and HTTP contracts say.

Nothing here knows a context: each catalogue entry names its URL setting, path prefix
and contract document, and the document names each operation and the roles allowed to
call it (``x-crm-roles``). The gateway forwards, guards and documents from this alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.routing import compile_path

from contracts.catalogue import CONTEXTS, Context
from contracts.http_contracts import ROLES_KEY, operations


@dataclass(frozen=True)
class Operation:
    """One operation of a context, at its gateway path."""

    context: str
    method: str
    path: str
    pattern: re.Pattern[str]
    roles: frozenset[str]

    @property
    def route_id(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class Plugged:
    """A context with its contract document and its operations under its prefix."""

    context: Context
    document: dict[str, Any]
    operations: tuple[Operation, ...]

    def base_url(self, overrides: Mapping[str, str], environ: Mapping[str, str]) -> str:
        """Its API's URL: an explicit override, else its URL setting, else its default."""
        name, setting = self.context.name, self.context.url_setting
        return overrides.get(name) or environ.get(setting) or self.context.default_url


def plug(context: Context, document: dict[str, Any] | None = None) -> Plugged:
    """``context`` with its committed contract (or ``document``, e.g. a test's)."""
    if document is None:
        document = json.loads(context.contract_file.read_text())
    prefix = context.path_prefix.rstrip("/")
    found = []
    for method, path, operation in operations(document):
        roles = frozenset(operation.get(ROLES_KEY, ()))  # none named: refused to everyone
        pattern = compile_path(prefix + path)[0]
        found.append(Operation(context.name, method, prefix + path, pattern, roles))
    return Plugged(context, document, tuple(found))


def plug_all(contexts: Iterable[Context] = CONTEXTS) -> tuple[Plugged, ...]:
    return tuple(plug(c) for c in contexts)


def route_roles(
    own: Mapping[str, frozenset[str]], plugged: Iterable[Plugged]
) -> dict[str, frozenset[str]]:
    """Every route's roles: the gateway's own routes, then each context's operations."""
    table = dict(own)
    for entry in plugged:
        for operation in entry.operations:
            if operation.route_id in table:
                raise ValueError(f"{operation.route_id} is served twice")
            table[operation.route_id] = operation.roles
    return table
