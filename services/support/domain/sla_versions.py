"""Versions of the SLA configuration and the edits a supervisor makes to it (pure).

The configuration in force is one document (``domain.sla_config``) with a number: each
change that alters something writes the whole document again as the next number. Inside
it each calendar and each policy keeps its own version, the one a case's clocks record:
an edited calendar or policy takes the next version of its own id, an untouched one keeps
its version, so a case's clocks say exactly which rules they were measured under.

Errors are ``ValueError("<field>: <why>")``, the field named as the request body names it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.support.domain.business_hours import BusinessCalendar
from services.support.domain.sla import PolicySet, SlaPolicy
from services.support.domain.sla_config import parse_sla_config


@dataclass(frozen=True)
class SlaConfig:
    version: int
    calendars: Mapping[str, BusinessCalendar]
    policies: PolicySet

    def to_dict(self) -> dict[str, Any]:
        return {
            "calendars": [c.to_dict() for c in self.calendars.values()],
            "policies": self.policies.to_dict(),
        }

    @classmethod
    def from_dict(cls, version: int, data: Mapping[str, Any]) -> SlaConfig:
        calendars, policies = parse_sla_config(data)
        return cls(version, calendars, policies)


def field_of(error: ValueError) -> str:
    """The field a ``ValueError("<field>: <why>")`` names."""
    return str(error).split(":", 1)[0].strip() or "body"


def _unversioned(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != "version"}


def with_calendar(current: SlaConfig, calendar_id: str, body: Mapping[str, Any],
                  last_version: int) -> SlaConfig | None:  # fmt: skip
    """``current`` with calendar ``calendar_id`` set to ``body`` (a new one or a
    replacement) at version ``last_version + 1``; None if nothing would change.
    ``last_version`` is the highest version the id ever had (0 for a new id)."""
    if not isinstance(body, Mapping):
        raise ValueError("body: a calendar is an object")
    if "id" in body and body["id"] != calendar_id:
        raise ValueError(f"id: the body names {body['id']!r}, the path {calendar_id!r}")
    calendar = BusinessCalendar.from_dict(
        {**_unversioned(body), "id": calendar_id, "version": last_version + 1}
    )
    before = current.calendars.get(calendar_id)
    if before is not None and _unversioned(before.to_dict()) == _unversioned(calendar.to_dict()):
        return None
    calendars = {**current.calendars, calendar_id: calendar}
    return SlaConfig(current.version + 1, calendars, current.policies)


def with_policies(current: SlaConfig, body: Any,
                  last_versions: Mapping[str, int]) -> SlaConfig | None:  # fmt: skip
    """``current`` with its policy set replaced by ``body`` (a list of policies, in order
    of precedence); each policy that changed takes the next version of its id
    (``last_versions``: the highest each id ever had). None if nothing would change."""
    if not isinstance(body, list):
        raise ValueError("policies: must be a list of policies")
    policies: list[SlaPolicy] = []
    for index, raw in enumerate(body):
        if not isinstance(raw, Mapping):
            raise ValueError(f"policies[{index}]: a policy is an object")
        policy_id = raw.get("id")
        before = next((p for p in current.policies.policies if p.policy_id == policy_id), None)
        keep = before.version if before is not None else None
        parsed = _policy(index, {**raw, "version": keep or 1})
        if before is None or _unversioned(before.to_dict()) != _unversioned(parsed.to_dict()):
            parsed = _policy(index, {**raw, "version": last_versions.get(str(policy_id), 0) + 1})
        policies.append(parsed)
    data = {"calendars": [c.to_dict() for c in current.calendars.values()],
            "policies": [p.to_dict() for p in policies]}  # fmt: skip
    candidate = SlaConfig.from_dict(current.version + 1, data)  # validates calendars named
    if candidate.policies.to_dict() == current.policies.to_dict():
        return None
    return candidate


def _policy(index: int, raw: Mapping[str, Any]) -> SlaPolicy:
    try:
        return SlaPolicy.from_dict(raw)
    except ValueError as exc:
        raise ValueError(f"policies[{index}].{exc}") from None


def changed_policies(before: SlaConfig, after: SlaConfig) -> frozenset[str] | None:
    """Ids of the policies whose clocks a change alters; None: every open case's (the
    default changed, and a case recording a removed policy is measured by the default)."""
    old = {p.policy_id: p for p in before.policies.policies}
    hit: set[str] = set()
    for policy in after.policies.policies:
        previous = old.get(policy.policy_id)
        calendar_changed = before.calendars.get(policy.calendar_id) != after.calendars.get(
            policy.calendar_id
        )
        if previous is None or previous != policy or calendar_changed:
            hit.add(policy.policy_id)
    removed = set(old) - {p.policy_id for p in after.policies.policies}
    default = next(p.policy_id for p in after.policies.policies if p.specificity == 0)
    if removed or default in hit:
        return None
    return frozenset(hit)
