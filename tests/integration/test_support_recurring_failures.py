"""Recurring failures on real PostgreSQL, on generated cases: planted groups of similar
complaints found among noise and nothing else; one detection per group whatever is
repeated or raced; the sliding window; erasure; human failures (reopen rate, CSAT)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest

from contracts.events.support_quality import ProblemOpened, RecurringFailureDetected
from services.platform.commands import UnitOfWork
from services.support.application import recurring_failures
from services.support.application.human_failures import scan_human_failures
from services.support.application.recurring_failures import OpenedCase, observe_case
from tests.integration.conftest import SUPPORT_START, SupportApi
from tests.integration.satisfaction_steps import rate, survey_of
from tests.support_failure_cases import DEFECTS, generate

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
ANALYST = {"x-actor-id": "ana-lyst", "x-actor-role": "analyst"}
FRIDGE = DEFECTS[0]


async def _open(api: SupportApi, customer: str, subject: str, description: str,
                category: str = "defect", product_id: str | None = "SKU-1",
                headers: dict[str, str] = AGENT) -> dict[str, Any]:  # fmt: skip
    await api.know_customer(customer)
    body = {"customer_id": customer, "kind": "complaint", "subject": subject,
            "description": description, "category": category, "product_id": product_id}  # fmt: skip
    response = await api.client.post("/cases", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _events(api: SupportApi, event_class: type) -> list[Any]:
    rows = await api.runtime.store.read_all(limit=100_000)
    return [e for e in (row.domain_event() for row in rows) if isinstance(e, event_class)]


async def _detections(api: SupportApi) -> list[RecurringFailureDetected]:
    return await _events(api, RecurringFailureDetected)


async def test_planted_groups_are_found_among_noise_and_noise_is_not(support: SupportApi) -> None:
    cases = generate(seed=12, start=SUPPORT_START, groups=3, group_size=5, noise=60)
    label_of: dict[str, str] = {}
    for n, case in enumerate(cases):
        support.clock.now = case.opened_at
        opened = await _open(support, f"cust-{n % 17}", case.subject, case.description,
                             case.category, case.product_id)  # fmt: skip
        label_of[opened["case_id"]] = case.label
    detected = await _detections(support)
    found = sorted(sorted(Counter(label_of[str(c)] for c in d.case_ids).items())
                   for d in detected)  # fmt: skip
    assert found == [[(f"group-{g}", 5)] for g in range(3)]
    assert {(d.kind, d.indicator, d.value, d.threshold, d.window_days) for d in detected} == {
        ("product", "similar_cases", 5.0, 5.0, 7)}  # fmt: skip
    problems = await _events(support, ProblemOpened)
    assert sorted(p.problem_id for p in problems) == sorted(d.proposed_problem_id
                                                            for d in detected)  # fmt: skip
    assert {p.recurring_group_id for p in problems} == {d.group_id for d in detected}
    listed = await support.client.get("/recurring-failures", headers=ANALYST)
    assert listed.status_code == 200, listed.text
    assert [r["cases"] for r in listed.json()["recurring_failures"]] == [5, 5, 5]


async def test_a_group_is_detected_once_however_its_cases_arrive(support: SupportApi) -> None:
    # Five similar complaints at once (the detector must not miss or double any), then a
    # sixth, a repeated request and a replayed observation of a member.
    texts = [FRIDGE, FRIDGE + " urgente", "por favor " + FRIDGE, FRIDGE.upper(),
             FRIDGE.replace("direito", "")]  # fmt: skip
    opened = await asyncio.gather(*(
        _open(support, f"cust-{n}", "Geladeira", text) for n, text in enumerate(texts)
    ))  # fmt: skip
    assert len(await _detections(support)) == 1
    sixth = await _open(support, "cust-6", "Geladeira com defeito", FRIDGE + " de novo")
    again = await support.client.post("/cases", headers={**AGENT, "Idempotency-Key": "k-1"},
                                      json={"customer_id": "cust-6", "subject": "Geladeira",
                                            "description": FRIDGE, "category": "defect",
                                            "product_id": "SKU-1"})  # fmt: skip
    replay = await support.client.post("/cases", headers={**AGENT, "Idempotency-Key": "k-1"},
                                       json={"customer_id": "cust-6", "subject": "Geladeira",
                                             "description": FRIDGE, "category": "defect",
                                             "product_id": "SKU-1"})  # fmt: skip
    assert (again.status_code, replay.json()["replayed"]) == (201, True)

    async def observe_again(uow: UnitOfWork) -> dict[str, Any]:
        member = OpenedCase(UUID(opened[0]["case_id"]), "cust-0", "defect", "SKU-1", FRIDGE,
                            support.clock.now)  # fmt: skip
        return {"group": await observe_case(uow, support.runtime, member)}

    answer, _ = await support.runtime.commands.run(observe_again)
    detected = await _detections(support)
    assert len(detected) == 1 and answer["group"] == detected[0].group_id
    assert sixth["recurring_group_id"] == detected[0].group_id
    row = await support.runtime.pool.fetchrow("SELECT cases FROM recurring_failures")
    assert row["cases"] == 7  # the five, the sixth, the idempotent repeat's own case


async def test_the_window_slides_four_then_a_week_later_one_is_no_group(
    support: SupportApi,
) -> None:
    for n in range(4):
        await _open(support, f"cust-{n}", "Geladeira", f"{FRIDGE} caso {n}")
    support.clock.advance(days=8)
    await _open(support, "cust-9", "Geladeira", FRIDGE)
    assert await _detections(support) == []
    for n in range(4):  # four more within the new week: five in seven days
        support.clock.advance(hours=1)
        await _open(support, f"cust-1{n}", "Geladeira", f"{FRIDGE} outra vez {n}")
    detected = await _detections(support)
    assert len(detected) == 1 and len(detected[0].case_ids) == 5


async def test_similar_text_in_another_product_or_category_is_another_bucket(
    support: SupportApi,
) -> None:
    for n in range(6):
        await _open(support, f"cust-{n}", "Geladeira", FRIDGE, product_id=f"SKU-{n % 2}",
                    category="defect" if n < 4 else "delivery")  # fmt: skip
    assert await _detections(support) == []


async def test_an_erased_customers_signatures_go_with_them(support: SupportApi) -> None:
    await _open(support, "cust-gone", "Geladeira", FRIDGE)
    await _open(support, "cust-stays", "Geladeira", FRIDGE)
    async with support.runtime.pool.acquire() as conn:
        await recurring_failures.forget(conn, ["cust-gone"])
    rows = await support.runtime.pool.fetch("SELECT customer_id FROM case_signatures")
    assert [r["customer_id"] for r in rows] == ["cust-stays"]


async def _work_case(api: SupportApi, n: int, agent: str, *, reopen: bool) -> str:
    # A product of its own per case: these are not similar cases of one product.
    opened = await _open(api, f"cust-{n}", "Pedido", "Pedido errado", "billing", f"SKU-H{n}")
    case_id = opened["case_id"]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("assignment", {"assignee_id": agent}), ("solution", {"resolution": "Feito"}),
    ]  # fmt: skip
    if reopen:
        steps += [("reopening", {"reason": "Voltou"}), ("solution", {"resolution": "Feito"})]
    for path, body in steps:
        answer = await api.client.post(f"/cases/{case_id}/{path}", json=body, headers=AGENT)
        assert answer.status_code == 200, answer.text
    return str(case_id)


async def test_an_agents_abnormal_reopen_rate_is_detected_once(support: SupportApi) -> None:
    for n in range(10):  # bob: 4 of 10 reopened; carl: 1 of 10; their team 5 of 20
        await _work_case(support, n, "agent-bob", reopen=n < 4)
        await _work_case(support, 100 + n, "agent-carl", reopen=n < 1)
    assert await scan_human_failures(support.runtime) == 1
    assert await scan_human_failures(support.runtime) == 0
    detected = await _detections(support)
    assert [(d.kind, d.indicator, d.agent_id, d.team, d.value) for d in detected] == [
        ("human", "reopen_rate", "agent-bob", None, 0.4)]  # fmt: skip


async def test_low_satisfaction_of_an_agent_is_detected_once(support: SupportApi) -> None:
    for n in range(10):
        case_id = await _work_case(support, n, "agent-dora", reopen=False)
        answer = await rate(support, survey_of(case_id), 1 if n < 6 else 5)
        assert answer.status_code == 200, answer.text
        team = (await support.client.get(f"/cases/{case_id}", headers=AGENT)).json()["team"]
    # dora's CSAT is 4 of 10; her team's too (she answered all its cases)
    assert await scan_human_failures(support.runtime) == 2
    assert await scan_human_failures(support.runtime) == 0
    detected = await _detections(support)
    found = sorted((d.indicator, d.agent_id or "", d.team or "", d.value) for d in detected)
    assert found == [("low_satisfaction", "", team, 0.4),
                     ("low_satisfaction", "agent-dora", "", 0.4)]  # fmt: skip


async def test_the_next_window_may_detect_the_same_agent_again(support: SupportApi) -> None:
    # bob alone works his team's cases: the agent and the team are detected each window.
    for n in range(10):
        await _work_case(support, n, "agent-bob", reopen=n < 4)
    assert await scan_human_failures(support.runtime) == 2
    support.clock.advance(days=support.runtime.recurring.human_window_days)
    assert await scan_human_failures(support.runtime) == 0  # nothing solved in this one yet
    for n in range(10):
        await _work_case(support, 200 + n, "agent-bob", reopen=n < 5)
    assert await scan_human_failures(support.runtime) == 2
    detected = await _detections(support)
    assert sorted((d.agent_id is None, d.value) for d in detected) == [
        (False, 0.4), (False, 0.5), (True, 0.4), (True, 0.5)]  # fmt: skip
    assert len({d.group_id for d in detected}) == 4


def test_generated_cases_hold_what_the_tests_need() -> None:
    cases = generate(seed=12, start=SUPPORT_START)
    planted = [c for c in cases if c.label.startswith("group-")]
    assert len(planted) == 15 and len(cases) == 15 + 60 + 4 + 5
    for label in {c.label for c in planted}:
        days = [c.opened_at for c in planted if c.label == label]
        assert max(days) - min(days) <= timedelta(days=7)
