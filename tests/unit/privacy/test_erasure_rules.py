"""The erasure rules, one fact per test: unknown, already erased, held, merged records,
and when a request is complete."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.privacy.domain.rules import (
    EXPECTED_STORES,
    AlreadyErased,
    Hold,
    SubjectFacts,
    SubjectUnknown,
    UnderLegalHold,
    check_erasure,
    progress,
)

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def hold(until: datetime | None = None, released: datetime | None = None) -> Hold:
    return Hold(uuid.uuid4(), "cust-1", "lawsuit 123", until, NOW - timedelta(days=9), released)


def facts(**overrides: object) -> SubjectFacts:
    given: dict[str, object] = {"subject_id": "cust-1", "key_state": "active", "has_profile": True}
    return SubjectFacts(**{**given, **overrides})  # type: ignore[arg-type]


def test_a_subject_with_neither_key_nor_profile_is_unknown() -> None:
    with pytest.raises(SubjectUnknown):
        check_erasure(facts(key_state="unknown", has_profile=False), NOW)


def test_a_subject_with_only_a_profile_can_be_erased() -> None:
    assert check_erasure(facts(key_state="unknown"), NOW) == []


def test_an_erased_subject_is_refused() -> None:
    with pytest.raises(AlreadyErased):
        check_erasure(facts(key_state="erased"), NOW)


def test_an_open_ended_hold_refuses_the_erasure_and_is_named() -> None:
    placed = hold()
    with pytest.raises(UnderLegalHold) as refused:
        check_erasure(facts(holds=(placed,)), NOW)
    assert refused.value.hold == placed


def test_a_hold_until_a_future_date_refuses_the_erasure() -> None:
    with pytest.raises(UnderLegalHold):
        check_erasure(facts(holds=(hold(until=NOW + timedelta(seconds=1)),)), NOW)


def test_an_expired_hold_no_longer_refuses() -> None:
    assert check_erasure(facts(holds=(hold(until=NOW),)), NOW) == []


def test_a_released_hold_no_longer_refuses() -> None:
    assert check_erasure(facts(holds=(hold(released=NOW - timedelta(hours=1)),)), NOW) == []


def test_records_merged_into_the_subject_are_erased_with_it() -> None:
    merged = ("cust-dup-b", "cust-dup-a", "cust-1")
    assert check_erasure(facts(merged_into_subject=merged), NOW) == ["cust-dup-a", "cust-dup-b"]


def test_a_request_waits_for_every_expected_store() -> None:
    status, _ = progress({"timeline": NOW, "customer360": NOW})
    assert status == "keys_destroyed"


def test_a_request_is_complete_once_timeline_customer360_and_sales_forgot() -> None:
    status, stores = progress({"timeline": NOW, "customer360": NOW, "sales": NOW})
    assert (status, [s.store for s in stores]) == (
        "completed",
        ["timeline", "customer360", "sales"],
    )


def test_the_expected_stores_are_the_three_that_keep_personal_data_today() -> None:
    assert set(EXPECTED_STORES) == {"timeline", "customer360", "sales"}
