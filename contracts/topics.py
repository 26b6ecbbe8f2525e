"""The topic catalogue: one topic per bounded context, one for other systems, one for dead letters.

Key policy (see ``contracts.envelope.partition_key``): customer id where the event has
one, else the stream id. Event topics keep their records forever (``retention.ms=-1``)
because every read model must be rebuildable from offset 0.
"""

import functools
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    description: str
    config: dict[str, str] = field(default_factory=lambda: {"retention.ms": "-1"})


SALES = TopicSpec("crm.sales.events", 6, "Sales force automation: accounts, leads, deals, orders")
SUPPORT = TopicSpec("crm.support.events", 6, "Customer service: cases, complaints, resolutions")
ROUTING = TopicSpec("crm.routing.events", 6, "Queueing and routing of contacts to staff")
MARKETING = TopicSpec("crm.marketing.events", 6, "Campaigns, segments, triggered communications")
PRIVACY = TopicSpec(
    "crm.privacy.events", 6, "Privacy: erasures of personal data (crypto-shredding)"
)
EXTERNAL = TopicSpec(
    "crm.external.events", 6, "CloudEvents published by other systems (shop, web forms, telephony)"
)
DEAD_LETTER = TopicSpec(
    "crm.deadletter",
    3,
    "Records no consumer could parse or handle, with headers naming source and error",
    {"retention.ms": str(30 * 24 * 3600 * 1000)},
)

TOPICS: tuple[TopicSpec, ...] = (
    SALES, SUPPORT, ROUTING, MARKETING, PRIVACY, EXTERNAL, DEAD_LETTER,
)  # fmt: skip

EXTERNAL_EVENT_TYPES: frozenset[str] = frozenset(
    {
        "crm.sales.purchase_made",  # a shop's sale (e-commerce, point of sale)
        "crm.sales.lead_captured",  # a web form, an event's attendee list
        "crm.sales.activity_logged",  # a telephony system's call, an e-mail tool's message
        "crm.support.complaint_filed",  # a call centre, a complaints site
    }
)
"""What other systems may publish. The rest are facts only the CRM's own services
establish (a merge, a deal won, a quote approved): coming from outside they would forge
the customer's history, so they are refused at the gateway and dead-lettered by readers
of an external topic."""

RESERVED_SOURCE_PREFIX = "/crm/"
"""CloudEvent sources of the CRM's own services; another system may not use them (its
events would shadow the services' own, which consumers deduplicate by source and id)."""


@functools.lru_cache(maxsize=1024)  # asked for every record consumed
def is_external_topic(name: str) -> bool:
    """A topic other systems publish to: the catalogue's, or one with an ``external``
    segment in its dotted name (tests and tenants run their own)."""
    return name == EXTERNAL.name or "external" in name.split(".")


def external_refusal(event_type: str, source: str) -> str | None:
    """Why an event may not come from another system; None when it may."""
    if source.startswith(RESERVED_SOURCE_PREFIX):
        return f"source {source!r} is reserved for the CRM's own services"
    if event_type not in EXTERNAL_EVENT_TYPES:
        allowed = ", ".join(sorted(EXTERNAL_EVENT_TYPES))
        return f"{event_type!r} may not be published by other systems (allowed: {allowed})"
    return None


_BY_CONTEXT = {
    "sales": SALES, "support": SUPPORT, "routing": ROUTING, "marketing": MARKETING,
    "privacy": PRIVACY,
}  # fmt: skip


def topic_for_context(context: str) -> TopicSpec:
    try:
        return _BY_CONTEXT[context]
    except KeyError:
        raise LookupError(f"no topic for context {context!r}") from None
