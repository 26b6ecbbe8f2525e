"""Sealing events for the store and the topics; opening them for readers.

Writers call ``seal_payloads`` (the event store, before its insert) or
``seal_cloudevents`` (the gateway, before it publishes other systems' events); readers
fetch the keys of a batch with ``keys_for`` and open each event's data with
``open_data``. An event whose subject is erased opens with its personal fields erased
(``contracts.personal.erase``): the same data everywhere, live or in a rebuild.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from contracts.envelope import CloudEvent
from contracts.personal import PERSONAL_KEY, erased_part, is_sealed, split, subject_field
from contracts.registry import DomainEvent, event_class, is_sealed_version
from services.platform.db import Connection
from services.platform.privacy.data_keys import SubjectKeys
from services.platform.privacy.sealing import box_of, open_box, seal_box


def _sealable(event: DomainEvent) -> bool:
    cls = type(event)
    return bool(cls.personal_fields) and is_sealed_version(cls.event_type, cls.schema_version)


def _subject(event: DomainEvent) -> str:
    value = getattr(event, subject_field(type(event)), None)
    if value is None or str(value) == "":
        raise ValueError(f"{event.event_type} names no data subject ({subject_field(type(event))})")
    return str(value)


def _sealed_dict(event: DomainEvent, key: bytes) -> dict[str, Any]:
    clear, personal = split(type(event), event.model_dump(mode="json"))
    clear[PERSONAL_KEY] = seal_box(event.event_type, _subject(event), key, personal)
    return clear


def subjects_to_seal(events: Sequence[DomainEvent]) -> set[str]:
    """The subjects whose keys sealing these events needs."""
    return {_subject(e) for e in events if _sealable(e)}


async def seal_payloads(
    keys: SubjectKeys, events: Sequence[DomainEvent], connection: Connection | None = None
) -> list[str]:
    """Each event's data as JSON, personal fields sealed with their subject's key
    (looked up or created on ``connection``, the appending transaction's, when given).

    ``SubjectErased`` when a subject with personal data in ``events`` was erased."""
    subjects = {_subject(e) for e in events if _sealable(e)}
    subject_keys = await keys.for_writing(subjects, connection) if subjects else {}
    return [
        orjson.dumps(_sealed_dict(e, subject_keys[_subject(e)])).decode()
        if _sealable(e)
        else e.model_dump_json()
        for e in events
    ]


async def seal_cloudevents(
    keys: SubjectKeys, items: Sequence[tuple[CloudEvent, DomainEvent]]
) -> list[CloudEvent]:
    """Envelopes carrying validated events at their latest version, personal fields
    sealed: what the CRM publishes of other systems' plain events."""
    subjects = {_subject(e) for _, e in items if _sealable(e)}
    subject_keys = await keys.for_writing(subjects) if subjects else {}
    sealed = []
    for envelope, event in items:
        data = (
            _sealed_dict(event, subject_keys[_subject(event)])
            if _sealable(event)
            else event.model_dump(mode="json")
        )
        version = type(event).schema_version
        sealed.append(envelope.model_copy(update={
            "data": data, "schemaversion": version,
            "dataschema": f"urn:crm:schema:{event.event_type}:v{version}",
        }))  # fmt: skip
    return sealed


def sealed_subjects(datas: Iterable[dict[str, Any]]) -> set[str]:
    """The subjects whose keys opening these events' data needs."""
    found: set[str] = set()
    for data in datas:
        box = box_of(data) if is_sealed(data) else None
        if box is not None and isinstance(box.get("subject"), str):
            found.add(box["subject"])
    return found


async def keys_for(keys: SubjectKeys, datas: Iterable[dict[str, Any]]) -> dict[str, bytes | None]:
    subjects = sealed_subjects(datas)
    return await keys.for_reading(subjects) if subjects else {}


def open_data(
    event_type: str, data: dict[str, Any], subject_keys: Mapping[str, bytes | None]
) -> dict[str, Any]:
    """Plain data of a stored or published event: its box opened, or its personal
    fields erased when the subject's key is gone. Unsealed data is returned as it is."""
    if not is_sealed(data):
        return data
    box = data[PERSONAL_KEY]
    clear = {k: v for k, v in data.items() if k != PERSONAL_KEY}
    key = subject_keys.get(str(box.get("subject")))
    if key is None:
        return {**clear, **erased_part(event_class(event_type))}
    return {**clear, **open_box(event_type, box, key)}
