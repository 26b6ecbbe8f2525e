"""``crm privacy``: the master key, erasures, holds and exports from a terminal.

Mounted on ``crm`` through the catalogue's command groups. Calls the application layer
directly against the database, as the operator ``cli:<os user>`` (audited like the API).
"""

from __future__ import annotations

import contextlib
import getpass
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer

from services.platform.cli.common import CliError, cli_context, print_json, run
from services.platform.db import create_pool
from services.platform.privacy.history import seal_history
from services.platform.privacy.master import MasterKeyError, new_master_key
from services.privacy.application import erasures, exports, holds
from services.privacy.application.runtime import Actor, PrivacyRuntime
from services.privacy.bootstrap import bootstrap
from services.privacy.domain.rules import AlreadyErased, SubjectUnknown, UnderLegalHold
from services.privacy.migrations import privacy_schema

privacy_app = typer.Typer(
    help="Personal data: erase a subject, legal holds, exports, the master key.",
    no_args_is_help=True,
)
REFUSALS = (SubjectUnknown, AlreadyErased, UnderLegalHold, holds.HoldNotFound,
            holds.HoldAlreadyReleased)  # fmt: skip


def _actor() -> Actor:
    return Actor(f"cli:{getpass.getuser()}", "privacy_officer")


@contextlib.asynccontextmanager
async def _runtime(database_url: str) -> AsyncIterator[PrivacyRuntime]:
    pool = await create_pool(database_url, privacy_schema(), max_size=2)
    try:
        try:
            runtime = bootstrap(pool)
            await runtime.keys.check_master_key()
        except MasterKeyError as exc:
            raise CliError(str(exc), 1) from None
        yield runtime
    finally:
        await pool.close()


def _do(ctx: typer.Context, work: Any) -> Any:
    url = cli_context(ctx).database_url

    async def go() -> Any:
        async with _runtime(url) as runtime:
            try:
                return await work(runtime)
            except REFUSALS as exc:
                raise CliError(str(exc), 2) from None

    return run(go(), "database")


@privacy_app.command("new-master-key")
def print_new_master_key() -> None:
    """Print a new random master key (for CRM_MASTER_KEY of a new installation)."""
    typer.echo(new_master_key())


@privacy_app.command("erase")
def erase_subject(
    ctx: typer.Context,
    subject: Annotated[str, typer.Argument(help="The data subject (customer id)")],
    basis: Annotated[
        str, typer.Option(help="data_subject_request, retention_expired or other")
    ] = "data_subject_request",
) -> None:
    """Destroy the subject's keys now; read models forget them as they read the event."""
    if basis not in ("data_subject_request", "retention_expired", "other"):
        raise typer.BadParameter(f"unknown basis {basis!r}", param_hint="--basis")
    command = erasures.EraseSubject(subject, basis, None, _actor())  # type: ignore[arg-type]
    print_json(_do(ctx, lambda rt: erasures.erase(rt, command))[0])


@privacy_app.command("status")
def erasure_status(ctx: typer.Context, request_id: UUID) -> None:
    """An erasure's progress: keys_destroyed until every store forgot the subject."""
    found = _do(ctx, lambda rt: erasures.get_request(rt, request_id))
    if found is None:
        run(_refuse(f"no erasure request {request_id}"), "database")
    print_json(found)


@privacy_app.command("export")
def export_subject(
    ctx: typer.Context,
    subject: str,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="File to write")] = None,
) -> None:
    """Everything the CRM holds about the subject, as JSON (stdout or a file)."""
    command = exports.ExportSubject(subject, _actor())
    document = _do(ctx, lambda rt: exports.export(rt, command))
    text = json.dumps(document, indent=2, ensure_ascii=False, default=str)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n")
        typer.echo(f"wrote {output}", err=True)


@privacy_app.command("hold")
def place_hold(
    ctx: typer.Context,
    subject: str,
    reason: Annotated[str, typer.Option(help="Why the law keeps the data")],
) -> None:
    """Place a legal hold (until released): the subject cannot be erased meanwhile."""
    command = holds.PlaceHold(subject, reason, None, _actor())
    print_json(_do(ctx, lambda rt: holds.place(rt, command)))


@privacy_app.command("release")
def release_hold(ctx: typer.Context, hold_id: UUID) -> None:
    """Release a legal hold."""
    print_json(_do(ctx, lambda rt: holds.release(rt, hold_id, _actor())))


@privacy_app.command("seal-history")
def seal_plain_history(
    ctx: typer.Context,
    schema: Annotated[str, typer.Option(help="The context's event store schema")] = "sales",
) -> None:
    """Seal, in place, the events a release before sealing wrote in plain text (once,
    after upgrading); the topics keep what they already carried (docs/privacy.md)."""

    async def work(runtime: PrivacyRuntime) -> dict[str, int]:
        async with runtime.pool.acquire() as conn, conn.transaction():
            sealed, erased = await seal_history(conn, schema, runtime.keys)
        return {"sealed": sealed, "erased_subjects_events": erased}

    print_json(_do(ctx, work))


async def _refuse(message: str) -> None:
    raise CliError(message, 2)
