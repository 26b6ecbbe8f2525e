"""The access request (DSAR, portability): everything the CRM holds about a subject in
one JSON document, personal fields decrypted (the read models hold them in plain text
until erasure). The export itself is audited, in the same snapshot it reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projections.timeline.queries import ENTRY_COLUMNS, entry_from_row
from services.privacy.application import audit
from services.privacy.application.erasures import requests_of
from services.privacy.application.facts import profile, read_model_rows, subject_facts
from services.privacy.application.holds import holds_of
from services.privacy.application.runtime import Actor, PrivacyRuntime
from services.privacy.domain.rules import require_known

MAX_TIMELINE_ENTRIES = 100_000
"""More than any customer has today; a longer history would want a streamed export."""


@dataclass(frozen=True)
class ExportSubject:
    subject_id: str
    actor: Actor


async def export(
    runtime: PrivacyRuntime, command: ExportSubject, correlation_id: str | None = None
) -> dict[str, Any]:
    """The document; ``SubjectUnknown`` when the CRM holds nothing about the subject."""
    subject = command.subject_id
    now = runtime.clock()
    async with runtime.pool.acquire() as conn, conn.transaction(isolation="repeatable_read"):
        facts = await subject_facts(runtime, conn, subject)
        require_known(facts)
        entries = await read_model_rows(
            conn,
            f"SELECT {ENTRY_COLUMNS} FROM {runtime.read_models.timeline}.timeline_entries "
            "WHERE customer_id = $1 ORDER BY occurred_at, sort_key LIMIT $2",
            subject,
            MAX_TIMELINE_ENTRIES,
        )
        await audit.record(conn, command.actor, audit.EXPORT, subject, now,
                           correlation_id=correlation_id)  # fmt: skip
        return {
            "subject_id": subject,
            "exported_at": now.isoformat(),
            "exported_by": command.actor.actor_id,
            "key_state": facts.key_state,
            "merged_into_subject": list(facts.merged_into_subject),
            "customer_profile": await profile(runtime, conn, subject),
            "timeline": [_json_entry(entry_from_row(r)) for r in entries],
            "erasure_requests": await requests_of(runtime, conn, subject),
            "legal_holds": await holds_of(runtime, conn, subject),
            "audit_trail": await audit.trail(conn, subject),
        }


def _json_entry(entry: dict[str, Any]) -> dict[str, Any]:
    for name in ("occurred_at", "projected_at"):
        if entry.get(name) is not None:
            entry[name] = entry[name].isoformat()
    entry["event_id"] = str(entry["event_id"])
    return entry
