"""The SLA configuration in force: business calendars and the policy set, each with its
version. A new case records the policy and calendar versions it runs under."""

from __future__ import annotations

from dataclasses import dataclass

from services.support.domain.business_hours import BusinessCalendar
from services.support.domain.sla import PolicySet, SlaPolicy


@dataclass
class SlaSettings:
    calendars: dict[str, BusinessCalendar]
    policies: PolicySet

    def choose(self, priority: str, category: str, tier: str) -> tuple[SlaPolicy, BusinessCalendar]:
        policy = self.policies.select(priority, category, tier)
        return policy, self.calendars[policy.calendar_id]
