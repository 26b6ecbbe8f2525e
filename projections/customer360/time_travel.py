"""The customer's profile as it stood at any past instant.

The timeline keeps every event that concerns a customer (with its payload); folding
those that occurred by ``as_of`` with the same pure reducer the live projection uses
gives the profile at that instant — no snapshot tables to keep. An erased subject's
entries hold erased payloads, and its erasure is an entry too: folded through the
erasure mask, the past profile shows the erasure as the live one does.
"""

from __future__ import annotations

from datetime import datetime

from contracts.registry import event_class
from projections.customer360.erasure import fold_masked
from projections.customer360.model import Profile
from projections.timeline.queries import entries_up_to
from services.platform.db import Connection


async def profile_as_of(timeline: Connection, customer_id: str, as_of: datetime) -> Profile | None:
    """``timeline``: a connection whose search path reads the timeline's schema."""
    entries = await entries_up_to(timeline, customer_id, as_of)
    events = ((event_class(kind).model_validate(payload), at) for kind, payload, at in entries)
    return fold_masked(events, customer_id=customer_id)
