"""Every projection the system runs: what it consumes and how it applies an event."""

from __future__ import annotations

from contracts.topics import DEAD_LETTER, EXTERNAL, PRIVACY, SALES, SUPPORT
from services.platform.projection import ProjectionSpec

SOURCE_TOPICS = (SALES.name, SUPPORT.name, EXTERNAL.name, PRIVACY.name)
"""The privacy topic too: its erasures make every read model forget a subject."""


def timeline() -> ProjectionSpec:
    from projections.timeline.projector import SCHEMA_SQL, project, project_batch

    # Parallel replays: rows are keyed by event, and writers lock out merges in flight.
    return ProjectionSpec(
        "timeline", (SCHEMA_SQL,), project, SOURCE_TOPICS, DEAD_LETTER.name, project_batch,
        parallel_replay=True,
    )  # fmt: skip


def customer360() -> ProjectionSpec:
    from projections.customer360.projector import SCHEMA_SQL, project, project_batch

    return ProjectionSpec(
        "customer360", (SCHEMA_SQL,), project, SOURCE_TOPICS, DEAD_LETTER.name, project_batch
    )


PROJECTIONS = {"timeline": timeline, "customer360": customer360}


def spec(name: str) -> ProjectionSpec:
    try:
        return PROJECTIONS[name]()
    except KeyError:
        raise LookupError(f"no projection {name!r}; known: {', '.join(PROJECTIONS)}") from None
