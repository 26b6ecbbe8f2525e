"""Timeline projector: every event that names a customer becomes one timeline entry.

An entry records when the fact occurred (the CloudEvent ``time``), which bounded context
it belongs to (the event class's), whether it came from this CRM or from another system
(``origin``: events read from an external topic are ``external``), the channel it
happened on, a line a person reads, who did it, and the records it links to.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from contracts.events.privacy import PersonalDataErased
from contracts.events.sales import (
    AccountDetailsCorrected,
    AccountRegistered,
    ActivityLogged,
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
)
from contracts.events.support import CaseAssigned, MessageAdded
from contracts.money import Money
from contracts.registry import DomainEvent
from contracts.topics import is_external_topic
from projections.timeline.payloads import stored_payload
from projections.timeline.support_summaries import support_summary
from services.platform.consumer import ConsumedEvent
from services.platform.db import Connection

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
GROUP = "projection.timeline"

LINK_FIELDS: tuple[str, ...] = (
    "opportunity_id",
    "order_id",
    "quote_id",
    "case_id",
    "lead_id",
    "account_id",
    "contact_id",
    "follow_up_id",
    "problem_id",
    "via_problem_id",
    "into_case_id",
    "exchange_id",
    "refund_id",
    "survey_id",
)
"""Ids of other records an entry points at, looked up in the payload (and one level down)."""

ACTOR_FIELDS: tuple[str, ...] = (
    "actor_id", "approved_by", "qualified_by", "merged_by", "corrected_by",
    # support: who wrote, solved, moved the case (None where the rules or the SLA did)
    "author_id", "opened_by", "assigned_by", "changed_by", "escalated_by", "solved_by",
    "reopened_by", "closed_by", "linked_by",
    "owner_id",
)  # fmt: skip
"""Who did it, in order of preference: an explicit actor before an owner. A case's
assignee or a rated agent is whom the event is about, not who did it: not listed."""

_FREE_TEXT_LIMIT = 160


def _words(value: str) -> str:
    return value.replace("_", " ")


def _money(value: Money) -> str:
    return f"{value.amount:,} {value.currency}"


def _clip(text: str) -> str:
    """Free text on one line, cut short: the payload keeps the whole."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _FREE_TEXT_LIMIT else flat[: _FREE_TEXT_LIMIT - 1] + "…"


def _short(value: object) -> str:
    """The first block of a UUID: enough for a person to tell records apart on one page."""
    return str(value).split("-", 1)[0]


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _via(channel: str) -> str:
    return "directly" if channel == "direct" else f"via {_words(channel)}"


def _with(text: str, detail: str | None) -> str:
    return f"{text}: {_clip(detail)}" if detail else text


_CORRECTED_LABELS: tuple[tuple[str, str], ...] = (
    ("name", "name"), ("first_name", "name"), ("last_name", "name"), ("job_title", "job title"),
    ("tax_id", "tax id"), ("emails", "e-mail"), ("phones", "phone"), ("address", "address"),
)  # fmt: skip
"""What a correction's changed fields read as, in the order the line lists them."""


def _corrected(event: AccountDetailsCorrected | ContactDetailsCorrected) -> str:
    # Which details changed, never their values: the timeline is read by many.
    kind = "Account" if isinstance(event, AccountDetailsCorrected) else "Contact"
    changed = [label for name, label in _CORRECTED_LABELS if getattr(event, name, None) is not None]
    return f"{kind} details corrected: {', '.join(dict.fromkeys(changed))}"


