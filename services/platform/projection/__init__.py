"""Versioned projections: rebuilt from offset 0 into a fresh schema, swapped in live.

A projection ``timeline`` lives in versioned schemas ``timeline_v1``, ``timeline_v2`` …,
each filled by its own consumer group ``projection.timeline.vN``. Readers (APIs,
analysts) use the schema ``timeline``, whose views point at the live version.

Rebuilding (``crm projection rebuild timeline``) creates the next version, consumes every
topic from offset 0 into it, and once it has caught up swaps the views in one
transaction: readers never see an empty or half-built table. The projector process
notices the swap and continues with the new version's consumer group, from where the
rebuild stopped.
"""

from services.platform.projection.applying import LIVE_BATCH, REPLAY_BATCH
from services.platform.projection.live import run_live
from services.platform.projection.replaying import (
    REPLAY_PARSE_CHUNK,
    rebuild,
    replay,
    replay_workers,
)
from services.platform.projection.spec import ANALYST_ROLE, ProjectionSpec, Version
from services.platform.projection.versions import (
    create_version,
    ensure_live,
    live_version,
    swap_in,
)

__all__ = [
    "ANALYST_ROLE",
    "LIVE_BATCH",
    "REPLAY_BATCH",
    "REPLAY_PARSE_CHUNK",
    "ProjectionSpec",
    "Version",
    "create_version",
    "ensure_live",
    "live_version",
    "rebuild",
    "replay",
    "replay_workers",
    "run_live",
    "swap_in",
]
