"""The topic catalogue: one topic per bounded context, one for other systems, one for dead letters.

Key policy (see ``contracts.envelope.partition_key``): customer id where the event has
one, else the stream id. Event topics keep their records forever (``retention.ms=-1``)
because every read model must be rebuildable from offset 0.
"""

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
EXTERNAL = TopicSpec(
    "crm.external.events", 6, "CloudEvents published by other systems (shop, web forms, telephony)"
)
DEAD_LETTER = TopicSpec(
    "crm.deadletter",
    3,
    "Records no consumer could parse or handle, with headers naming source and error",
    {"retention.ms": str(30 * 24 * 3600 * 1000)},
)

TOPICS: tuple[TopicSpec, ...] = (SALES, SUPPORT, ROUTING, MARKETING, EXTERNAL, DEAD_LETTER)
_BY_CONTEXT = {"sales": SALES, "support": SUPPORT, "routing": ROUTING, "marketing": MARKETING}


def topic_for_context(context: str) -> TopicSpec:
    try:
        return _BY_CONTEXT[context]
    except KeyError:
        raise LookupError(f"no topic for context {context!r}") from None
