"""The privacy context's schema: the event store plus its private records, in order.

``crm migrate`` finds this module through the service catalogue and calls ``migrate``.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

from contracts.catalogue import PRIVACY_CONTEXT
from services.platform.migrate import EVENT_STORE, MigrationSet, migrate_schema

PRIVACY_STATE = MigrationSet("privacy_state", Path(__file__).parent)
"""Erasure requests, legal holds, the audit trail."""
PRIVACY_SETS = (EVENT_STORE, PRIVACY_STATE)


def privacy_schema() -> str:
    """The privacy store's schema; tests run the service in their own."""
    return os.environ.get("CRM_PRIVACY_SCHEMA", PRIVACY_CONTEXT.schema)


async def migrate(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await migrate_schema(conn, privacy_schema(), PRIVACY_SETS)
    finally:
        await conn.close()
