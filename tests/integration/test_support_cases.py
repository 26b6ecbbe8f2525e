"""The support API on real PostgreSQL: a case from complaint to closing, problems, merges,
and the bad input that must get a 4xx and append nothing."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.integration.conftest import SupportApi

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}


async def _open(api: SupportApi, customer: str = "cust-1", **body: Any) -> dict[str, Any]:
    payload = {"customer_id": customer, "kind": "complaint", "channel": "email",
               "subject": "Geladeira amassada", "description": "A porta veio amassada.",
               "category": "delivery", **body}  # fmt: skip
    response = await api.client.post("/cases", json=payload, headers=AGENT)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _case(api: SupportApi, case_id: str) -> dict[str, Any]:
    response = await api.client.get(f"/cases/{case_id}", headers=AGENT)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _events(api: SupportApi, case_id: str) -> list[str]:
    rows = await api.runtime.pool.fetch(
        "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version",
        f"case-{case_id}",
    )
    return [r["event_type"].rsplit(".", 1)[-1] for r in rows]


async def test_a_complaint_opens_a_case_for_the_team_the_rules_choose(support: SupportApi) -> None:
    await support.know_customer("cust-1")
    opened = await _open(support)
    case = await _case(support, opened["case_id"])
    # teams.json: the delivery category goes to logistics.
    assert (case["team"], case["status"], case["kind"]) == ("logistics", "new", "complaint")
    assert await _events(support, opened["case_id"]) == [
        "case_opened", "complaint_filed", "case_assigned",
    ]  # fmt: skip


async def test_a_vip_customer_goes_to_vip_care(support: SupportApi) -> None:
    await support.know_customer("cust-vip", tier="vip")
    case = await _case(support, (await _open(support, "cust-vip"))["case_id"])
    assert (case["team"], case["tier"]) == ("vip-care", "vip")


async def test_the_whole_lifecycle_with_its_conversation(support: SupportApi) -> None:
    await support.know_customer("cust-1")
    case_id = (await _open(support))["case_id"]
    steps = [
        ("assignment", {"assignee_id": "agent-ana"}),
        ("messages", {"kind": "agent_reply", "body": "Pode enviar uma foto?"}),
        ("status", {"status": "pending", "reason": "waiting for the photo"}),
        ("messages", {"kind": "customer_reply", "body": "Segue a foto."}),
        ("messages", {"kind": "internal_note", "body": "Transportadora X de novo."}),
        ("solution", {"resolution": "Troca agendada."}),
    ]
    for path, body in steps:
        response = await support.client.post(f"/cases/{case_id}/{path}", json=body, headers=AGENT)
        assert response.status_code in (200, 201), (path, response.text)
    case = await _case(support, case_id)
    assert case["status"] == "solved"
    assert [m["kind"] for m in case["conversation"]] == [
        "agent_reply", "customer_reply", "internal_note",
    ]  # fmt: skip
    # The customer's reply handed the pending case back to the agents.
    assert await _events(support, case_id) == [
        "case_opened", "complaint_filed", "case_assigned",
        "case_assigned", "case_status_changed",  # assigned to a person: open
        "message_added", "case_status_changed",  # pending
        "message_added", "case_status_changed",  # the customer replied: open again
        "message_added", "case_solved", "case_status_changed",
    ]  # fmt: skip


async def test_the_customer_does_not_see_internal_notes(support: SupportApi) -> None:
    await support.know_customer("cust-1")
    case_id = (await _open(support))["case_id"]
    await support.client.post(f"/cases/{case_id}/messages", headers=AGENT,
                              json={"kind": "internal_note", "body": "segredo"})  # fmt: skip
    customer = {"x-actor-id": "cust-1", "x-actor-role": "customer"}
    response = await support.client.get(f"/cases/{case_id}", headers=customer)
    assert response.status_code == 200
    assert response.json()["conversation"] == []
    other = {"x-actor-id": "cust-2", "x-actor-role": "customer"}
    assert (await support.client.get(f"/cases/{case_id}", headers=other)).status_code == 403


async def test_reopen_within_the_period_and_not_after(support: SupportApi) -> None:
    await support.know_customer("cust-1")
    case_id = (await _open(support))["case_id"]
    await support.client.post(f"/cases/{case_id}/solution", json={"resolution": "ok"},
                              headers=AGENT)  # fmt: skip
    support.clock.advance(days=2)
    again = await support.client.post(f"/cases/{case_id}/reopening", json={"reason": "voltou"},
                                      headers=AGENT)  # fmt: skip
    assert again.status_code == 200, again.text
    await support.client.post(f"/cases/{case_id}/solution", json={"resolution": "ok"},
                              headers=AGENT)  # fmt: skip
    support.clock.advance(days=8)  # teams.json: a 7-day reopen period
    late = await support.client.post(f"/cases/{case_id}/reopening", json={"reason": "de novo"},
                                     headers=AGENT)  # fmt: skip
    assert late.status_code == 422
    assert late.json()["type"].endswith("reopen-period-over")


async def test_the_timer_closes_solved_cases_after_the_reopen_period(support: SupportApi) -> None:
    from services.support.application.timers import close_after_reopen_period

    await support.know_customer("cust-1")
    case_id = (await _open(support))["case_id"]
    await support.client.post(f"/cases/{case_id}/solution", json={"resolution": "ok"},
                              headers=AGENT)  # fmt: skip
    support.clock.advance(days=6)
    assert await close_after_reopen_period(support.runtime) == 0
    support.clock.advance(days=1, seconds=1)
    assert await close_after_reopen_period(support.runtime) == 1
    assert await close_after_reopen_period(support.runtime) == 0
    assert (await _case(support, case_id))["status"] == "closed"
    reply = await support.client.post(f"/cases/{case_id}/messages", headers=AGENT,
                                      json={"kind": "agent_reply", "body": "olá?"})  # fmt: skip
    assert reply.status_code == 409
    assert (await _events(support, case_id))[-2:] == ["case_status_changed", "case_closed"]


async def test_merging_a_duplicate_closes_it(support: SupportApi) -> None:
    await support.know_customer("cust-1")
    keep = (await _open(support))["case_id"]
    duplicate = (await _open(support))["case_id"]
    response = await support.client.post(f"/cases/{duplicate}/merge", headers=AGENT,
                                         json={"into_case_id": keep})  # fmt: skip
    assert response.status_code == 200, response.text
    merged = await _case(support, duplicate)
    assert (merged["status"], merged["merged_into"]) == ("closed", keep)
    assert (await _case(support, keep))["status"] == "new"


async def test_solving_a_problem_solves_its_open_incidents(support: SupportApi) -> None:
    await support.know_customer("cust-1")
    await support.know_customer("cust-2")
    headline = {"headline": "Portas amassadas no transporte"}
    problem = await support.client.post("/problems", headers=AGENT, json=headline)
    assert problem.status_code == 201, problem.text
    problem_id = problem.json()["problem_id"]
    incidents = [(await _open(support, c))["case_id"] for c in ("cust-1", "cust-2")]
    for case_id in incidents:
        linked = await support.client.post(f"/cases/{case_id}/problem", headers=AGENT,
                                           json={"problem_id": problem_id})  # fmt: skip
        assert linked.status_code == 200, linked.text
    solved = await support.client.post(f"/problems/{problem_id}/solution", headers=AGENT,
                                       json={"resolution": "Transportadora trocada"})  # fmt: skip
    assert solved.status_code == 200, solved.text
    assert sorted(solved.json()["solved_cases"]) == sorted(incidents)
    for case_id in incidents:
        assert (await _case(support, case_id))["status"] == "solved"
        assert "case_solved" in await _events(support, case_id)
    late = await support.client.post(f"/cases/{(await _open(support))['case_id']}/problem",
                                     headers=AGENT, json={"problem_id": problem_id})  # fmt: skip
    assert late.status_code == 422


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"customer_id": "nobody"}, 404, "customer_id"),
        ({"order_id": str(uuid4())}, 404, "order_id"),
        ({"subject": "   "}, 422, "subject"),
        ({"priority": "urgentissimo"}, 422, "priority"),
        ({"channel": "pigeon"}, 422, "channel"),
    ],
)
async def test_bad_input_is_refused_and_appends_nothing(
    support: SupportApi, body: dict[str, Any], status: int, field: str
) -> None:
    await support.know_customer("cust-1")
    payload = {"customer_id": "cust-1", "subject": "x", "category": "delivery", **body}
    response = await support.client.post("/cases", json=payload, headers=AGENT)
    assert response.status_code == status, response.text
    assert field in response.text
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM events") == 0


async def test_an_order_of_another_customer_is_refused(support: SupportApi) -> None:
    await support.know_customer("cust-1")
    order_id = uuid4()
    await support.know_order(order_id, "cust-2")
    response = await support.client.post("/cases", headers=AGENT, json={
        "customer_id": "cust-1", "subject": "x", "order_id": str(order_id)})  # fmt: skip
    assert response.status_code == 422
    assert "order_id" in response.text


async def test_invalid_transitions_are_refused(support: SupportApi) -> None:
    await support.know_customer("cust-1")
    case_id = (await _open(support))["case_id"]
    before = await _events(support, case_id)
    reopen = await support.client.post(f"/cases/{case_id}/reopening", json={"reason": "x"},
                                       headers=AGENT)  # fmt: skip
    close = await support.client.post(f"/cases/{case_id}/closing", headers=AGENT)
    assert (reopen.status_code, close.status_code) == (422, 422)
    assert await _events(support, case_id) == before
