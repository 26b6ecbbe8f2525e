"""Two small aggregates of the seller's day: logged activities and follow-up reminders.

* Activity (stream ``activity-<id>``): a call, meeting, task, note or e-mail, logged once.
* Follow-up (stream ``follow-up-<id>``): a reminder scheduled for an owner. The
  application's scheduler sends ``MarkFollowUpDue`` as often as it likes; the decider emits
  ``FollowUpDue`` once, at or after the due time, which makes the reminder fire exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Literal, get_args
from uuid import UUID

from contracts.events.sales import (
    ActivityKind,
    ActivityLogged,
    FollowUpDue,
    FollowUpScheduled,
    RelatedTo,
)
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError
from services.sales.domain.identity import TextCodes, optional_text, required_text

FollowUpChannel = Literal["email", "messaging", "in_app"]

ACTIVITY_KINDS: frozenset[str] = frozenset(get_args(ActivityKind))
FOLLOW_UP_CHANNELS: frozenset[str] = frozenset(get_args(FollowUpChannel))
MAX_ID_LENGTH = 200
MAX_SUBJECT_LENGTH = 300
MAX_NOTES_LENGTH = 10000
MAX_OUTCOME_LENGTH = 500
MINUTES_PER_DAY = 24 * 60
# RelatedTo is a frozen model, so one shared default instance is safe.
NO_RELATION = RelatedTo()


# ------------------------------------------------------------------------ activities
@dataclass(frozen=True)
class LogActivity:
    activity_id: UUID
    customer_id: str
    kind: ActivityKind
    subject: str
    happened_at: datetime
    notes: str | None = None
    outcome: str | None = None
    duration_minutes: int | None = None
    actor_id: str | None = None
    related: RelatedTo = NO_RELATION


ActivityCommand = LogActivity


@dataclass(frozen=True)
class Activity:
    exists: bool = False
    customer_id: str = ""
    kind: ActivityKind = "note"
    happened_at: datetime | None = None


def decide_activity(command: ActivityCommand, state: Activity) -> Sequence[DomainEvent]:
    match command:
        case LogActivity():
            if state.exists:
                raise DomainError("activity already logged", code="already-exists")
            if command.kind not in ACTIVITY_KINDS:
                raise DomainError(
                    f"kind must be one of {sorted(ACTIVITY_KINDS)}", field="kind", code="invalid"
                )
            duration = command.duration_minutes
            if duration is not None and (
                isinstance(duration, bool)
                or not isinstance(duration, int)
                or not 0 <= duration <= MINUTES_PER_DAY
            ):
                raise DomainError(
                    "duration must be 0..1440 minutes", field="duration_minutes", code="invalid"
                )
            return [
                ActivityLogged(
                    activity_id=command.activity_id,
                    customer_id=_required_text(command.customer_id, "customer_id", MAX_ID_LENGTH),
                    kind=command.kind,
                    subject=_required_text(command.subject, "subject", MAX_SUBJECT_LENGTH),
                    notes=_optional_text(command.notes, "notes", MAX_NOTES_LENGTH),
                    outcome=_optional_text(command.outcome, "outcome", MAX_OUTCOME_LENGTH),
                    duration_minutes=duration,
                    happened_at=_aware_utc(command.happened_at, "happened_at"),
                    actor_id=_optional_text(command.actor_id, "actor_id", MAX_ID_LENGTH),
                    related=command.related,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def evolve_activity(state: Activity, event: DomainEvent) -> Activity:
    match event:
        case ActivityLogged():
            return Activity(
                exists=True,
                customer_id=event.customer_id,
                kind=event.kind,
                happened_at=event.happened_at,
            )
    return state


activity_decider = Decider(decide=decide_activity, evolve=evolve_activity, initial_state=Activity())


def activity_stream_id(activity_id: UUID) -> str:
    return f"activity-{activity_id}"


# ------------------------------------------------------------------------ follow-ups
@dataclass(frozen=True)
class ScheduleFollowUp:
    follow_up_id: UUID
    customer_id: str
    owner_id: str
    subject: str
    due_at: datetime
    now: datetime
    channel: FollowUpChannel = "in_app"
    related: RelatedTo = NO_RELATION


@dataclass(frozen=True)
class MarkFollowUpDue:
    follow_up_id: UUID
    now: datetime


FollowUpCommand = ScheduleFollowUp | MarkFollowUpDue


@dataclass(frozen=True)
class FollowUp:
    exists: bool = False
    customer_id: str = ""
    owner_id: str = ""
    subject: str = ""
    due_at: datetime | None = None
    channel: FollowUpChannel = "in_app"
    due_marked: bool = False


def decide_follow_up(command: FollowUpCommand, state: FollowUp) -> Sequence[DomainEvent]:
    match command:
        case ScheduleFollowUp():
            if state.exists:
                raise DomainError("follow-up already scheduled", code="already-exists")
            now = _aware_utc(command.now, "now")
            due_at = _aware_utc(command.due_at, "due_at")
            if due_at <= now:
                raise DomainError("a follow-up is due in the future", field="due_at", code="past")
            if command.channel not in FOLLOW_UP_CHANNELS:
                raise DomainError(
                    f"channel must be one of {sorted(FOLLOW_UP_CHANNELS)}",
                    field="channel",
                    code="invalid",
                )
            return [
                FollowUpScheduled(
                    follow_up_id=command.follow_up_id,
                    customer_id=_required_text(command.customer_id, "customer_id", MAX_ID_LENGTH),
                    owner_id=_required_text(command.owner_id, "owner_id", MAX_ID_LENGTH),
                    due_at=due_at,
                    subject=_required_text(command.subject, "subject", MAX_SUBJECT_LENGTH),
                    channel=command.channel,
                    related=command.related,
                )
            ]
        case MarkFollowUpDue():
            if not state.exists or state.due_at is None:
                raise DomainError("no such follow-up", code="not-found")
            now = _aware_utc(command.now, "now")
            if state.due_marked or now < state.due_at:
                return []
            return [
                FollowUpDue(
                    follow_up_id=command.follow_up_id,
                    customer_id=state.customer_id,
                    owner_id=state.owner_id,
                    due_at=state.due_at,
                    subject=state.subject,
                    channel=state.channel,
                )
            ]
    raise TypeError(f"unknown command {command!r}")


def evolve_follow_up(state: FollowUp, event: DomainEvent) -> FollowUp:
    match event:
        case FollowUpScheduled():
            return FollowUp(
                exists=True,
                customer_id=event.customer_id,
                owner_id=event.owner_id,
                subject=event.subject,
                due_at=event.due_at,
                channel=event.channel,
            )
        case FollowUpDue():
            return replace(state, due_marked=True)
    return state


follow_up_decider = Decider(
    decide=decide_follow_up, evolve=evolve_follow_up, initial_state=FollowUp()
)


def follow_up_stream_id(follow_up_id: UUID) -> str:
    return f"follow-up-{follow_up_id}"


# --------------------------------------------------------------------------- helpers
def _aware_utc(moment: object, field: str) -> datetime:
    if not isinstance(moment, datetime):
        raise DomainError("a date and time is required", field=field, code="invalid")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise DomainError(
            "a time zone is required (naive date and time)", field=field, code="naive-datetime"
        )
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-12:00 has no UTC datetime
        raise DomainError("date and time out of range", field=field, code="invalid") from None


# An activity's refusals name what is wrong with the text (its problem types since v1).
_CODES = TextCodes(blank="required", too_long="too-long", not_text="invalid")


def _required_text(value: object, field: str, max_length: int) -> str:
    return required_text(value, field=field, max_length=max_length, codes=_CODES)


def _optional_text(value: object, field: str, max_length: int) -> str | None:
    return optional_text(value, field=field, max_length=max_length, codes=_CODES)