def summarize(event: DomainEvent) -> str:
    """A line a person reads on the timeline, in English."""
    match event:
        # ---------------------------------------------------------------- customers
        case AccountRegistered():
            return f"Account registered: {event.name} ({_words(event.kind)})"
        case ContactRegistered():
            name = f"{event.first_name} {event.last_name}".strip()
            return f"Contact registered: {name}" + (
                f", {event.job_title}" if event.job_title else ""
            )
        case AccountDetailsCorrected() | ContactDetailsCorrected():
            return _corrected(event)
        case RecordsMerged():
            text = (
                f"Duplicate {event.kind} records merged ({_short(event.merged_id)} "
                f"into {_short(event.survivor_id)})"
            )
            return _with(text, event.reason)
        # -------------------------------------------------------------------- leads
        case LeadCaptured():
            who = f"{event.name} ({event.company})" if event.company else event.name
            return f"Lead captured from {_words(event.source)}: {who}"
        case LeadQualified():
            text = "Lead qualified as interested"
            if event.qualified_by:
                text += f" by {event.qualified_by}"
            return _with(text, event.notes)
        case LeadDisqualified():
            return _with("Lead disqualified", event.reason)
        case LeadConverted():
            text = "Lead converted into a customer"
            return f"{text}, with an opportunity" if event.opportunity_id else text
        # ------------------------------------------------------------ opportunities
        case OpportunityOpened():
            return f"Opportunity opened: {event.title} ({_money(event.amount)})"
        case OpportunityAssigned():
            rule = _words(event.rule)
            if event.previous_owner_id:
                text = f"Opportunity reassigned from {event.previous_owner_id} to {event.owner_id}"
            else:
                text = f"Opportunity assigned to {event.owner_id}"
            return f"{text} ({rule}, team {event.team})" if event.team else f"{text} ({rule})"
        case DealStageChanged():
            # Stage names stay as the pipeline spells them: they are what people filter by.
            return _with(f"Deal moved from {event.from_stage} to {event.to_stage}", event.reason)
        case OpportunityWon():
            return f"Opportunity won: {_money(event.amount)}"
        case OpportunityLost():
            text = f"Opportunity lost ({_words(event.reason)})"
            if event.competitor:
                text = f"Opportunity lost to {event.competitor} ({_words(event.reason)})"
            return _with(text, event.details)
        case OpportunityReopened():
            return _with(f"Opportunity reopened at {event.to_stage}", event.reason)
        # ------------------------------------------------------------------- quotes
        case QuoteIssued():
            text = f"Quote {_short(event.quote_id)} v{event.quote_version} issued: "
            text += _money(event.totals.total)
            if event.valid_until:
                text += f", valid until {event.valid_until.isoformat()}"
            return text + (" (needs approval)" if event.requires_approval else "")
        case QuoteApproved():
            return (
                f"Quote {_short(event.quote_id)} v{event.quote_version} "
                f"approved by {event.approved_by}"
            )
        case QuoteAccepted():
            return (
                f"Quote {_short(event.quote_id)} v{event.quote_version} accepted by the customer: "
                f"{_money(event.total)}"
            )
        # ------------------------------------------------------------------- orders
        case PurchaseMade():
            return f"Purchase of {_money(event.total)} {_via(event.channel)}"
        case OrderPlaced():
            items = sum((line.quantity for line in event.lines), Decimal(0))
            count = f"{items.normalize():f} item" + ("" if items == 1 else "s")
            return (
                f"Order {_short(event.order_id)} placed {_via(event.channel)}: "
                f"{count}, {_money(event.total)}"
            )
        case OrderDelivered():
            return f"Order {_short(event.order_id)} delivered"
        case OrderCancelled():
            return _with(f"Order {_short(event.order_id)} cancelled", event.reason)
        case OrderReturned():
            text = f"Order {_short(event.order_id)} returned"
            return _with(f"{text} as defective" if event.defective else text, event.reason)
        # ------------------------------------------------------ activities & follow-ups
        case ActivityLogged():
            text = f"{event.kind.capitalize()}: {_clip(event.subject)}"
            if event.duration_minutes is not None:
                text += f" ({event.duration_minutes} min)"
            return f"{text}, outcome: {_clip(event.outcome)}" if event.outcome else text
        case FollowUpScheduled():
            return (
                f"Follow-up scheduled for {event.owner_id} on {_when(event.due_at)}: "
                f"{_clip(event.subject)}"
            )
        case FollowUpDue():
            return f"Follow-up due for {event.owner_id}: {_clip(event.subject)}"
    support = support_summary(event)
    if support is not None:
        return support
    # An event type this projector does not know yet: its type in words.
    return event.event_type.rsplit(".", 1)[-1].replace("_", " ").capitalize()


@functools.cache
def _declares(model: type[DomainEvent], names: tuple[str, ...]) -> tuple[str, ...]:
    """Which of ``names`` a contract declares, looked up once per contract: reading an
    undeclared attribute off a pydantic model costs an exception."""
    return tuple(name for name in names if name in model.model_fields)


def channel_of(event: DomainEvent) -> str:
    """Where the interaction happened: the event's own channel or kind, else its context."""
    if isinstance(event, ActivityLogged):
        return event.kind
    if isinstance(event, CaseAssigned) or (
        isinstance(event, MessageAdded) and event.kind == "internal_note"
    ):
        return event.context  # the case's channel: nothing happened on it
    channel = getattr(event, "channel", None) if _declares(type(event), ("channel",)) else None
    return channel if isinstance(channel, str) and channel else event.context


def actor_of(event: DomainEvent) -> str | None:
    """Who did it, where the event says."""
    for name in _declares(type(event), ACTOR_FIELDS):
        value = getattr(event, name)
        if value is not None:
            return str(value)
    return None


