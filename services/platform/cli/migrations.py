"""``crm migrate``: bring every context's schema and the projections up to date, before
any process starts (processes never run DDL; they refuse a schema older than they need)."""

from __future__ import annotations

from typing import Annotated

import typer

from contracts.catalogue import migration_modules
from services.platform.cli.common import cli_context, print_json, run
from services.platform.migrate import migrate_all


def migrate_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Apply the schema migrations of every context in the catalogue, then the projections'."""
    done = run(migrate_all(cli_context(ctx).database_url, migration_modules()), "PostgreSQL")
    if as_json:
        print_json({"applied": done})
        return
    for line in done:
        typer.echo(line)
    typer.echo("schema up to date" if done else "nothing to migrate")
