"""Customer service end to end: the real gateway, services, Kafka and PostgreSQL.

A seller registers a contact; the support worker learns the customer from the sales
topic, so an agent can open a complaint for them through the gateway, reply and solve
it; the customer's timeline (a projection of the support topic) shows the case. The
seller reads the case once a deal of theirs is for that customer; a seller of another
team never does. A
complaint a call centre publishes through ``POST /v1/events`` becomes a case too.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import E2E_API_KEY, wait_for

pytestmark = pytest.mark.e2e


async def ok(answer: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    return dict(answer.json())


@pytest.mark.timeout(180)
async def test_a_complaint_from_opening_to_solution_reaches_the_timeline(system) -> None:
    keys = system["keys"]
    seller = {"Authorization": f"Bearer {keys.issue('seller-sp-01', 'seller', team='sudeste')}"}
    stranger = {"Authorization": f"Bearer {keys.issue('seller-ba-09', 'seller', team='nordeste')}"}
    agent = {"Authorization": f"Bearer {keys.issue('agent-7', 'service_agent')}"}
    async with httpx.AsyncClient(base_url=system["gateway"], timeout=30) as http:
        contact = await ok(await http.post("/v1/contacts", headers=seller, json={
            "first_name": "Márcia", "last_name": f"Lima {uuid.uuid4().hex[:6]}",
        }), 201)  # fmt: skip
        customer = contact["customer_id"]
        complaint = {"customer_id": customer, "kind": "complaint", "channel": "phone",
                     "subject": "Forno chegou sem a grade", "category": "delivery"}  # fmt: skip

        async def opened() -> dict[str, Any] | None:
            # Until the support worker has read the contact, the customer is unknown: 404.
            answer = await http.post("/v1/support/cases", json=complaint, headers=agent)
            assert answer.status_code in (201, 404), answer.text
            return dict(answer.json()) if answer.status_code == 201 else None

        case = await wait_for(opened, timeout=60)
        path = f"/v1/support/cases/{case['case_id']}"
        reply = {"kind": "agent_reply", "body": "Enviamos a grade."}
        await ok(await http.post(f"{path}/messages", headers=agent, json=reply), 201)
        solved = await ok(await http.post(f"{path}/solution", headers=agent,
                                          json={"resolution": "Grade entregue."}))  # fmt: skip
        await ok(await http.post("/v1/opportunities", headers=seller, json={
            "customer_id": customer, "title": "Cozinha completa",
            "amount": {"amount": "12000.00", "currency": "BRL"},
        }), 201)  # fmt: skip

        async def readable() -> dict[str, Any] | None:
            # Until the support worker has read the deal, the customer is not the seller's.
            answer = await http.get(path, headers=seller)
            assert answer.status_code in (200, 403), answer.text
            return dict(answer.json()) if answer.status_code == 200 else None

        view = await wait_for(readable, timeout=60)
        assert (view["status"], view["team"]) == ("solved", "logistics")
        assert (await http.get(path, headers=stranger)).status_code == 403

        async def timeline() -> list[str] | None:
            page = await ok(await http.get(
                f"/v1/customers/{customer}/timeline",
                params={"order": "oldest", "wait_for": solved["consistency_token"]},
                headers=agent,
            ))  # fmt: skip
            types = [e["event_type"] for e in page["entries"]]
            return types if "crm.support.case_solved" in types else None

        types = await wait_for(timeline, timeout=60)
        support = [t.rsplit(".", 1)[-1] for t in types if t.startswith("crm.support.")]
        assert support[:3] == ["case_opened", "complaint_filed", "case_assigned"]
        assert "message_added" in support and "case_solved" in support


@pytest.mark.timeout(180)
async def test_a_call_centre_complaint_becomes_a_case(system) -> None:
    keys = system["keys"]
    agent = {"Authorization": f"Bearer {keys.issue('agent-7', 'service_agent')}"}
    case_id = str(uuid.uuid4())
    event = {
        "specversion": "1.0", "id": str(uuid.uuid4()), "source": "urn:callcentre:sp-01",
        "type": "crm.support.complaint_filed", "time": datetime.now(UTC).isoformat(),
        "data": {"case_id": case_id, "customer_id": f"cust-cc-{uuid.uuid4().hex[:8]}",
                 "subject": "Cobrança em dobro", "description": "Duas cobranças no cartão.",
                 "channel": "phone", "severity": "high", "category": "billing"},
    }  # fmt: skip
    async with httpx.AsyncClient(base_url=system["gateway"], timeout=30) as http:
        published = await ok(await http.post("/v1/events", json=event,
                                              headers={"X-API-Key": E2E_API_KEY}))  # fmt: skip
        assert published["accepted"] == 1

        async def the_case() -> dict[str, Any] | None:
            answer = await http.get(f"/v1/support/cases/{case_id}", headers=agent)
            assert answer.status_code in (200, 404), answer.text
            return dict(answer.json()) if answer.status_code == 200 else None

        case = await wait_for(the_case, timeout=60)
        assert (case["kind"], case["team"], case["priority"]) == ("complaint", "billing", "high")
        assert case["description"] == "Duas cobranças no cartão."
