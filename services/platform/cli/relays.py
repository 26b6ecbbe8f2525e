"""``crm relay-status``: each outbox relay's checkpoint and the committed events not yet
on Kafka."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import typer

from services.platform.cli.common import CliError, cli_context, print_json, run, table
from services.platform.db import check_schema_name


async def relay_status(database_url: str, schema: str) -> dict[str, Any]:
    """Each relay checkpoint of an event-store schema and the events after it (lag)."""
    try:
        check_schema_name(schema)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    conn = await asyncpg.connect(database_url, timeout=15)
    try:
        exists = await conn.fetchval(
            "SELECT to_regclass($1) IS NOT NULL AND to_regclass($2) IS NOT NULL",
            f'"{schema}".relay_checkpoints',
            f'"{schema}".events',
        )
        if not exists:
            raise CliError(f"schema {schema} has no event store (relay_checkpoints, events)")
        rows = await conn.fetch(
            f"""
            SELECT c.relay, c.last_transaction_id::text AS last_transaction_id,
                   c.last_position, c.published_total, c.updated_at,
                   (SELECT count(*) FROM "{schema}".events e
                    WHERE (e.transaction_id, e.global_position)
                          > (c.last_transaction_id, c.last_position)) AS lag
            FROM "{schema}".relay_checkpoints c ORDER BY c.relay
            """
        )
        total = await conn.fetchval(f'SELECT count(*) FROM "{schema}".events')
    finally:
        await conn.close()
    return {
        "schema": schema,
        "events": int(total),
        "relays": [
            {
                "relay": r["relay"],
                "last_transaction_id": r["last_transaction_id"],
                "last_position": r["last_position"],
                "published_total": r["published_total"],
                "updated_at": r["updated_at"].isoformat(),
                "lag": int(r["lag"]),
            }
            for r in rows
        ],
    }


def relay_status_command(
    ctx: typer.Context,
    schema: Annotated[str, typer.Option(help="Event-store schema (bounded context)")] = "sales",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Outbox relay checkpoints and their lag (committed events not yet on Kafka)."""
    url = cli_context(ctx).database_url
    report = run(relay_status(url, schema), "PostgreSQL")
    if as_json:
        print_json(report)
        return
    if not report["relays"]:
        typer.echo(
            f"{schema}: no relay has checkpointed yet; {report['events']} event(s) in the store"
        )
        return
    table(
        ["relay", "last xid", "last position", "published", "updated at", "lag"],
        [
            [
                r["relay"],
                r["last_transaction_id"],
                r["last_position"],
                r["published_total"],
                r["updated_at"],
                r["lag"],
            ]
            for r in report["relays"]
        ],
    )
