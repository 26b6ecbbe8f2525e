"""The support context's schema: the event store, its private state, the inbox.

``crm migrate`` finds this module through the service catalogue and calls ``migrate``.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

from contracts.catalogue import SUPPORT_CONTEXT
from services.platform.migrate import EVENT_STORE, INBOX, MigrationSet, migrate_schema

SUPPORT_STATE = MigrationSet("support", Path(__file__).parent)
"""Known customers and orders, the case index, SLA clocks, articles, mail, self-service."""
SUPPORT_SETS = (EVENT_STORE, SUPPORT_STATE, INBOX)
"""What every support process needs, in order (the inbox: the worker's consumers)."""


def support_schema() -> str:
    """The support store's schema; benchmarks and tests run the service in their own."""
    return os.environ.get("CRM_SUPPORT_SCHEMA", SUPPORT_CONTEXT.schema)


async def migrate(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await migrate_schema(conn, support_schema(), SUPPORT_SETS)
    finally:
        await conn.close()
