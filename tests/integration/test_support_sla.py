"""SLA clocks kept with every case command and fired exactly once, on real PostgreSQL.

The default policy for a normal-priority case (``config/sla.json``): first response in
240, resolution in 2400 business minutes, warning at 80 %, on the ``br-business``
calendar (São Paulo, Mon-Fri 09:00-12:00 and 13:00-18:00). The fixture's clock starts on
Monday 2026-11-23 at 10:00 in São Paulo (13:00 UTC). Expected instants are worked out by
hand from that calendar in each test.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from services.support.application.sla_clocks import fire_due_clocks
from tests.integration.conftest import SupportApi

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}


async def _open(api: SupportApi) -> str:
    await api.know_customer("cust-1")
    answer = await api.client.post("/cases", headers=AGENT, json={
        "customer_id": "cust-1", "subject": "Pedido atrasado", "category": "delivery"})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return str(answer.json()["case_id"])


async def _clock(api: SupportApi, case_id: str, metric: str) -> dict[str, Any]:
    case = (await api.client.get(f"/cases/{case_id}", headers=AGENT)).json()
    return next(c for c in case["sla"]["clocks"] if c["metric"] == metric)


async def _post(api: SupportApi, case_id: str, path: str, body: dict[str, Any]) -> None:
    answer = await api.client.post(f"/cases/{case_id}/{path}", headers=AGENT, json=body)
    assert answer.status_code in (200, 201), answer.text


async def _sla_events(api: SupportApi) -> list[str]:
    rows = await api.runtime.pool.fetch(
        "SELECT event_type FROM events WHERE event_type LIKE 'crm.support.sla_%' "
        "ORDER BY global_position"
    )
    return [r["event_type"].rsplit(".", 1)[-1] for r in rows]


async def test_first_response_is_due_at_the_business_instant(support: SupportApi) -> None:
    case_id = await _open(support)
    clock = await _clock(support, case_id, "first_response")
    # 10:00-12:00 (120) + lunch + 13:00-15:00 (120) = 240: 15:00 in São Paulo, 18:00 UTC.
    assert clock["due_at"] == "2026-11-23T18:00:00+00:00"
    # 80 % = 192: 120 before lunch, 72 after: 14:12 in São Paulo.
    assert clock["warn_at"] == "2026-11-23T17:12:00+00:00"
    assert (clock["policy_id"], clock["calendar_id"]) == ("normal", "br-business")


async def test_a_pending_case_does_not_tick_frappe_helpdesk_1554(support: SupportApi) -> None:
    case_id = await _open(support)
    support.clock.now = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 11:00 SP: 60 min used
    await _post(support, case_id, "status", {"status": "pending"})
    paused = await _clock(support, case_id, "first_response")
    assert (paused["paused"], paused["due_at"]) == (True, None)
    support.clock.now = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)  # Wednesday 11:00 SP
    await _post(support, case_id, "status", {"status": "open"})
    # 180 min left from Wednesday 11:00: 11-12 (60) + 13-15 (120) -> 15:00 SP.
    resumed = await _clock(support, case_id, "first_response")
    assert resumed["due_at"] == "2026-11-25T18:00:00+00:00"
    assert resumed["elapsed_seconds"] == 60 * 60


async def test_a_reply_does_not_fulfil_resolution_frappe_helpdesk_1542(
    support: SupportApi,
) -> None:
    case_id = await _open(support)
    support.clock.advance(minutes=30)
    await _post(support, case_id, "messages", {"kind": "agent_reply", "body": "Já vejo."})
    first = await _clock(support, case_id, "first_response")
    resolution = await _clock(support, case_id, "resolution")
    assert first["fulfilled_at"] == "2026-11-23T13:30:00+00:00"
    assert (first["breached"], resolution["fulfilled_at"]) == (False, None)


async def test_warning_and_breach_fire_exactly_once(support: SupportApi) -> None:
    await _open(support)
    support.clock.now = datetime(2026, 11, 23, 17, 11, tzinfo=UTC)
    assert await fire_due_clocks(support.runtime) == 0  # a minute before the warning
    support.clock.now = datetime(2026, 11, 23, 17, 12, tzinfo=UTC)
    fired = await asyncio.gather(*(fire_due_clocks(support.runtime) for _ in range(2)))
    assert sorted(fired) == [0, 1]  # two workers at once: one warning
    assert await fire_due_clocks(support.runtime) == 0
    support.clock.now = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    assert await fire_due_clocks(support.runtime) == 1
    assert await fire_due_clocks(support.runtime) == 0
    assert await _sla_events(support) == ["sla_warning", "sla_breached"]


async def test_no_page_at_night_for_a_business_hours_sla(support: SupportApi) -> None:
    support.clock.now = datetime(2026, 11, 23, 20, 30, tzinfo=UTC)  # Monday 17:30 SP
    case_id = await _open(support)
    # 30 min on Monday, 210 on Tuesday: 09-12 (180) + 13:00-13:30 -> 13:30 SP.
    assert (await _clock(support, case_id, "first_response"))["due_at"] == (
        "2026-11-24T16:30:00+00:00"
    )
    support.clock.now = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)  # 23:00 SP
    assert await fire_due_clocks(support.runtime) == 0
    assert await _sla_events(support) == []


async def test_a_case_opened_on_saturday_starts_on_monday_frappe_helpdesk_2075(
    support: SupportApi,
) -> None:
    support.clock.now = datetime(2026, 11, 28, 15, 0, tzinfo=UTC)  # Saturday 12:00 SP
    case_id = await _open(support)
    # Monday 09:00-12:00 (180) + 13:00-14:00 (60) = 240 -> 14:00 SP, 17:00 UTC.
    assert (await _clock(support, case_id, "first_response"))["due_at"] == (
        "2026-11-30T17:00:00+00:00"
    )
