"""The SLA configuration in force: business calendars and the policy set, each with its
version, and the number of the configuration they come from (``sla_config_versions``;
0: the file configuration, not yet stored). A new case records the policy and calendar
versions it runs under."""

from __future__ import annotations

from dataclasses import dataclass

from services.support.domain.business_hours import BusinessCalendar
from services.support.domain.sla import PolicySet, SlaPolicy
from services.support.domain.sla_versions import SlaConfig


@dataclass
class SlaSettings:
    calendars: dict[str, BusinessCalendar]
    policies: PolicySet
    version: int = 0

    def choose(self, priority: str, category: str, tier: str) -> tuple[SlaPolicy, BusinessCalendar]:
        policy = self.policies.select(priority, category, tier)
        return policy, self.calendars[policy.calendar_id]

    def as_config(self) -> SlaConfig:
        return SlaConfig(self.version, self.calendars, self.policies)

    @classmethod
    def of(cls, config: SlaConfig) -> SlaSettings:
        return cls(dict(config.calendars), config.policies, config.version)
