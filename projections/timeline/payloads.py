"""What of an event's payload the timeline stores.

The timeline keeps each event's payload (time travel folds the customer 360 from it), and
sellers, marketers and analysts read it, not only the agents on the case. An internal
note is written for agents: its body is withheld, replaced by a marker rather than
dropped so the stored payload still validates as the event (time travel re-reads it).
The support context keeps the note, sealed with the customer's key.
"""

from __future__ import annotations

from typing import Any

from contracts.events.support import MessageAdded
from contracts.registry import DomainEvent

WITHHELD = "[internal note withheld]"


def stored_payload(event: DomainEvent) -> dict[str, Any]:
    """``event`` as JSON, as the timeline stores it."""
    payload: dict[str, Any] = event.model_dump(mode="json")
    if isinstance(event, MessageAdded) and event.kind == "internal_note":
        payload["body"] = WITHHELD
    return payload
