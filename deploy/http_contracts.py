"""Write each context's HTTP contract (``contracts/http/<context>.vN.json``) from its
service's own app: ``python -m deploy.http_contracts`` (part of ``make schemas``).

Lives outside ``contracts/`` because it imports the services (by the catalogue's
``http_app`` name); refuses to rewrite a published document incompatibly, as
``contracts.schema_files`` does for event schemas.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from contracts.catalogue import CONTEXTS, Context
from contracts.http_contracts import compare_http_contracts, roles_file, with_roles
from contracts.schema_files import breaking_rewrites, write_changed


class BreakingContractChange(Exception):
    """A service change would rewrite a published HTTP contract incompatibly."""


def generated_contract(context: Context) -> dict[str, Any]:
    """The context's contract as its service generates it today, with its roles."""
    module, _, factory = context.http_app.partition(":")
    app = getattr(importlib.import_module(module), factory)()
    roles = json.loads(roles_file(context).read_text())
    return with_roles(app.openapi(), roles)


def write_all(contexts: tuple[Context, ...] = CONTEXTS) -> list[Path]:
    documents = {c.contract_file: generated_contract(c) for c in contexts if c.http_app}
    breaking = breaking_rewrites(documents, compare_http_contracts)
    if breaking:
        raise BreakingContractChange(
            "published HTTP contracts would change incompatibly; publish the next version "
            "(a new <context>.vN+1.json in the catalogue) instead:\n  " + "\n  ".join(breaking)
        )
    return write_changed(documents)


if __name__ == "__main__":
    try:
        for p in write_all():
            print(f"wrote {p}")
    except BreakingContractChange as exc:
        raise SystemExit(str(exc)) from None
