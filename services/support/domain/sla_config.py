"""The SLA configuration: business calendars and the policy set, from one JSON document.

    {"calendars": [<BusinessCalendar.to_dict()>, ...], "policies": [<SlaPolicy.to_dict()>, ...]}

Every policy's calendar must be one of the calendars; errors name the field at fault.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from services.support.domain.business_hours import BusinessCalendar
from services.support.domain.sla import PolicySet

DEFAULT_PATH = Path(__file__).resolve().parent.parent / "config" / "sla.json"


def parse_sla_config(data: Mapping[str, Any]) -> tuple[dict[str, BusinessCalendar], PolicySet]:
    if not isinstance(data, Mapping) or set(data) != {"calendars", "policies"}:
        raise ValueError("sla config: an object with exactly 'calendars' and 'policies'")
    raw_calendars = data["calendars"]
    if not isinstance(raw_calendars, list) or not raw_calendars:
        raise ValueError("calendars: must be a non-empty list")
    calendars: dict[str, BusinessCalendar] = {}
    for index, raw in enumerate(raw_calendars):
        try:
            calendar = BusinessCalendar.from_dict(raw)
        except ValueError as exc:
            raise ValueError(f"calendars[{index}].{exc}") from None
        if calendar.calendar_id in calendars:
            raise ValueError(f"calendars[{index}].id: duplicate id {calendar.calendar_id!r}")
        calendars[calendar.calendar_id] = calendar
    policies = PolicySet.from_dict(data["policies"])
    for index, policy in enumerate(policies.policies):
        if policy.calendar_id not in calendars:
            raise ValueError(
                f"policies[{index}].calendar: unknown calendar {policy.calendar_id!r}, "
                f"expected one of {sorted(calendars)}"
            )
    return calendars, policies


def load_sla_config(
    path: Path | str = DEFAULT_PATH,
) -> tuple[dict[str, BusinessCalendar], PolicySet]:
    with open(path, encoding="utf-8") as handle:
        return parse_sla_config(json.load(handle))
