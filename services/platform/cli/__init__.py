"""``crm``: the operators' command line (local infrastructure, topics, dead letters, relays,
gateway credentials).

Settings come from the environment (``CRM_KAFKA_BOOTSTRAP``, ``CRM_DATABASE_URL``) or
the global ``--bootstrap`` / ``--database-url`` options. Exit codes: 0 ok, 1 the
infrastructure failed or did not answer (one line on stderr, no traceback), 2 the
request itself is wrong (unknown offset, unknown topic or schema, bad arguments).

Every read here is passive: no consumer group is joined and no offset is committed, so
inspecting a topic or the dead-letter topic never disturbs a running consumer.

One module per command group; ``crm infra`` and ``crm auth`` live with what they operate
(``deploy.local.cli``, ``services.gateway.cli``) and are mounted through the catalogue
(``plugins``).
"""

from __future__ import annotations

import logging
import sys
from typing import Annotated

import typer

from services.platform.cli.common import CliError, Context
from services.platform.cli.dead_letters import (
    describe_dead_letter,
    dlq_app,
    read_dead_letters,
)
from services.platform.cli.migrations import migrate_command
from services.platform.cli.plugins import add_command_groups
from services.platform.cli.redrive import Redrive, parse_offset, redrive
from services.platform.cli.relays import relay_status, relay_status_command
from services.platform.cli.topics import topics_app, topics_report

__all__ = [
    "CliError",
    "Context",
    "Redrive",
    "app",
    "describe_dead_letter",
    "main",
    "parse_offset",
    "read_dead_letters",
    "redrive",
    "relay_status",
    "topics_report",
]

app = typer.Typer(
    name="crm",
    help="Operate the CRM: schema migrations, local infrastructure, Kafka topics, dead "
    "letters, outbox relays.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def _root(
    ctx: typer.Context,
    bootstrap: Annotated[
        str | None,
        typer.Option(help="Kafka bootstrap servers [default: $CRM_KAFKA_BOOTSTRAP]"),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="PostgreSQL URL [default: $CRM_DATABASE_URL]")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log client libraries to stderr")
    ] = False,
) -> None:
    if verbose:
        logging.basicConfig(stream=sys.stderr, level=logging.INFO)
    else:
        # aiokafka logs every refused connection; the command's own error says it once.
        logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    ctx.obj = Context(bootstrap, database_url)


app.command("relay-status")(relay_status_command)
app.command("migrate")(migrate_command)
add_command_groups(app)
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")


def main() -> None:
    """Console-script entry point (``crm``)."""
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
