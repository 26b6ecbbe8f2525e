"""Run one command of the table in one transaction with its idempotency key (see
``services.platform.commands.CommandHandler.run``)."""

from __future__ import annotations

from typing import Any

from services.platform.commands import UnitOfWork
from services.platform.eventstore import CommandContext
from services.support.application.handlers import HANDLERS
from services.support.application.runtime import SupportRuntime


async def run_command(
    deps: SupportRuntime,
    command: Any,
    *,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> tuple[dict[str, Any], bool]:
    """(The command's JSON answer, replayed by its idempotency key?)."""
    handle = HANDLERS[type(command)]

    async def work(uow: UnitOfWork) -> dict[str, Any]:
        return await handle(uow, command, deps)

    return await deps.commands.run(
        work,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        context=CommandContext(correlation_id=correlation_id, causation_id=causation_id),
    )
