"""The key registry's schema (``crm_privacy``), migrated first by ``crm migrate``: every
process that seals or opens personal data needs it."""

from __future__ import annotations

import asyncpg

from services.platform.migrate import migrate_schema
from services.platform.privacy.data_keys import DATA_KEYS, data_keys_schema


async def migrate(database_url: str) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        return await migrate_schema(conn, data_keys_schema(), (DATA_KEYS,))
    finally:
        await conn.close()
