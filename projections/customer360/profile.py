"""Customer 360 profile: a pure reducer over the events that name a customer.

``evolve(profile, event, occurred_at)`` is the only place the profile is computed, both
by the live projector and for time travel (``fold`` of the events up to a moment gives
the profile as of that moment). No I/O, no clock: every time comes from the events.

Order sensitivity
-----------------
Kafka keeps the order of one customer's events *within* a topic (key = customer id),
not *across* topics: an external shop's ``PurchaseMade`` (topic ``crm.external.events``)
may arrive before or after the sales context's ``OrderDelivered`` for the same order, a
complaint (support topic) before or after the order it is about. So everything that can
come from different topics is folded commutatively:

- identity (names, phones, e-mails, tax ids, addresses, linked ids) are sorted sets; the
  display/company name, owner and main address come from the record of highest rank
  (account > contact > lead), the earliest one within a rank;
- an order is a set of facts (placed / delivered / cancelled / returned times); its status
  is derived by precedence (returned > cancelled > delivered > placed), its total is the
  ``OrderPlaced`` total, else the ``PurchaseMade`` one; order and purchase of one order id
  are one order, never counted twice;
- "first"/"last" times are min/max; the last interaction is the one with the latest time
  (ties broken by the summary text);
- support cases are records of registers keyed by the times the events state
  (``projections.customer360.cases``): the latest status, the worst SLA state;
- the lifetime value and the lifecycle stage are recomputed from those facts after every
  event, so they are as order-insensitive as the facts.

Order-sensitive (safe because these events share one topic and one key, hence arrive in
order): the pipeline of an opportunity (opened, stage changes, assignment, won, lost,
reopened) and nothing else.

The lifecycle stage and the lifetime value derive from the folded facts
(``projections.customer360.lifecycle``).

Merges and conversions touch two customers: ``affected_customers`` names both, and the
projector applies the event to each profile with ``customer_id`` saying whose it is. The
merged one gets ``merged_into``; the survivor records it in ``merged_from`` (the merged
record's data is not copied: search redirects hits on a merged profile to its survivor).
Support cases are the exception: the survivor answers for the merged customer's open
cases, so it joins them at the merge (``evolve(..., merged=...)``) and the projector
``carry``-s the merged customer's later support events to it (its cases keep their
customer id). The join and the registers make both orders of merge and case events
give the same cases.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal
from uuid import UUID

from contracts.events.sales import (
    AccountDetailsCorrected,
    AccountRegistered,
    ActivityLogged,
    Address,
    ContactDetailsCorrected,
    ContactRegistered,
    DealStageChanged,
    FollowUpDue,
    FollowUpScheduled,
    LeadCaptured,
    LeadConverted,
    LeadDisqualified,
    LeadQualified,
    OpportunityAssigned,
    OpportunityLost,
    OpportunityOpened,
    OpportunityReopened,
    OpportunityWon,
    OrderCancelled,
    OrderDelivered,
    OrderPlaced,
    OrderReturned,
    PurchaseMade,
    QuoteAccepted,
    QuoteApproved,
    QuoteIssued,
    RecordsMerged,
    TaxId,
)
from contracts.events.support import CaseAssigned, CasesMerged, CaseStatusChanged, MessageAdded
from contracts.events.support_quality import (
    CaseLinkedToProblem,
    SatisfactionSurveyRequested,
    SlaBreached,
    SlaWarning,
)
from contracts.money import Money
from contracts.registry import DomainEvent
from projections.customer360.cases import CASE_EVENTS, apply_case_event, derive_cases, join_cases
from projections.customer360.corrections import apply_account_correction, apply_contact_correction
from projections.customer360.lifecycle import derive
from projections.customer360.model import (
    DealFacts,
    Kind,
    LeadStatus,
    MainRecord,
    OpportunityView,
    OrderStatus,
    OrderView,
    Place,
    Profile,
    TaxIdView,
)
from projections.timeline.projector import summarize  # one wording for both read models

_KIND_RANK: dict[str, int] = {"unknown": 0, "lead": 1, "contact": 2, "account": 3}
_LEAD_RANK: dict[str, int] = {"captured": 0, "qualified": 1, "disqualified": 2, "converted": 3}

SYSTEM_EVENTS: tuple[type[DomainEvent], ...] = (
    OpportunityAssigned,
    FollowUpScheduled,
    FollowUpDue,
    QuoteApproved,
    RecordsMerged,
    AccountDetailsCorrected,
    ContactDetailsCorrected,
    # Support's bookkeeping: routing, status moves (solving, reopening and closing have
    # their own events), problem links, SLA clocks, the survey the marketing side sends.
    CaseAssigned,
    CaseStatusChanged,
    CasesMerged,
    CaseLinkedToProblem,
    SlaWarning,
    SlaBreached,
    SatisfactionSurveyRequested,
)
"""Internal bookkeeping, not an interaction with the customer."""


def is_interaction(event: DomainEvent) -> bool:
    """Whether ``event`` is an exchange with the customer (an internal note is not one)."""
    if isinstance(event, MessageAdded):
        return event.kind != "internal_note"
    return not isinstance(event, SYSTEM_EVENTS)


# ------------------------------------------------------------------------- public API


def affected_customers(event: DomainEvent, customer_id: str | None = None) -> list[str]:
    """Every customer whose profile ``event`` changes (sorted, so locks come in order).

    ``customer_id`` is the envelope's customer id, which wins over the event's own.
    """
    found = {c for c in (customer_id or event.customer(),) if c}
    if isinstance(event, RecordsMerged):
        found.add(event.merged_customer_id)
    if isinstance(event, LeadConverted):
        found.add(event.lead_customer_id)
    return sorted(found)


def evolve(
    profile: Profile | None,
    event: DomainEvent,
    occurred_at: datetime,
    *,
    customer_id: str | None = None,
    merged: Profile | None = None,
) -> Profile:
    """The profile after ``event``, which occurred at ``occurred_at`` (aware datetime).

    ``customer_id`` says whose profile this is; it defaults to the profile's, else the
    event's customer. It matters for events naming two customers (merge, conversion).
    ``merged``: for a ``RecordsMerged`` applied to its survivor, the merged customer's
    profile as it stands, whose cases the survivor takes on.
    """
    whose = customer_id or (profile.customer_id if profile else None) or event.customer()
    if whose is None:
        raise ValueError(f"{event.event_type} names no customer")
    p = profile if profile is not None else Profile(customer_id=whose)
    # A shallow working copy: nested values are frozen models, and every list or dict
    # changed below is a new one, so ``p`` (the profile before the event) stays intact.
    data: dict[str, object] = dict(p.__dict__)
    data["first_seen_at"] = _min(p.first_seen_at, occurred_at)
    data["updated_at"] = _max(p.updated_at, occurred_at)
    _apply(data, p, event, occurred_at, whose)
    if isinstance(event, RecordsMerged) and merged is not None and whose == event.customer_id:
        join_cases(data, p, merged)
    apply_case_event(data, p, event, occurred_at)
    derive_cases(data)
    if is_interaction(event):
        at = event.happened_at if isinstance(event, ActivityLogged) else occurred_at
        summary = summarize(event)
        _interaction(data, at, summary)
        deal = deal_of(event)
        if deal is None:
            _interaction(data, at, summary, "other_interaction")
        else:
            facts = _facts(data, deal)
            if facts.last_interaction_at is None or (at, summary) > (
                facts.last_interaction_at,
                facts.last_interaction_summary or "",
            ):
                _set_facts(data, deal, last_interaction_at=at, last_interaction_summary=summary)
    derive(data)
    return Profile.model_validate(data)


def carries(event: DomainEvent) -> bool:
    """Whether a merged customer's survivor takes ``event`` on too (``carry``)."""
    return isinstance(event, CASE_EVENTS)


