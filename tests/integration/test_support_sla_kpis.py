"""The SLA and backlog KPIs on a small planted data set, on real PostgreSQL.

Calendar ``br-business``: Mon-Fri 09:00-12:00 and 13:00-18:00 in São Paulo (UTC-3, no
DST). Policies: ``normal`` first response 240, resolution 2400 business minutes;
``high`` 120 and 1440. Every expected number below is worked out by hand (SP times):

* A (alpha, normal): opened Mon 10:00, replied Mon 11:00 (60 min: met), solved Mon 15:00
  (10-12 + 13-15 = 240 min: met).
* B (alpha, normal): opened Mon 10:00, replied Tue 11:00 (Mon 10-12, 13-18 + Tue 09-11 =
  540 min: missed); still open.
* C (beta, normal): opened Mon 10:00, never answered: first response due Mon 15:00, past
  at the reading (missed, settled on Monday, no time to fulfilment); still new.
* D (beta, high): opened Mon 10:00, replied 10:30 (30 min: met), solved 10:45, reopened
  11:00, solved Tue 10:00 (45 + 60 + 300 + 60 = 465 min: met); reopened once.
* E (alpha, low -> normal): opened Tue 07:00 (before opening), pending since Tue 09:00.

Read on Tue 2026-11-24 at 16:00 SP (19:00 UTC).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.integration.conftest import SupportApi

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
SUPERVISOR = {"x-actor-id": "sup-sara", "x-actor-role": "service_supervisor"}
ANALYST = {"x-actor-id": "ana-lista", "x-actor-role": "analyst"}
CUSTOMER = {"x-actor-id": "cust-1", "x-actor-role": "customer"}


def _utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


async def _open(api: SupportApi, team: str, priority: str = "normal") -> str:
    answer = await api.client.post("/cases", headers=AGENT, json={
        "customer_id": "cust-1", "subject": "Pedido com defeito", "category": "delivery",
        "team": team, "priority": priority})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return str(answer.json()["case_id"])


async def _do(api: SupportApi, case_id: str, path: str, body: dict[str, Any]) -> None:
    answer = await api.client.post(f"/cases/{case_id}/{path}", headers=AGENT, json=body)
    assert answer.status_code in (200, 201), answer.text


async def _reply(api: SupportApi, case_id: str) -> None:
    await _do(api, case_id, "messages", {"kind": "agent_reply", "body": "Estamos vendo."})


async def _solve(api: SupportApi, case_id: str) -> None:
    await _do(api, case_id, "solution", {"resolution": "Trocado."})


@pytest.fixture
async def planted(support: SupportApi) -> SupportApi:
    await support.know_customer("cust-1")
    support.clock.now = _utc(23, 13)  # Mon 10:00 SP
    a, b = await _open(support, "alpha"), await _open(support, "alpha")
    await _open(support, "beta")
    d = await _open(support, "beta", "high")
    support.clock.now = _utc(23, 13, 30)
    await _reply(support, d)
    support.clock.now = _utc(23, 13, 45)
    await _solve(support, d)
    support.clock.now = _utc(23, 14)  # Mon 11:00 SP
    await _reply(support, a)
    await _do(support, d, "reopening", {"reason": "Voltou a falhar."})
    support.clock.now = _utc(23, 18)  # Mon 15:00 SP
    await _solve(support, a)
    support.clock.now = _utc(24, 10)  # Tue 07:00 SP
    e = await _open(support, "alpha", "low")
    support.clock.now = _utc(24, 12)  # Tue 09:00 SP
    await _do(support, e, "status", {"status": "pending"})
    support.clock.now = _utc(24, 13)  # Tue 10:00 SP
    await _solve(support, d)
    support.clock.now = _utc(24, 14)  # Tue 11:00 SP
    await _reply(support, b)
    support.clock.now = _utc(24, 19)  # Tue 16:00 SP: the reading
    return support


def _group(metric: str, policy: str, team: str, period: str, settled: int, met: int,
           attainment: str, median: float | None, p90: float | None) -> dict[str, Any]:  # fmt: skip
    return {"metric": metric, "policy_id": policy, "team": team, "period": period,
            "settled": settled, "met": met, "attainment": attainment,
            "median_business_minutes": median, "p90_business_minutes": p90}  # fmt: skip


async def _get(api: SupportApi, path: str, **params: str) -> dict[str, Any]:
    answer = await api.client.get(path, headers=SUPERVISOR, params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_attainment_per_metric_policy_team_and_day(planted: SupportApi) -> None:
    kpi = await _get(planted, "/kpis/sla", period="day")
    assert kpi["groups"] == [
        _group("first_response", "high", "beta", "2026-11-23", 1, 1, "1.0000", 30, 30),
        _group("first_response", "normal", "alpha", "2026-11-23", 1, 1, "1.0000", 60, 60),
        _group("first_response", "normal", "alpha", "2026-11-24", 1, 0, "0.0000", 540, 540),
        _group("first_response", "normal", "beta", "2026-11-23", 1, 0, "0.0000", None, None),
        _group("resolution", "high", "beta", "2026-11-24", 1, 1, "1.0000", 465, 465),
        _group("resolution", "normal", "alpha", "2026-11-23", 1, 1, "1.0000", 240, 240),
    ]


async def test_attainment_per_week_and_business_times(planted: SupportApi) -> None:
    kpi = await _get(planted, "/kpis/sla", period="week")
    alpha = [g for g in kpi["groups"] if g["team"] == "alpha" and g["metric"] == "first_response"]
    # A met in 60, B missed in 540: nearest rank, the median of two is the first.
    assert alpha == [
        _group("first_response", "normal", "alpha", "2026-W48", 2, 1, "0.5000", 60, 540)
    ]
    # Fulfilled first responses 30, 60, 540; resolutions 240, 465.
    assert kpi["business_times"] == {
        "first_response": {"median_business_minutes": 60, "p90_business_minutes": 540},
        "resolution": {"median_business_minutes": 240, "p90_business_minutes": 465},
    }
    # Solved at least once: A and D; reopened: D.
    assert kpi["reopen_rate"] == {
        "solved": 2, "reopened": 1, "rate": "0.5000",
        "teams": [{"team": "alpha", "solved": 1, "reopened": 0, "rate": "0.0000"},
                  {"team": "beta", "solved": 1, "reopened": 1, "rate": "1.0000"}],
    }  # fmt: skip


async def test_a_month_bounded_to_one_day(planted: SupportApi) -> None:
    kpi = await _get(planted, "/kpis/sla", period="month", **{"from": "2026-11-24",
                                                               "to": "2026-11-24"})  # fmt: skip
    assert kpi["groups"] == [
        _group("first_response", "normal", "alpha", "2026-11", 1, 0, "0.0000", 540, 540),
        _group("resolution", "high", "beta", "2026-11", 1, 1, "1.0000", 465, 465),
    ]
    # Every case opened on Monday: none in the reopen rate of Tuesday.
    assert (kpi["reopen_rate"]["solved"], kpi["reopen_rate"]["rate"]) == (0, None)


async def test_backlog_by_status_team_and_priority_with_ageing(planted: SupportApi) -> None:
    kpi = await _get(planted, "/kpis/backlog")
    assert kpi["open"] == 3
    assert (kpi["by_status"], kpi["by_team"], kpi["by_priority"]) == (
        {"new": 1, "open": 1, "pending": 1},
        {"alpha": 2, "beta": 1},
        {"low": 1, "normal": 2},
    )
    no_age = {"<1d": 0, "1-3d": 0, "3-7d": 0, ">=7d": 0}
    no_business = {"<4h": 0, "4-8h": 0, "8-24h": 0, ">=24h": 0}
    # B and C: 30 h on the wall, Mon 10-12, 13-18 + Tue 09-12, 13-16 = 13 business hours.
    # E: 9 h on the wall, Tue 09-12, 13-16 = 6 business hours (a pause still ages it).
    assert kpi["groups"] == [
        {"status": "new", "team": "beta", "priority": "normal", "open": 1,
         "calendar_age": {**no_age, "1-3d": 1}, "business_age": {**no_business, "8-24h": 1}},
        {"status": "open", "team": "alpha", "priority": "normal", "open": 1,
         "calendar_age": {**no_age, "1-3d": 1}, "business_age": {**no_business, "8-24h": 1}},
        {"status": "pending", "team": "alpha", "priority": "low", "open": 1,
         "calendar_age": {**no_age, "<1d": 1}, "business_age": {**no_business, "4-8h": 1}},
    ]  # fmt: skip


async def test_an_analyst_reads_the_kpis_a_customer_does_not(planted: SupportApi) -> None:
    for path in ("/kpis/sla", "/kpis/backlog"):
        assert (await planted.client.get(path, headers=ANALYST)).status_code == 200
        assert (await planted.client.get(path, headers=CUSTOMER)).status_code == 403


@pytest.mark.parametrize(("params", "field"), [
    ({"period": "year"}, "period"),
    ({"from": "2026-11-25", "to": "2026-11-24"}, "from"),
    ({"from": "24/11/2026"}, "from"),
])  # fmt: skip
async def test_bad_kpi_parameters_are_refused_naming_the_field(
    support: SupportApi, params: dict[str, str], field: str
) -> None:
    answer = await support.client.get("/kpis/sla", headers=SUPERVISOR, params=params)
    assert answer.status_code == 422, answer.text
    assert field in answer.text
