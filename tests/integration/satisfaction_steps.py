"""Steps the satisfaction integration tests share: open, solve and rate cases through
the support API, and read the survey streams."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.support.domain import survey as sv
from tests.integration.conftest import SupportApi

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
SUPERVISOR = {"x-actor-id": "sup-sara", "x-actor-role": "service_supervisor"}


def customer(customer_id: str) -> dict[str, str]:
    return {"x-actor-id": customer_id, "x-actor-role": "customer"}


async def open_case(api: SupportApi, customer_id: str = "cust-1", category: str = "delivery",
                    assignee: str = "agent-ana") -> str:  # fmt: skip
    await api.know_customer(customer_id)
    body = {"customer_id": customer_id, "kind": "complaint", "subject": "Porta amassada",
            "category": category}  # fmt: skip
    opened = await api.client.post("/cases", json=body, headers=AGENT)
    assert opened.status_code == 201, opened.text
    case_id = str(opened.json()["case_id"])
    assigned = await api.client.post(f"/cases/{case_id}/assignment", headers=AGENT,
                                     json={"assignee_id": assignee})  # fmt: skip
    assert assigned.status_code == 200, assigned.text
    return case_id


async def solve(api: SupportApi, case_id: str, key: str | None = None) -> dict[str, Any]:
    headers = {**AGENT, **({"Idempotency-Key": key} if key else {})}
    solved = await api.client.post(f"/cases/{case_id}/solution", headers=headers,
                                   json={"resolution": "Troca feita"})  # fmt: skip
    assert solved.status_code == 200, solved.text
    return dict(solved.json())


def survey_of(case_id: str, solving: int = 1) -> str:
    return str(sv.survey_id(UUID(case_id), solving))


async def surveys_requested(api: SupportApi) -> list[str]:
    """Every survey stream that got a request, in order (the test's schema is its own)."""
    rows = await api.runtime.pool.fetch(
        "SELECT stream_id FROM events WHERE event_type = $1 ORDER BY global_position",
        "crm.support.satisfaction_survey_requested",
    )
    return [row["stream_id"] for row in rows]


async def rate(api: SupportApi, survey_id: str, score: int, headers: dict[str, str] = AGENT,
               comment: str = "") -> Any:  # fmt: skip
    return await api.client.post(f"/surveys/{survey_id}/rating", headers=headers,
                                 json={"score": score, "comment": comment})  # fmt: skip
