"""The recurring-failure decider: a group's detection is appended once, whatever is
repeated."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from contracts.events.support_quality import RecurringFailureDetected
from services.support.domain import recurring_failure as rf
from tests.unit.gwt import Spec

given = Spec(rf.decider).given
AT = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
CASES = tuple(UUID(int=n) for n in range(1, 6))
PROBLEM = UUID(int=99)

DETECT = rf.DetectFailure("product:defect|sku-1:1", "product", "similar_cases", 5.0, 5.0, 7,
                          "minhash", AT, CASES, "defect", "SKU-1",
                          proposed_problem_id=PROBLEM)  # fmt: skip
DETECTED = RecurringFailureDetected(
    group_id="product:defect|sku-1:1", kind="product", indicator="similar_cases",
    category="defect", product_id="SKU-1", case_ids=list(CASES), value=5.0, threshold=5.0,
    window_days=7, method="minhash", proposed_problem_id=PROBLEM, detected_at=AT,
)  # fmt: skip


def test_a_new_group_is_detected() -> None:
    given().when(DETECT).then(DETECTED)


def test_a_group_already_detected_is_not_detected_again() -> None:
    given(DETECTED).when(DETECT).then()


def test_the_default_threshold_is_five_similar_cases_in_seven_days() -> None:
    rules = rf.RecurringRules()
    assert (rules.group_size, rules.window_days) == (5, 7)
