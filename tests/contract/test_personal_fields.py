"""Every contract marks its personal fields, and their wire form never shows them.

A field whose name says it holds a person's data (a name, a tax id, a phone, an e-mail,
an address, free text) must be listed in its event's ``personal_fields``; a new context
that forgets to mark one fails here, before its first event is written in plain text.
"""

from __future__ import annotations

import json
from typing import Literal, get_origin

import pytest

import contracts
from contracts.personal import ERASED, erase, erased_part, personal_fields
from contracts.registry import DomainEvent, is_sealed_version
from contracts.schema_files import schema_file

REGISTERED = contracts.registered_types()
LATEST = sorted(set(REGISTERED.values()), key=lambda c: c.event_type)

PERSONAL_NAMES = {
    "name", "first_name", "last_name", "job_title", "company", "tax_id", "phones", "phone",
    "emails", "email", "address", "notes", "description", "details", "reason", "subject",
    "outcome", "title", "message", "body", "caller_number",
}  # fmt: skip
"""Field names that hold personal data wherever they appear in a contract."""


@pytest.mark.parametrize(
    "cls", sorted(LATEST, key=lambda c: c.event_type), ids=lambda c: c.event_type
)
def test_fields_named_like_personal_data_are_marked(cls: type[DomainEvent]) -> None:
    # A closed vocabulary (a Literal: a lost reason from the catalogue) is not free text.
    free = {n for n, f in cls.model_fields.items() if get_origin(f.annotation) is not Literal}
    unmarked = (free & PERSONAL_NAMES) - set(personal_fields(cls))
    assert not unmarked, f"{cls.event_type}: mark {sorted(unmarked)} as personal_fields"


@pytest.mark.parametrize(
    "cls", sorted(LATEST, key=lambda c: c.event_type), ids=lambda c: c.event_type
)
def test_marked_fields_and_subject_exist(cls: type[DomainEvent]) -> None:
    missing = set(personal_fields(cls)) - set(cls.model_fields)
    assert not missing, f"{cls.event_type}: personal_fields name unknown fields {missing}"
    if personal_fields(cls):
        assert cls.data_subject in cls.model_fields
        assert cls.data_subject not in personal_fields(cls), "the subject id stays readable"
        assert is_sealed_version(cls.event_type, cls.schema_version), "new events are sealed"


@pytest.mark.parametrize(
    ("event_type", "version"),
    sorted(k for k in REGISTERED if is_sealed_version(*k)),
    ids=lambda v: str(v),
)
def test_the_sealed_wire_schema_names_no_personal_property(event_type: str, version: int) -> None:
    schema = json.loads(schema_file(event_type, version).read_text())
    cls = REGISTERED[(event_type, version)]
    assert set(schema["x-personal-fields"]) == set(personal_fields(cls))
    assert not set(schema["properties"]) & set(personal_fields(cls))
    assert "personal" in schema["required"]


def test_an_erased_event_still_validates_against_its_model() -> None:
    # Erased data must parse: readers (and rebuilds) fold erased events like any other.
    for cls in LATEST:
        if not personal_fields(cls):
            continue
        part = erased_part(cls)
        texts = [v for v in part.values() if isinstance(v, str)]
        assert all(v == ERASED for v in texts)
        example = json.loads(
            (schema_file(cls.event_type, 1).parent.parent / "examples"
             / f"{cls.event_type}.v1.json").read_text()
        )  # fmt: skip
        first = example[0] if isinstance(example, list) else example
        erased = cls.model_validate(erase(cls, first))
        for name in personal_fields(cls):
            assert getattr(erased, name) in (ERASED, None, [])
