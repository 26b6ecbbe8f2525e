"""The SLA clocks of each case, derived from its history in every command's transaction.

Placeholder until the clock table lands: nothing is kept yet."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg

from services.platform.db import Connection
from services.support.domain.case import Case

if TYPE_CHECKING:
    from services.support.application.runtime import SupportRuntime


async def refresh_clocks(conn: Connection, deps: SupportRuntime, case_id: UUID, state: Case,
                         now: datetime) -> None:  # fmt: skip
    """Recompute and store the case's clocks (see ``domain.sla``)."""
    return None


async def clocks_of(pool: asyncpg.Pool, case_id: UUID) -> list[dict[str, Any]]:
    """The case's clocks as stored, for its view."""
    return []


async def fire_due_clocks(deps: SupportRuntime, limit: int = 100) -> int:
    """Emit the SLA warnings and breaches due now, exactly once each; how many."""
    return 0
