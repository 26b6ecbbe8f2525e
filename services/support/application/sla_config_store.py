"""The SLA configuration stored in PostgreSQL, versioned, and read by every command.

Every process reads the number of the configuration in force in each command's
transaction (one indexed row) and parses the document again only when the number moved,
so a change made through any process applies to the next command of all of them.

A change and the commands exclude each other with one advisory lock per schema: commands
take it shared (they never wait on each other), a change takes it exclusive. So a
command either sees the old configuration and commits before the change recomputes its
case, or waits and sees the new one: no case is left with clocks of a version that is no
longer in force. Version 1 is the file configuration, stored on first use.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import orjson

from services.platform.db import Connection
from services.support.application.sla_settings import SlaSettings
from services.support.domain.sla_versions import SlaConfig

if TYPE_CHECKING:
    from services.support.application.runtime import SupportRuntime

_LOCK_KEY = "hashtext(current_schema() || '.sla_config')"


async def share_config(conn: Connection) -> None:
    """Hold off any configuration change until this transaction ends."""
    await conn.execute(f"SELECT pg_advisory_xact_lock_shared({_LOCK_KEY})")


async def lock_config(conn: Connection) -> None:
    """Wait for running commands and keep new ones waiting until this transaction ends."""
    await conn.execute(f"SELECT pg_advisory_xact_lock({_LOCK_KEY})")


async def current_sla(conn: Connection, deps: SupportRuntime) -> SlaSettings:
    """The configuration in force (and ``deps.sla`` brought up to it); call inside the
    transaction, after ``share_config`` or ``lock_config``."""
    version = await conn.fetchval("SELECT max(version) FROM sla_config_versions")
    if version is None:
        await _seed(conn, deps.sla, deps.clock())
        version = 1
    if version != deps.sla.version:
        raw = await conn.fetchval("SELECT config FROM sla_config_versions WHERE version = $1",
                                  version)  # fmt: skip
        deps.sla = SlaSettings.of(SlaConfig.from_dict(version, orjson.loads(raw)))
    return deps.sla


async def _seed(conn: Connection, settings: SlaSettings, now: datetime) -> None:
    await conn.execute(
        "INSERT INTO sla_config_versions (version, config, change, created_at) "
        "VALUES (1, $1::jsonb, 'seed: config/sla.json', $2) ON CONFLICT (version) DO NOTHING",
        orjson.dumps(settings.as_config().to_dict()).decode(), now,
    )  # fmt: skip


async def store_version(conn: Connection, config: SlaConfig, change: str,
                        changed_by: str | None, now: datetime) -> None:  # fmt: skip
    await conn.execute(
        "INSERT INTO sla_config_versions (version, config, change, changed_by, created_at) "
        "VALUES ($1, $2::jsonb, $3, $4, $5)",
        config.version, orjson.dumps(config.to_dict()).decode(), change, changed_by, now,
    )  # fmt: skip


async def note_recomputed(conn: Connection, version: int, cases: int) -> None:
    await conn.execute("UPDATE sla_config_versions SET recomputed = $2 WHERE version = $1",
                       version, cases)  # fmt: skip


async def last_versions(conn: Connection, kind: str) -> dict[str, int]:
    """The highest version each calendar or policy id ever had, over the whole history
    (so a removed and re-added id never reuses a version)."""
    rows = await conn.fetch(
        "SELECT item->>'id' AS id, max((item->>'version')::int) AS version "
        "FROM sla_config_versions, jsonb_array_elements(config->$1) AS item GROUP BY 1",
        kind,
    )  # fmt: skip
    return {r["id"]: r["version"] for r in rows}


async def history(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT version, change, changed_by, recomputed, created_at FROM sla_config_versions "
        "ORDER BY version"
    )
    return [dict(r) for r in rows]
