"""The sales context's schema: the event store plus its private state, in order.

``crm migrate`` finds this module through the service catalogue and calls ``migrate``.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

from contracts.catalogue import SALES_CONTEXT
from services.platform.migrate import EVENT_STORE, INBOX, MigrationSet, migrate_schema

SALES_STATE = MigrationSet("sales", Path(__file__).parent)
"""Identity keys, assignment cursors, follow-up timers."""
SALES_SETS = (EVENT_STORE, SALES_STATE, INBOX)
"""What every sales process needs, in the order it is applied (the inbox: the scheduler's
consumer of erasures, see ``entrypoints.erasure``)."""


def sales_schema() -> str:
    """The sales store's schema; benchmarks and tests run the service in their own."""
    return os.environ.get("CRM_SALES_SCHEMA", SALES_CONTEXT.schema)


async def migrate(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await migrate_schema(conn, sales_schema(), SALES_SETS)
    finally:
        await conn.close()
