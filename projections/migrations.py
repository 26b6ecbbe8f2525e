"""``crm migrate`` for the projections: the catalogue of versions, and a live version 1
of every projection that has none, so that a projector's first start creates nothing."""

from __future__ import annotations

from projections.registry import PROJECTIONS
from services.platform.projection import ensure_live


async def migrate(database_url: str) -> list[str]:
    done = []
    for name, make_spec in PROJECTIONS.items():
        version = await ensure_live(database_url, make_spec())
        done.append(f"{name}: version {version.number} live")
    return done
