"""How every support timer fires the rows that fell due: lock them (``FOR UPDATE SKIP
LOCKED``, so several workers may run), then each in its own savepoint, so one bad row
does not block the others; a lost connection stops the run, to be tried again whole."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import asyncpg

from services.platform.commands import UnitOfWork
from services.platform.db import Connection
from services.platform.eventstore import CommandContext
from services.platform.logging import get_logger

if TYPE_CHECKING:
    from services.support.application.runtime import SupportRuntime

log = get_logger(__name__)
TRANSIENT = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError)

Fire = Callable[[UnitOfWork, asyncpg.Record], Awaitable[None]]


async def fire_due(deps: SupportRuntime, timer: str, query: str, args: Sequence[Any],
                   cause: Callable[[asyncpg.Record], str], fire: Fire,
                   before: Callable[[Connection], Awaitable[None]] | None = None
                   ) -> int:  # fmt: skip
    """Run ``fire`` for each row ``query`` locks, in one transaction; how many fired.
    ``cause(row)`` is the causation id the row's events carry; ``before(conn)`` runs
    first in the transaction (to take a lock before any row's)."""
    fired = 0
    async with deps.pool.acquire() as conn, conn.transaction():
        if before is not None:
            await before(conn)
        for row in await conn.fetch(query, *args):
            uow = UnitOfWork(conn, deps.store, CommandContext(causation_id=cause(row)))
            try:
                async with conn.transaction():
                    await fire(uow, row)
                fired += 1
            except TRANSIENT:
                raise
            except Exception as exc:
                log.error("support.timer_failed", timer=timer, case_id=str(row["case_id"]),
                          error=repr(exc))  # fmt: skip
    return fired
