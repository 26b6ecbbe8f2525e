"""An erased subject's profile: what it shows once ``PersonalDataErased`` named it.

The profile of an erased subject is flagged (``erased``, ``erased_at``) and masked: every
value that came from a personal field reads as erased, whatever it was. The mask
depends on the flag only, never on the values it replaces, so a profile folded from the
plain events and then erased, and one folded from events that already open as erased (a
rebuild after the key was destroyed: names read "[erased]", lists are empty), mask to
the same profile. Events folded after the flag are masked too, so the erasure may come
before or after the subject's other events (it travels on another topic).

Pure: the projector and time travel both fold through ``evolve_masked``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from contracts.events.privacy import PersonalDataErased
from contracts.personal import ERASED
from contracts.registry import DomainEvent
from projections.customer360.model import Profile
from projections.customer360.profile import affected_customers, evolve


def affected_by(event: DomainEvent, customer_id: str | None = None) -> list[str]:
    """Every customer whose profile ``event`` changes, sorted: an erasure's subjects."""
    if isinstance(event, PersonalDataErased):
        return sorted(set(event.subjects))
    return affected_customers(event, customer_id)


def evolve_masked(
    profile: Profile | None,
    event: DomainEvent,
    occurred_at: datetime,
    *,
    customer_id: str | None = None,
    merged: Profile | None = None,
) -> Profile:
    """``profiles.evolve``, knowing erasures: an erasure flags the profile, and a flagged
    profile is masked after every event folded into it. Cases carry no personal text,
    so what ``merged`` brings needs no mask of its own."""
    if isinstance(event, PersonalDataErased):
        whose = customer_id or event.customer_id
        return mask(flagged(profile, whose, event.erased_at))
    after = evolve(profile, event, occurred_at, customer_id=customer_id, merged=merged)
    return mask(after) if after.erased else after


def fold_masked(
    events: Iterable[tuple[DomainEvent, datetime]], *, customer_id: str | None = None
) -> Profile | None:
    """``profiles.fold`` through ``evolve_masked``."""
    profile: Profile | None = None
    for event, occurred_at in events:
        profile = evolve_masked(profile, event, occurred_at, customer_id=customer_id)
    return profile


def flagged(profile: Profile | None, customer_id: str, erased_at: datetime) -> Profile:
    """``profile`` (a new one if none) flagged erased; of two erasures the first counts,
    so the flag does not depend on the order erasures are read in."""
    base = profile if profile is not None else Profile(customer_id=customer_id)
    first = erased_at if base.erased_at is None else min(base.erased_at, erased_at)
    return base.model_copy(update={"erased": True, "erased_at": first})


def _erased_text(value: str | None) -> str | None:
    return None if value is None else ERASED


def mask(profile: Profile) -> Profile:
    """``profile`` with every value taken from a personal field erased: names and
    interaction summaries read ``[erased]`` where there was one, contact details and
    places are empty, the company name and job-like free text are gone.

    Only presence decides (a summary exists iff its time does, a deal title iff the deal
    was opened, the display name iff a registration was folded): presence does not depend
    on whether the events were read plain or erased.
    """
    main = profile.main_record
    if main is not None:
        main = main.model_copy(
            update={"display_name": ERASED, "company_name": None, "address": None}
        )
    return profile.model_copy(
        update={
            "display_name": _erased_text(profile.display_name),
            "company_name": None,
            "person_names": [],
            "tax_ids": [],
            "phones": [],
            "emails": [],
            "address": None,
            "addresses": [],
            "main_record": main,
            "last_interaction_summary": _erased_text(profile.last_interaction_summary),
            "other_interaction_summary": _erased_text(profile.other_interaction_summary),
            "open_opportunities": {
                deal: view.model_copy(update={"title": _erased_text(view.title)})
                for deal, view in profile.open_opportunities.items()
            },
            "deals": {
                deal: facts.model_copy(
                    update={
                        "last_interaction_summary": _erased_text(facts.last_interaction_summary)
                    }
                )
                for deal, facts in profile.deals.items()
            },
        }
    )
