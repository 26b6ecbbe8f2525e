"""When an erasure may go ahead, what it takes with it, what it keeps, and when it is done.

Pure functions of facts read in the erasure's own transaction (``application.facts``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from uuid import UUID

KeyState = Literal["active", "erased", "unknown"]
Basis = Literal["data_subject_request", "retention_expired", "other"]

EXPECTED_STORES: tuple[str, ...] = ("timeline", "customer360", "sales")
"""Every store that keeps personal data in plain text and must say it forgot the subject
(``crm_privacy.erasure_progress``) before an erasure is complete. A new store that keeps
personal data adds its name here."""

FISCAL_RECORDS = (
    "fiscal records: order amounts, dates and products stay in the event store and the "
    "read models (they are not personal fields); the person they name does not"
)
"""The standing legal hold of tax law: sales must stay accountable after an erasure."""


@dataclass(frozen=True)
class Hold:
    hold_id: UUID
    subject_id: str
    reason: str
    until: datetime | None
    placed_at: datetime
    released_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Not released and not expired (no ``until``: until released)."""
        return self.released_at is None and (self.until is None or self.until > now)


@dataclass(frozen=True)
class SubjectFacts:
    """What the CRM knows of a subject, read in the transaction that decides."""

    subject_id: str
    key_state: KeyState
    has_profile: bool
    merged_into_subject: tuple[str, ...] = ()
    """Records merged into the subject (customer 360's ``merged_from``, timeline merges)."""
    holds: tuple[Hold, ...] = field(default=())
    """Holds on the subject and on the records merged into it."""

    @property
    def known(self) -> bool:
        return self.key_state != "unknown" or self.has_profile


class SubjectUnknown(Exception):
    def __init__(self, subject: str) -> None:
        super().__init__(f"the CRM holds nothing about data subject {subject!r}")
        self.subject = subject


class AlreadyErased(Exception):
    def __init__(self, subject: str) -> None:
        super().__init__(f"the personal data of {subject!r} was already erased")
        self.subject = subject


class UnderLegalHold(Exception):
    def __init__(self, hold: Hold) -> None:
        until = f" until {hold.until.isoformat()}" if hold.until else " until released"
        super().__init__(
            f"legal hold {hold.hold_id} keeps the personal data of {hold.subject_id!r}"
            f"{until}: {hold.reason}"
        )
        self.hold = hold


def require_known(facts: SubjectFacts) -> None:
    if not facts.known:
        raise SubjectUnknown(facts.subject_id)


def check_erasure(facts: SubjectFacts, now: datetime) -> list[str]:
    """The records erased with the subject; raises why the erasure is refused.

    Unknown first (nothing to erase), then already erased (nothing left), then a hold
    (something the law keeps): the most useful answer to the requester comes first.
    """
    require_known(facts)
    if facts.key_state == "erased":
        raise AlreadyErased(facts.subject_id)
    for hold in sorted(facts.holds, key=lambda h: h.placed_at):
        if hold.active(now):
            raise UnderLegalHold(hold)
    return sorted(set(facts.merged_into_subject) - {facts.subject_id})


RETAINED: tuple[str, ...] = (FISCAL_RECORDS,)
"""What every erasure keeps. Only standing rules: an active legal hold refuses the erasure
instead of keeping part of it, and an expired one keeps nothing."""


@dataclass(frozen=True)
class StoreProgress:
    store: str
    done_at: datetime | None


def progress(
    done: Mapping[str, datetime], expected: Sequence[str] = EXPECTED_STORES
) -> tuple[str, list[StoreProgress]]:
    """(status, per-store progress): ``completed`` once every expected store said it
    forgot the subject, ``keys_destroyed`` until then. Stores beyond the expected ones
    (a new read model) are shown but not waited for."""
    stores = [*expected, *sorted(set(done) - set(expected))]
    rows = [StoreProgress(store, done.get(store)) for store in stores]
    status = "completed" if all(s in done for s in expected) else "keys_destroyed"
    return status, rows
