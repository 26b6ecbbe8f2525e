"""The CRM's public language: the event envelope, every domain event, the topic catalogue.

Nothing in this package performs I/O. Services talk to each other only through it.
"""

from contracts.envelope import CloudEvent, partition_key

# Importing the event modules registers their classes.
from contracts.events import privacy as _privacy  # noqa: F401
from contracts.events import sales as _sales  # noqa: F401
from contracts.events import support as _support  # noqa: F401
from contracts.events import support_quality as _support_quality  # noqa: F401
from contracts.events import support_self_service as _support_self_service  # noqa: F401
from contracts.registry import (
    DomainEvent,
    UnknownEventType,
    event_class,
    parse_data,
    registered_types,
)
from contracts.topics import TOPICS, TopicSpec, topic_for_context

__all__ = [
    "TOPICS",
    "CloudEvent",
    "DomainEvent",
    "TopicSpec",
    "UnknownEventType",
    "event_class",
    "parse_data",
    "partition_key",
    "registered_types",
    "topic_for_context",
]
