"""Satisfaction surveys on real PostgreSQL: one survey per solving of a case (whatever
retries), answered once by its customer, on its scale, before it expires."""

from __future__ import annotations

import pytest

from tests.integration.conftest import SupportApi
from tests.integration.satisfaction_steps import (
    AGENT,
    customer,
    open_case,
    rate,
    solve,
    survey_of,
    surveys_requested,
)

pytestmark = pytest.mark.integration


async def test_solving_a_case_requests_one_survey_on_its_own_stream(support: SupportApi) -> None:
    case_id = await open_case(support)
    answer = await solve(support, case_id)
    assert answer["survey_id"] == survey_of(case_id)
    assert await surveys_requested(support) == [f"survey-{survey_of(case_id)}"]


async def test_a_retried_solve_and_a_second_solve_request_no_second_survey(
    support: SupportApi,
) -> None:
    case_id = await open_case(support)
    await solve(support, case_id, key="solve-once")
    replay = await solve(support, case_id, key="solve-once")
    assert replay["replayed"] is True
    await solve(support, case_id)  # already solved: nothing to decide
    assert await surveys_requested(support) == [f"survey-{survey_of(case_id)}"]


async def test_a_reopened_case_solved_again_gets_a_second_survey(support: SupportApi) -> None:
    case_id = await open_case(support)
    await solve(support, case_id)
    reopened = await support.client.post(f"/cases/{case_id}/reopening", headers=AGENT,
                                         json={"reason": "A troca não chegou"})  # fmt: skip
    assert reopened.status_code == 200, reopened.text
    await solve(support, case_id)
    assert await surveys_requested(support) == [
        f"survey-{survey_of(case_id, 1)}", f"survey-{survey_of(case_id, 2)}",
    ]  # fmt: skip


async def test_solving_a_problem_requests_a_survey_for_each_incident(support: SupportApi) -> None:
    problem = await support.client.post("/problems", headers=AGENT,
                                        json={"headline": "Portas amassadas"})  # fmt: skip
    problem_id = problem.json()["problem_id"]
    incidents = [await open_case(support, c) for c in ("cust-1", "cust-2")]
    for case_id in incidents:
        linked = await support.client.post(f"/cases/{case_id}/problem", headers=AGENT,
                                           json={"problem_id": problem_id})  # fmt: skip
        assert linked.status_code == 200, linked.text
    solved = await support.client.post(f"/problems/{problem_id}/solution", headers=AGENT,
                                       json={"resolution": "Transportadora trocada"})  # fmt: skip
    assert solved.status_code == 200, solved.text
    assert sorted(await surveys_requested(support)) == sorted(
        f"survey-{survey_of(c)}" for c in incidents
    )


async def test_the_customer_rates_their_survey_once(support: SupportApi) -> None:
    case_id = await open_case(support, "cust-1")
    await solve(support, case_id)
    survey_id = survey_of(case_id)
    first = await rate(support, survey_id, 4, customer("cust-1"), comment="Resolveram rápido")
    assert first.status_code == 200, first.text
    assert first.json()["satisfied"] is True
    second = await rate(support, survey_id, 1, customer("cust-1"))
    assert second.status_code == 409, second.text
    view = await support.client.get(f"/surveys/{survey_id}", headers=customer("cust-1"))
    assert view.status_code == 200, view.text
    assert (view.json()["status"], view.json()["score"], view.json()["comment"]) == (
        "rated", 4, "Resolveram rápido",
    )  # fmt: skip


async def test_an_agent_rates_on_the_customers_behalf(support: SupportApi) -> None:
    case_id = await open_case(support)
    await solve(support, case_id)
    rated = await rate(support, survey_of(case_id), 3)
    assert rated.status_code == 200, rated.text
    assert rated.json()["satisfied"] is False


@pytest.mark.parametrize("score", [0, 6])
async def test_a_score_off_the_scale_is_refused_naming_the_score(
    support: SupportApi, score: int
) -> None:
    case_id = await open_case(support)
    await solve(support, case_id)
    refused = await rate(support, survey_of(case_id), score, customer("cust-1"))
    assert refused.status_code == 422, refused.text
    assert [e["field"] for e in refused.json()["errors"]] == ["score"]
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM survey_ratings") == 0


async def test_another_customers_survey_is_forbidden(support: SupportApi) -> None:
    case_id = await open_case(support, "cust-1")
    await solve(support, case_id)
    await support.know_customer("cust-2")
    refused = await rate(support, survey_of(case_id), 5, customer("cust-2"))
    assert refused.status_code == 403, refused.text
    peek = await support.client.get(f"/surveys/{survey_of(case_id)}", headers=customer("cust-2"))
    assert peek.status_code == 403, peek.text


async def test_an_expired_survey_takes_no_rating(support: SupportApi) -> None:
    case_id = await open_case(support)
    await solve(support, case_id)
    support.clock.advance(days=7, seconds=1)  # satisfaction.json: valid for 7 days
    refused = await rate(support, survey_of(case_id), 5, customer("cust-1"))
    assert refused.status_code == 422, refused.text
    view = await support.client.get(f"/surveys/{survey_of(case_id)}", headers=AGENT)
    assert view.json()["status"] == "expired"


async def test_an_unknown_survey_is_not_found(support: SupportApi) -> None:
    missing = await rate(support, survey_of("00000000-0000-0000-0000-000000000000"), 5)
    assert missing.status_code == 404, missing.text