def carry(survivor: Profile, event: DomainEvent, occurred_at: datetime) -> Profile:
    """The survivor after a support event of a customer merged into it: its cases only
    (nothing else of the merged customer is copied), so reading the event before or
    after the merge gives the survivor the same cases."""
    data: dict[str, object] = dict(survivor.__dict__)
    apply_case_event(data, survivor, event, occurred_at)
    derive_cases(data)
    derive(data)  # a carried complaint puts the survivor at risk as its own would
    return Profile.model_validate(data)


def fold(
    events: Iterable[tuple[DomainEvent, datetime]], *, customer_id: str | None = None
) -> Profile | None:
    """The profile after ``events`` in occurrence order; ``None`` if there is none."""
    profile: Profile | None = None
    for event, occurred_at in events:
        profile = evolve(profile, event, occurred_at, customer_id=customer_id)
    return profile


def _apply(
    data: dict[str, object], p: Profile, event: DomainEvent, at: datetime, whose: str
) -> None:
    match event:
        case AccountRegistered():
            data["account_id"] = str(event.account_id)
            _register(data, p, "account", at, event.name, event.name, event.owner_id)
            _identity(data, p, event.tax_id, event.phones, event.emails, event.address)
            data["became_customer_at"] = _min(p.became_customer_at, at)
        case ContactRegistered():
            name = f"{event.first_name} {event.last_name}".strip()
            data["contact_ids"] = _union(p.contact_ids, [str(event.contact_id)])
            data["person_names"] = _union(p.person_names, [name])
            if event.account_id is not None and str(event.account_id) == whose:
                data["account_id"] = str(event.account_id)
            _register(data, p, "contact", at, name, None, event.owner_id)
            _identity(data, p, event.tax_id, event.phones, event.emails, event.address)
            data["became_customer_at"] = _min(p.became_customer_at, at)
        case AccountDetailsCorrected():
            apply_account_correction(data, p, event)
        case ContactDetailsCorrected():
            apply_contact_correction(data, p, event)
        case LeadCaptured():
            data["lead_ids"] = _union(p.lead_ids, [str(event.lead_id)])
            data["person_names"] = _union(p.person_names, [event.name])
            _register(data, p, "lead", at, event.name, event.company, event.owner_id)
            _identity(data, p, None, event.phones, event.emails, event.address)
            _lead_status(data, p, "captured")
        case LeadQualified():
            _lead_status(data, p, "qualified")
        case LeadDisqualified():
            _lead_status(data, p, "disqualified")
        case LeadConverted():
            if whose == event.lead_customer_id and whose != event.customer_id:
                data["converted_into"] = event.customer_id
                _lead_status(data, p, "converted")
            else:
                data["lead_ids"] = _union(p.lead_ids, [str(event.lead_id)])
                data["contact_ids"] = _union(p.contact_ids, [str(event.contact_id)])
                data["became_customer_at"] = _min(p.became_customer_at, at)
                if whose == event.lead_customer_id:  # converted in place
                    _lead_status(data, p, "converted")
        case RecordsMerged():
            if whose == event.merged_customer_id and whose != event.customer_id:
                data["merged_into"] = event.customer_id
            else:
                data["merged_from"] = _union(p.merged_from, [event.merged_customer_id])
        case OpportunityOpened():
            opportunities = dict(p.open_opportunities)
            opportunities[str(event.opportunity_id)] = OpportunityView(
                title=event.title,
                stage=event.stage,
                amount=event.amount,
                probability=event.probability,
                owner_id=event.owner_id,
                owner_team=event.owner_team,
            )
            data["open_opportunities"] = opportunities
            _set_facts(data, str(event.opportunity_id), owner_id=event.owner_id,
                       owner_team=event.owner_team)  # fmt: skip
        case DealStageChanged():
            changes: dict[str, object] = {"stage": event.to_stage}
            if event.probability is not None:
                changes["probability"] = event.probability
            _update_opportunity(data, p, str(event.opportunity_id), **changes)
        case OpportunityAssigned():
            owner = {"owner_id": event.owner_id, "owner_team": event.team}
            _update_opportunity(data, p, str(event.opportunity_id), **owner)
            _set_facts(data, str(event.opportunity_id), **owner)
        case OpportunityWon():
            _close_opportunity(data, p, str(event.opportunity_id), "won")
        case OpportunityLost():
            _close_opportunity(data, p, str(event.opportunity_id), "lost")
            data["last_lost_at"] = _max(p.last_lost_at, at)
            lost = _max(_facts(data, str(event.opportunity_id)).lost_at, at)
            _set_facts(data, str(event.opportunity_id), lost_at=lost)
        case OpportunityReopened():
            key = str(event.opportunity_id)
            closed = dict(p.closed_opportunities)
            closed.pop(key, None)
            data["closed_opportunities"] = closed
            opportunities = dict(p.open_opportunities)
            opportunities[key] = opportunities.get(key, OpportunityView()).model_copy(
                update={"stage": event.to_stage}
            )
            data["open_opportunities"] = opportunities
        case OrderPlaced():
            _order(
                data,
                p,
                str(event.order_id),
                placed_at=at,
                total=event.total,
                from_order=True,
                channel=event.channel,
                opportunity_id=event.opportunity_id,
            )
        case PurchaseMade():
            _order(
                data, p, str(event.order_id), placed_at=at, total=event.total,
                channel=event.channel, opportunity_id=event.opportunity_id,
            )  # fmt: skip
        case OrderDelivered():
            _order(data, p, str(event.order_id), delivered_at=at)
        case OrderCancelled():
            _order(data, p, str(event.order_id), cancelled_at=at)
        case OrderReturned():
            _order(data, p, str(event.order_id), returned_at=at, defective=event.defective)
            if event.defective:
                data["last_defective_return_at"] = _max(p.last_defective_return_at, at)
        case QuoteAccepted() | QuoteIssued() | QuoteApproved():
            pass
        case ActivityLogged() | FollowUpScheduled() | FollowUpDue():
            pass


