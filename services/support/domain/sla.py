"""SLA policies and the clocks a case's history gives them.

A policy is chosen by the case's priority, category and customer tier and names a
business calendar and a target, in business minutes, per metric. The clocks are derived
afresh from the case's history and ``now`` every time; nothing is counted in place, so a
new calendar or policy version applied to the same history gives the new deadlines.

Rules:

* Time counts only in the calendar's business hours, and only while the case's status is
  ``new`` or ``open``. ``pending`` (waiting on the customer) and ``on_hold`` (waiting on
  a third party) pause every running clock; ``solved`` and ``closed`` stop it. A paused
  clock keeps the time it had (a pause never takes time away) and has no due or warning
  instant (``None``) until it resumes.
* Status changes only by the history's events: ``opened`` (new), ``status``, ``solved``,
  ``reopened`` (open) and ``closed``. A customer message does not reopen a pending case by
  itself; the case decides that and records a status event.
* first_response: from the opening to the first agent reply (public replies only).
* next_reply: a cycle starts at the first customer message after an agent reply and ends
  at the next agent reply; cycles are numbered 1, 2, ... and only the latest is returned.
  Before the first cycle starts there is no next_reply clock.
* resolution: from the opening until the case is solved (or closed). An agent reply does
  not fulfil it. Reopening continues the same resolution clock, it does not restart it:
  the business time before the solve still counts, the time spent solved does not, and the
  clock's cycle is 1 plus the number of reopenings. first_response stays fulfilled.
* An unanswered first response or next reply of a solved or closed case is reported
  paused: it resumes if the case is reopened.
* A case opened outside business hours (a weekend, a holiday) starts counting at the next
  opening; ``started_at`` is still the instant the clock started.
* ``breached`` is elapsed business time >= target, at ``now`` or, for a fulfilled clock,
  at fulfilment (so ``breached`` False on a fulfilled clock means it was met).
* ``due_at`` / ``warn_at``: the instant the elapsed time reaches the target / the warning
  fraction of it. Past if already reached; otherwise projected from ``now`` as if the
  status stayed as it is; for a fulfilled clock not yet reached, the remaining business
  time added to the fulfilment instant.
* Instants are truncated to the whole second; events after ``now`` are not yet known.
  Events are taken in time order (a stable sort: equal instants keep the given order).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Literal, cast, get_args

from services.support.domain.business_hours import (
    BusinessCalendar,
    add_business_seconds,
    business_seconds_between,
)

Metric = Literal["first_response", "next_reply", "resolution"]
EventKind = Literal[
    "opened", "status", "agent_reply", "customer_message", "solved", "reopened", "closed"
]
Status = Literal["new", "open", "pending", "on_hold", "solved", "closed"]

METRICS: tuple[Metric, ...] = get_args(Metric)
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))
STATUSES: frozenset[str] = frozenset(get_args(Status))
COUNTING: frozenset[str] = frozenset({"new", "open"})
STOPPED: frozenset[str] = frozenset({"solved", "closed"})
_KIND_STATUS: dict[str, str] = {
    "opened": "new",
    "solved": "solved",
    "reopened": "open",
    "closed": "closed",
}


@dataclass(frozen=True)
class SlaPolicy:
    policy_id: str
    version: int
    name: str
    calendar_id: str
    targets: Mapping[Metric, int]
    priorities: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    warn_at: float = 0.8

    def __post_init__(self) -> None:
        for name in ("policy_id", "name", "calendar_id"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValueError(f"{_json_name(name)}: must be a non-empty string")
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise ValueError("version: must be an integer, 1 or more")
        if not isinstance(self.targets, Mapping) or not self.targets:
            raise ValueError("targets: a policy needs at least one metric target")
        for metric, minutes in self.targets.items():
            if metric not in METRICS:
                raise ValueError(f"targets: unknown metric {metric!r}, expected one of {METRICS}")
            if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
                raise ValueError(f"targets.{metric}: must be a positive number of minutes")
        for name in ("priorities", "categories", "tiers"):
            values = getattr(self, name)
            if not all(isinstance(v, str) and v for v in values):
                raise ValueError(f"match.{name}: must be a list of non-empty strings")
            object.__setattr__(self, name, tuple(values))
        if isinstance(self.warn_at, bool) or not isinstance(self.warn_at, int | float):
            raise ValueError("warn_at: must be a fraction of the target")
        if not 0 < self.warn_at <= 1:
            raise ValueError("warn_at: must be more than 0 and at most 1")
        ordered = {m: self.targets[m] for m in METRICS if m in self.targets}
        object.__setattr__(self, "targets", MappingProxyType(ordered))

    @property
    def specificity(self) -> int:
        return sum(1 for values in (self.priorities, self.categories, self.tiers) if values)

    def matches(self, priority: str, category: str | None, tier: str | None) -> bool:
        return (
            (not self.priorities or priority in self.priorities)
            and (not self.categories or category in self.categories)
            and (not self.tiers or tier in self.tiers)
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SlaPolicy:
        if not isinstance(data, Mapping):
            raise ValueError("policy: must be an object")
        unknown = set(data) - {"id", "version", "name", "match", "calendar", "targets", "warn_at"}
        if unknown:
            raise ValueError(f"policy: unknown fields {sorted(unknown)}")
        for name in ("id", "version", "name", "calendar", "targets"):
            if name not in data:
                raise ValueError(f"{name}: required")
        match = data.get("match", {})
        if not isinstance(match, Mapping) or set(match) - {"priorities", "categories", "tiers"}:
            raise ValueError("match: an object with priorities, categories and tiers lists")
        conditions = {}
        for name in ("priorities", "categories", "tiers"):
            values = match.get(name, [])
            if not isinstance(values, list):
                raise ValueError(f"match.{name}: must be a list of non-empty strings")
            conditions[name] = tuple(values)
        targets = data["targets"]
        if not isinstance(targets, Mapping):
            raise ValueError("targets: must map metrics to minutes")
        return cls(
            policy_id=data["id"],
            version=data["version"],
            name=data["name"],
            calendar_id=data["calendar"],
            targets=cast(Mapping[Metric, int], targets),
            warn_at=data.get("warn_at", 0.8),
            **conditions,
        )

    def to_dict(self) -> dict[str, Any]:
        match = {
            name: list(values)
            for name, values in (
                ("priorities", self.priorities),
                ("categories", self.categories),
                ("tiers", self.tiers),
            )
            if values
        }
        return {
            "id": self.policy_id,
            "version": self.version,
            "name": self.name,
            "match": match,
            "calendar": self.calendar_id,
            "targets": dict(self.targets),
            "warn_at": self.warn_at,
        }


@dataclass(frozen=True)
class PolicySet:
    """Policies in file order; exactly one has no match conditions and is the default."""

    policies: tuple[SlaPolicy, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "policies", tuple(self.policies))
        ids = [p.policy_id for p in self.policies]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"policies: duplicate ids {duplicates}")
        defaults = [p.policy_id for p in self.policies if p.specificity == 0]
        if not defaults:
            raise ValueError("policies: a default policy (one without match conditions) is needed")
        if len(defaults) > 1:
            raise ValueError(f"policies: more than one default policy {defaults}")

    def by_id(self, policy_id: str) -> SlaPolicy:
        """The policy a case recorded; an unknown id (a policy since removed): the default."""
        for policy in self.policies:
            if policy.policy_id == policy_id:
                return policy
        return next(p for p in self.policies if p.specificity == 0)

    def select(self, priority: str, category: str | None, tier: str | None) -> SlaPolicy:
        """The matching policy with the most conditions; among equals, the first in order."""
        matching = (p for p in self.policies if p.matches(priority, category, tier))
        return max(matching, key=lambda p: p.specificity)  # max keeps the first of equals

    @classmethod
    def from_dict(cls, data: Sequence[Mapping[str, Any]]) -> PolicySet:
        if not isinstance(data, list):
            raise ValueError("policies: must be a list of policies")
        policies = []
        for index, item in enumerate(data):
            try:
                policies.append(SlaPolicy.from_dict(item))
            except ValueError as exc:
                raise ValueError(f"policies[{index}].{exc}") from None
        return cls(tuple(policies))

    def to_dict(self) -> list[dict[str, Any]]:
        return [p.to_dict() for p in self.policies]


@dataclass(frozen=True)
class ClockEvent:
    at: datetime
    kind: EventKind
    status: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("at: must be timezone-aware")
        if self.kind not in EVENT_KINDS:
            raise ValueError(f"kind: unknown event kind {self.kind!r}")
        if self.kind == "status" and self.status not in STATUSES:
            raise ValueError(f"status: expected one of {sorted(STATUSES)}, got {self.status!r}")
        if self.kind != "status" and self.status is not None:
            raise ValueError(f"status: only a 'status' event carries one, not {self.kind!r}")


@dataclass(frozen=True)
class Clock:
    metric: Metric
    target_minutes: int
    started_at: datetime
    due_at: datetime | None
    warn_at: datetime | None
    fulfilled_at: datetime | None
    paused: bool
    breached: bool
    elapsed_seconds: int
    cycle: int


@dataclass(frozen=True)
class _Window:
    started_at: datetime
    fulfilled_at: datetime | None
    cycle: int = 1


@dataclass
class _Replay:
    """What the clocks need from a history, read in one pass."""

    opened: datetime
    counting: list[tuple[datetime, datetime]] = field(default_factory=list)
    status: str = "new"
    first_reply: datetime | None = None
    cycle_start: datetime | None = None
    cycle_end: datetime | None = None
    cycles: int = 0
    solved_at: datetime | None = None
    reopenings: int = 0


def clocks(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    history: Sequence[ClockEvent],
    now: datetime,
) -> tuple[Clock, ...]:
    if policy.calendar_id != calendar.calendar_id:
        raise ValueError(
            f"calendar: policy {policy.policy_id} is measured in {policy.calendar_id}, "
            f"not {calendar.calendar_id}"
        )
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now: must be timezone-aware")
    now = _second(now)
    replay = _replay(history, now)
    windows: dict[Metric, _Window] = {
        "first_response": _Window(replay.opened, replay.first_reply),
        "resolution": _Window(replay.opened, replay.solved_at, 1 + replay.reopenings),
    }
    if replay.cycle_start is not None:
        windows["next_reply"] = _Window(replay.cycle_start, replay.cycle_end, replay.cycles)
    counting_now = replay.status in COUNTING
    return tuple(
        _clock(policy, calendar, metric, windows[metric], replay.counting, counting_now, now)
        for metric in policy.targets
        if metric in windows
    )


def _replay(history: Sequence[ClockEvent], now: datetime) -> _Replay:
    timed = sorted(((_second(e.at), e) for e in history), key=lambda pair: pair[0])
    events = [(at, e) for at, e in timed if at <= now]
    if not events or events[0][1].kind != "opened":
        raise ValueError("history: the first event must be the case's opening ('opened')")
    if any(e.kind == "opened" for _, e in events[1:]):
        raise ValueError("history: a case is opened once")
    replay = _Replay(opened=events[0][0])
    since = replay.opened
    for at, event in events:
        status = _KIND_STATUS.get(event.kind) or event.status or replay.status
        if status != replay.status:
            if replay.status in COUNTING and since < at:
                replay.counting.append((since, at))
            if replay.status in STOPPED and status not in STOPPED:
                replay.reopenings += 1
                replay.solved_at = None
            if status in STOPPED and replay.status not in STOPPED:
                replay.solved_at = at
            replay.status, since = status, at
        if event.kind == "agent_reply":
            replay.first_reply = replay.first_reply or at
            if replay.cycle_start is not None and replay.cycle_end is None:
                replay.cycle_end = at
        elif event.kind == "customer_message" and replay.first_reply is not None:
            awaiting = replay.cycle_start is not None and replay.cycle_end is None
            if not awaiting:  # a further message while awaiting a reply starts no new cycle
                replay.cycle_start, replay.cycle_end = at, None
                replay.cycles += 1
    if replay.status in COUNTING and since < now:
        replay.counting.append((since, now))
    return replay


def _clock(
    policy: SlaPolicy,
    calendar: BusinessCalendar,
    metric: Metric,
    window: _Window,
    counting: list[tuple[datetime, datetime]],
    counting_now: bool,
    now: datetime,
) -> Clock:
    end = window.fulfilled_at or now
    target = policy.targets[metric] * 60
    marks = {"due": target, "warn": round(target * policy.warn_at)}
    reached: dict[str, datetime] = {}
    elapsed = 0
    for a, b in counting:
        a, b = max(a, window.started_at), min(b, end)
        if a >= b:
            continue
        part = business_seconds_between(calendar, a, b)
        for name, mark in marks.items():
            if name not in reached and elapsed + part >= mark:
                reached[name] = add_business_seconds(calendar, a, mark - elapsed)
        elapsed += part
    paused = window.fulfilled_at is None and not counting_now
    projected: dict[str, datetime | None] = {}
    for name, mark in marks.items():
        if paused:
            projected[name] = None
        elif name in reached:
            projected[name] = reached[name]
        else:
            projected[name] = add_business_seconds(calendar, end, mark - elapsed)
    return Clock(
        metric=metric,
        target_minutes=policy.targets[metric],
        started_at=window.started_at,
        due_at=projected["due"],
        warn_at=projected["warn"],
        fulfilled_at=window.fulfilled_at,
        paused=paused,
        breached=elapsed >= target,
        elapsed_seconds=elapsed,
        cycle=window.cycle,
    )


def _second(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=0)


def _json_name(field_name: str) -> str:
    return {"policy_id": "id", "calendar_id": "calendar"}.get(field_name, field_name)
