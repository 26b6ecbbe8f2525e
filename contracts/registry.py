"""Registry from (event type, schema version) to a frozen pydantic model, with upcasters.

A published schema is never edited: adding an optional field keeps the version; a
breaking change registers a new version and an upcaster from the previous one, so
events already on the log stay readable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict


class UnknownEventType(LookupError):
    """No contract is registered for this event type and version."""


class DomainEvent(BaseModel):
    """Base of every domain event: a past-tense fact, immutable.

    Unknown fields are ignored, not refused, so a producer may add an optional field
    without a new schema version and older readers keep working.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    context: ClassVar[str]
    personal_fields: ClassVar[tuple[str, ...]] = ()
    """Fields holding personal data (``contracts.personal``): sealed on the wire."""
    data_subject: ClassVar[str] = "customer_id"
    """The field naming whose personal data they are: the key that seals them."""
    sealed_since: ClassVar[int] = 1
    """The first schema version whose wire form carries the personal fields sealed;
    earlier versions carried them in plain text (and stay readable until erasure)."""

    def customer(self) -> str | None:
        """The customer this fact concerns, if any (the Kafka key and timeline owner)."""
        value = getattr(self, "customer_id", None)
        return str(value) if value is not None else None


_E = TypeVar("_E", bound=type[DomainEvent])
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]

_classes: dict[tuple[str, int], type[DomainEvent]] = {}
_latest: dict[str, int] = {}
_upcasters: dict[tuple[str, int], Upcaster] = {}


def register(cls: _E) -> _E:
    """Class decorator: make the event readable and writable by its type name."""
    key = (cls.event_type, cls.schema_version)
    if key in _classes and _classes[key] is not cls:
        raise ValueError(f"{key} registered twice")
    _classes[key] = cls
    _latest[cls.event_type] = max(_latest.get(cls.event_type, 0), cls.schema_version)
    plain = (cls.event_type, cls.sealed_since - 1)
    if cls.personal_fields and cls.sealed_since > 1 and plain not in _classes:
        # The version before sealing is the same model in plain text on the wire: events
        # published before sealing read as they always did, through an identity upcaster.
        _classes[plain] = cls
        _upcasters.setdefault(plain, dict)
    return cls


def is_sealed_version(event_type: str, version: int) -> bool:
    """Whether data of this type and version carries its personal fields sealed."""
    cls = _classes.get((event_type, version))
    return cls is not None and bool(cls.personal_fields) and version >= cls.sealed_since


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register a function turning data of ``from_version`` into ``from_version + 1``."""

    def decorate(fn: Upcaster) -> Upcaster:
        _upcasters[(event_type, from_version)] = fn
        return fn

    return decorate


def event_class(event_type: str, version: int | None = None) -> type[DomainEvent]:
    try:
        return _classes[(event_type, _latest[event_type] if version is None else version)]
    except KeyError:
        raise UnknownEventType(f"unknown event type {event_type!r} version {version}") from None


def parse_data(event_type: str, schema_version: int, data: dict[str, Any]) -> DomainEvent:
    """Validate ``data`` against its contract, upcasting old versions to the latest."""
    if event_type not in _latest:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    latest = _latest[event_type]
    if schema_version > latest or schema_version < 1:
        raise UnknownEventType(f"{event_type!r} has no schema version {schema_version}")
    version = schema_version
    while version < latest:
        step = _upcasters.get((event_type, version))
        if step is None:
            raise UnknownEventType(f"no upcaster for {event_type!r} from version {version}")
        data = step(data)
        version += 1
    return _classes[(event_type, latest)].model_validate(data)


def registered_types() -> dict[tuple[str, int], type[DomainEvent]]:
    return dict(_classes)