def _register(
    data: dict[str, object],
    p: Profile,
    kind: Kind,
    at: datetime,
    display_name: str,
    company_name: str | None,
    owner_id: str | None,
) -> None:
    if _KIND_RANK[kind] > _KIND_RANK[p.kind]:
        data["kind"] = kind
    candidate = MainRecord(
        rank=_KIND_RANK[kind],
        at=at,
        display_name=display_name,
        company_name=company_name,
        owner_id=owner_id,
    )
    current = p.main_record
    if current is None or (candidate.rank, -candidate.at.timestamp(), candidate.display_name) > (
        current.rank,
        -current.at.timestamp(),
        current.display_name,
    ):
        data["main_record"] = candidate


def _identity(
    data: dict[str, object],
    p: Profile,
    tax_id: TaxId | None,
    phones: list[str],
    emails: list[str],
    address: Address | None,
) -> None:
    if tax_id is not None:
        view = TaxIdView(scheme=tax_id.scheme, number=tax_id.number, country=tax_id.country)
        found = {(t.scheme, t.number): t for t in [*p.tax_ids, view]}
        data["tax_ids"] = [found[k] for k in sorted(found)]
    data["phones"] = _union(p.phones, phones)
    data["emails"] = _union(p.emails, [e.strip().lower() for e in emails])
    main = data.get("main_record")
    place = None
    if address is not None and (address.city or address.state or address.country):
        place = Place(city=address.city, state=address.state, country=address.country)
        places = {_place_key(x): x for x in [*p.addresses, place]}
        data["addresses"] = [places[k] for k in sorted(places)]
    if isinstance(main, MainRecord) and main is not p.main_record:
        # this registration became the main record: its address is the main address
        data["main_record"] = main.model_copy(update={"address": place})