def links_of(payload: Mapping[str, Any]) -> dict[str, str]:
    """Ids of related records in a JSON payload; top-level fields win over nested ones."""
    links = {name: str(payload[name]) for name in LINK_FIELDS if payload.get(name) is not None}
    for nested in payload.values():
        if isinstance(nested, dict):  # JSON objects; isinstance(.., Mapping) costs 5x more
            for name in LINK_FIELDS:
                if name not in links and nested.get(name) is not None:
                    links[name] = str(nested[name])
    return links


def origin_of(topic: str) -> str:
    """``external`` for a topic other systems publish to, ``internal`` otherwise.

    The topic, not the self-declared CloudEvent source, says who published: only other
    systems write to ``crm.external.events`` (``contracts.topics.is_external_topic``).
    """
    return "external" if is_external_topic(topic) else "internal"


ENTRY_COLUMNS = (
    "event_source", "event_id", "customer_id", "named_customer_id", "occurred_at", "context",
    "origin", "channel", "event_type", "summary", "actor", "links", "stream_id",
    "stream_version", "correlation_id", "payload",
)  # fmt: skip
_CUSTOMER = ENTRY_COLUMNS.index("customer_id")
_LINKS = ENTRY_COLUMNS.index("links")
STORED_COLUMNS = (*ENTRY_COLUMNS, "deal_owner", "deal_team")
"""What the projector writes: an entry's columns, then its deal's owner and team."""


def entry_row(consumed: ConsumedEvent) -> tuple[Any, ...] | None:
    """The timeline row for an event, in ``ENTRY_COLUMNS`` order; None if it names no one.

    ``customer_id`` is the named customer here; ``_to_survivors`` moves it when merged.
    """
    event = consumed.event
    env = consumed.envelope
    customer = env.customerid or event.customer()
    if customer is None:
        return None
    payload = stored_payload(event)
    return (
        env.source,
        env.id,
        customer,
        customer,
        env.time,
        event.context,
        origin_of(consumed.topic),
        channel_of(event),
        env.type,
        summarize(event),
        actor_of(event),
        orjson.dumps(links_of(payload)).decode(),
        env.streamid,
        env.streamversion,
        env.correlationid,
        orjson.dumps(payload).decode(),
    )


# Writers of one timeline may run at once (projector instances sharing the consumer
# group, a rebuild replaying in several processes). A merge moves the merged customer's
# rows while another writer may be adding rows for that customer: without a lock, rows
# it inserted under the merged id, after reading no merge and before the merge's
# commit, would stay there. Writers hold SHARE on customer_merges (they do not block each
# other) from before their look-up until they commit; a transaction with a merge holds
# SHARE ROW EXCLUSIVE from its start (taking it after SHARE could deadlock with another),
# so it waits for writers in flight, and writers after it wait and then see it.


async def _lock_merges(conn: Connection, events: Sequence[ConsumedEvent]) -> None:
    merging = any(isinstance(consumed.event, RecordsMerged) for consumed in events)
    mode = "SHARE ROW EXCLUSIVE" if merging else "SHARE"
    await conn.execute(f"LOCK TABLE customer_merges IN {mode} MODE")


