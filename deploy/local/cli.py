"""``crm infra``: local Kafka and PostgreSQL without Docker (the launcher's commands).

Mounted on ``crm`` through the catalogue's command groups: the shared runtime's CLI
never imports the launcher.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from deploy.local.launcher import LauncherError, LocalConfig, down, ensure_up, status
from services.platform.cli.common import fail, print_json, table

infra_app = typer.Typer(
    help="Local Kafka and PostgreSQL without Docker (deploy/local launcher; "
    "settings CRM_LOCAL_DIR, CRM_KAFKA_PORT, CRM_PG_PORT, ...).",
    no_args_is_help=True,
)


def _launcher_config() -> LocalConfig:

    try:
        return LocalConfig.from_env()
    except LauncherError as exc:
        fail(str(exc), 2)


@infra_app.command("up")
def infra_up() -> None:
    """Start what is not running, wait until ready, print the endpoints."""

    config = _launcher_config()
    try:
        endpoints = ensure_up(config)
    except LauncherError as exc:
        fail(str(exc), 1)
    typer.echo(f"kafka bootstrap: {endpoints.kafka_bootstrap}")
    typer.echo(f"database url:    {endpoints.database_url}")
    typer.echo(
        f"export CRM_KAFKA_BOOTSTRAP={endpoints.kafka_bootstrap} "
        f"CRM_DATABASE_URL={endpoints.database_url}"
    )


@infra_app.command("down")
def infra_down() -> None:
    """Stop Kafka and PostgreSQL (their data is kept)."""

    config = _launcher_config()
    try:
        down(config)
    except LauncherError as exc:
        fail(str(exc), 1)
    typer.echo("down (data kept)")


@infra_app.command("status")
def infra_status(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON")] = False,
) -> None:
    """Show each component; exit 1 if one is not running and answering."""

    config = _launcher_config()
    try:
        report: dict[str, dict[str, Any]] = status(config)
    except LauncherError as exc:
        fail(str(exc), 1)
    if as_json:
        print_json(report)
    else:
        rows = []
        for name, part in report.items():
            if part["running"]:
                state = "running" if part["healthy"] else "running, NOT answering"
            else:
                state = "stopped"
            rows.append([name, state, part["pid"] or "-", part["port"], part["log"]])
        table(["component", "state", "pid", "port", "log"], rows)
        for name, part in report.items():
            if part.get("note"):
                typer.echo(f"{name}: {part['note']}")
    if not all(part["running"] and part["healthy"] for part in report.values()):
        raise typer.Exit(1)