def _lead_status(data: dict[str, object], p: Profile, status: LeadStatus) -> None:
    if p.lead_status is None or _LEAD_RANK[status] > _LEAD_RANK[p.lead_status]:
        data["lead_status"] = status


def _update_opportunity(data: dict[str, object], p: Profile, key: str, **changes: object) -> None:
    if key in p.closed_opportunities:
        return  # a late change of a closed deal does not reopen it
    opportunities = dict(p.open_opportunities)
    opportunities[key] = opportunities.get(key, OpportunityView()).model_copy(update=changes)
    data["open_opportunities"] = opportunities


def _close_opportunity(
    data: dict[str, object], p: Profile, key: str, outcome: Literal["won", "lost"]
) -> None:
    opportunities = dict(p.open_opportunities)
    opportunities.pop(key, None)
    data["open_opportunities"] = opportunities
    data["closed_opportunities"] = {**p.closed_opportunities, key: outcome}


def _order(
    data: dict[str, object],
    p: Profile,
    key: str,
    *,
    placed_at: datetime | None = None,
    delivered_at: datetime | None = None,
    cancelled_at: datetime | None = None,
    returned_at: datetime | None = None,
    defective: bool = False,
    total: Money | None = None,
    from_order: bool = False,
    channel: str | None = None,
    opportunity_id: UUID | None = None,
) -> None:
    old = p.orders.get(key, OrderView())
    keep_total = old.total is not None and (old.total_from_order or not from_order)
    new = OrderView(
        total=old.total if keep_total else total,
        total_from_order=old.total_from_order or from_order,
        channel=old.channel
        if (old.channel and (old.total_from_order or not from_order))
        else (channel or old.channel),
        placed_at=_min(old.placed_at, placed_at),
        delivered_at=_min(old.delivered_at, delivered_at),
        cancelled_at=_min(old.cancelled_at, cancelled_at),
        returned_at=_min(old.returned_at, returned_at),
        defective=old.defective or defective,
        opportunity_id=old.opportunity_id or (opportunity_id and str(opportunity_id)),
    )
    status: OrderStatus = (
        "returned"
        if new.returned_at
        else "cancelled"
        if new.cancelled_at
        else "delivered"
        if new.delivered_at
        else "placed"
        if new.placed_at
        else "unknown"
    )
    data["orders"] = {**p.orders, key: new.model_copy(update={"status": status})}


