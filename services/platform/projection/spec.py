"""What a projection is (its spec) and what a version of it is."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from services.platform.consumer import (
    BatchHandler,
    Handler,
)

ANALYST_ROLE = "crm_analyst"


@dataclass(frozen=True)
class ProjectionSpec:
    name: str
    sql_files: tuple[Path, ...]
    handler: Handler
    topics: tuple[str, ...]
    dead_letter_topic: str
    batch_handler: BatchHandler | None = None
    parallel_replay: bool = False
    """Its writers may run at once (its tables say how: keys, locks), so a rebuild may
    replay the partitions in several processes."""

    @property
    def layout(self) -> str:
        """Digest of the projection's DDL: versions built from other DDL are rebuilt."""
        digest = hashlib.sha256()
        for file in self.sql_files:
            digest.update(file.read_bytes())
        return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Version:
    projection: str
    number: int
    schema: str
    group: str
    status: str
    layout: str | None = None