async def _to_survivors(conn: Connection, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows whose customer was merged away, moved to the survivor's timeline."""
    survivors: dict[str, str] = dict(
        await conn.fetch(  # type: ignore[arg-type]
            "SELECT merged_customer_id, survivor_customer_id FROM customer_merges "
            "WHERE merged_customer_id = ANY($1::text[])",
            list({row[_CUSTOMER] for row in rows}),
        )
    )
    if not survivors:
        return rows
    return [
        (*row[:_CUSTOMER], survivors.get(row[_CUSTOMER], row[_CUSTOMER]), *row[_CUSTOMER + 1 :])
        for row in rows
    ]


async def _merge(conn: Connection, event: RecordsMerged, at: datetime) -> None:
    """Move the merged customer's timeline (and whoever was merged into it) to the survivor."""
    merged = event.merged_customer_id
    survivor = await conn.fetchval(
        "SELECT coalesce((SELECT survivor_customer_id FROM customer_merges "
        "WHERE merged_customer_id = $1), $1)",
        event.customer_id,
    )
    if survivor == merged:
        return  # a merge back into itself (through a chain) would lose the timeline
    await conn.execute(
        "INSERT INTO customer_merges (merged_customer_id, survivor_customer_id, merged_at) "
        "VALUES ($1, $2, $3) ON CONFLICT (merged_customer_id) DO UPDATE "
        "SET survivor_customer_id = excluded.survivor_customer_id, merged_at = excluded.merged_at",
        merged, survivor, at,
    )  # fmt: skip
    await conn.execute(
        "UPDATE customer_merges SET survivor_customer_id = $2 WHERE survivor_customer_id = $1",
        merged,
        survivor,
    )
    await conn.execute(
        "UPDATE timeline_entries SET customer_id = $2 WHERE customer_id = $1", merged, survivor
    )


# Imported here, not at the top: the module derives erased rows with this one's functions.
from projections.timeline import erasure  # noqa: E402

_INSERT = (
    f"INSERT INTO timeline_entries ({', '.join(STORED_COLUMNS)}) VALUES ("
    + ", ".join(
        f"${n}::jsonb" if column in ("links", "payload") else f"${n}"
        for n, column in enumerate(STORED_COLUMNS, start=1)
    )
    + ")"
)
Owner = tuple[str | None, str | None]


class DealOwners:
    """Each deal's latest (owner, team), read once per batch and updated in event order
    (a deal's events share the customer's key, so they arrive in order)."""

    def __init__(self, known: dict[str, Owner]) -> None:
        self.known = known
        self.changed: set[str] = set()

    @classmethod
    async def load(cls, conn: Connection, rows: Sequence[tuple[Any, ...] | None]) -> DealOwners:
        deals = {d for row in rows if row is not None and (d := _deal(row))}
        found = await conn.fetch(
            "SELECT opportunity_id, owner_id, owner_team FROM deal_owners "
            "WHERE opportunity_id = ANY($1::text[])",
            sorted(deals),
        )
        return cls({r["opportunity_id"]: (r["owner_id"], r["owner_team"]) for r in found})

    def stored(self, consumed: ConsumedEvent, row: tuple[Any, ...]) -> tuple[Any, ...]:
        """``row`` with its deal's owner and team, after what ``consumed`` says of them."""
        event = consumed.event
        if isinstance(event, OpportunityOpened):
            self._set(str(event.opportunity_id), (event.owner_id, event.owner_team))
        elif isinstance(event, OpportunityAssigned):
            self._set(str(event.opportunity_id), (event.owner_id, event.team))
        deal = _deal(row)
        return (*row, *self.known.get(deal, (None, None))) if deal else (*row, None, None)

    def _set(self, deal: str, owner: Owner) -> None:
        self.known[deal] = owner
        self.changed.add(deal)

    async def save(self, conn: Connection) -> None:
        if not self.changed:
            return
        deals = sorted(self.changed)
        await conn.execute(
            "INSERT INTO deal_owners (opportunity_id, owner_id, owner_team) "
            "SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) "
            "ON CONFLICT (opportunity_id) DO UPDATE "
            "SET owner_id = excluded.owner_id, owner_team = excluded.owner_team",
            deals, [self.known[d][0] for d in deals], [self.known[d][1] for d in deals],
        )  # fmt: skip


def _deal(row: tuple[Any, ...]) -> str | None:
    deal = orjson.loads(row[_LINKS]).get("opportunity_id")
    return deal if isinstance(deal, str) else None


async def project(conn: Connection, consumed: ConsumedEvent) -> None:
    await project_batch(conn, [consumed])


async def project_batch(conn: Connection, events: Sequence[ConsumedEvent]) -> None:
    """One row per event that names a customer, written with one ``COPY`` per run of
    events between merges (a merge changes where later entries go) and erasures (an
    erasure rewrites the entries before it)."""
    if not events:
        return
    await _lock_merges(conn, events)
    rows = [entry_row(consumed) for consumed in events]
    owners = await DealOwners.load(conn, rows)
    run: list[tuple[Any, ...]] = []
    for consumed, row in zip(events, rows, strict=True):
        if row is not None:
            run.append(owners.stored(consumed, row))
        if isinstance(consumed.event, RecordsMerged):
            await _write(conn, run)
            run = []
            await _merge(conn, consumed.event, consumed.envelope.time)
        elif isinstance(consumed.event, PersonalDataErased):
            await _write(conn, run)  # the entries it erases, its own among them
            run = []
            await erasure.forget(conn, consumed.event)
    await _write(conn, run)
    await owners.save(conn)


async def _write(conn: Connection, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    rows = await erasure.erased_on_arrival(conn, await _to_survivors(conn, rows))
    if len(rows) == 1:
        await conn.execute(_INSERT, *rows[0])
    else:
        await conn.copy_records_to_table("timeline_entries", records=rows, columns=STORED_COLUMNS)