def _interaction(
    data: dict[str, object], at: datetime, summary: str, field: str = "last_interaction"
) -> None:
    last = data[f"{field}_at"]
    last_summary = data[f"{field}_summary"] or ""
    assert last is None or isinstance(last, datetime)
    assert isinstance(last_summary, str)
    if last is None or (at, summary) > (last, last_summary):
        data[f"{field}_at"] = at
        data[f"{field}_summary"] = summary


def deal_of(event: DomainEvent) -> str | None:
    """The deal an event is about, as the timeline links it (top level or ``related``)."""
    deal = getattr(event, "opportunity_id", None)
    if deal is None:
        related = getattr(event, "related", None)
        deal = getattr(related, "opportunity_id", None)
    return None if deal is None else str(deal)


def _facts(data: dict[str, object], deal: str) -> DealFacts:
    deals = data["deals"]
    assert isinstance(deals, dict)
    found = deals.get(deal)
    return found if isinstance(found, DealFacts) else DealFacts()


def _set_facts(data: dict[str, object], deal: str, **changes: object) -> None:
    deals = data["deals"]
    assert isinstance(deals, dict)
    data["deals"] = {**deals, deal: _facts(data, deal).model_copy(update=changes)}


# ---------------------------------------------------------------------------- helpers


def _min(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def _union(current: Iterable[str], more: Iterable[str]) -> list[str]:
    return sorted({*current, *(m for m in more if m)})


def _place_key(place: Place) -> tuple[str, str, str]:
    return (place.country or "", place.state or "", place.city or "")
