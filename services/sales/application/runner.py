"""Run one command of the table: prepare it, then handle it in one transaction with its
idempotency key (see ``services.platform.commands.CommandHandler.run``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.platform.commands import UnitOfWork
from services.platform.eventstore import CommandContext
from services.sales.application.handlers import HANDLERS

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime


async def run_command(
    deps: SalesRuntime,
    command: Any,
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    correlation_id: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """(The command's JSON answer, replayed by its idempotency key?)."""
    handler = HANDLERS[type(command)]
    if handler.prepare is not None:
        command = await handler.prepare(command, deps)

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return await handler.handle(uow, command, deps)

    return await deps.commands.run(
        work,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        context=CommandContext(correlation_id=correlation_id),
    )
