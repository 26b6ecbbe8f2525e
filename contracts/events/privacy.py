"""Events published by the privacy context (topic ``crm.privacy.events``)."""

from typing import Literal
from uuid import UUID

from pydantic import AwareDatetime, Field

from contracts.registry import DomainEvent, register


class _PrivacyEvent(DomainEvent):
    context = "privacy"


@register
class PersonalDataErased(_PrivacyEvent):
    """A data subject's key was destroyed: every personal field sealed with it is gone.

    Every read model forgets the subject's personal data when it reads this; events it
    reads later (a rebuild) already open as erased. Keyed by the subject, so it follows
    the customer's own events on their partition.
    """

    event_type = "crm.privacy.personal_data_erased"

    request_id: UUID
    customer_id: str = Field(min_length=1, max_length=200, description="The erased subject")
    also_erased: list[str] = Field(
        default_factory=list, description="Records merged into the subject, erased with it"
    )
    basis: Literal["data_subject_request", "retention_expired", "other"] = "data_subject_request"
    requested_by: str = Field(min_length=1, max_length=200)
    erased_at: AwareDatetime
    retained: list[str] = Field(
        default_factory=list, description="What legal holds keep (no personal data)"
    )

    @property
    def subjects(self) -> list[str]:
        """Every subject this erasure destroyed the key of."""
        return [self.customer_id, *self.also_erased]
