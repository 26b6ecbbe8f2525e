"""The SLA configuration changed at runtime, on real PostgreSQL: versions, the recompute
of open cases (zammad#534), breaches exactly once across it, and bad input refused.

The fixture's clock starts on Monday 2026-11-23 at 10:00 in São Paulo (13:00 UTC); the
file configuration is version 1: ``br-business`` Mon-Fri 09:00-12:00 and 13:00-18:00,
policy ``normal`` first response 240, resolution 2400 business minutes, warning at 80 %.
Expected instants are worked out by hand in each test.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from services.support.application.sla_clocks import fire_due_clocks
from services.support.bootstrap import bootstrap
from services.support.entrypoints.http import create_app
from tests.integration.conftest import SupportApi

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
SUPERVISOR = {"x-actor-id": "sup-sara", "x-actor-role": "service_supervisor"}
# Mon-Fri 09:00-17:00 without a lunch break.
NO_LUNCH = {
    "time_zone": "America/Sao_Paulo",
    "weekly": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
    "holidays": [],
    "national_holidays": ["BR"],
}


async def _open(api: SupportApi, customer: str = "cust-1", **extra: Any) -> str:
    await api.know_customer(customer)
    answer = await api.client.post("/cases", headers=AGENT, json={
        "customer_id": customer, "subject": "Pedido atrasado", "category": "delivery",
        **extra})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return str(answer.json()["case_id"])


async def _post(api: SupportApi, case_id: str, path: str, body: dict[str, Any]) -> None:
    answer = await api.client.post(f"/cases/{case_id}/{path}", headers=AGENT, json=body)
    assert answer.status_code in (200, 201), answer.text


async def _clock(api: SupportApi, case_id: str, metric: str) -> dict[str, Any]:
    case = (await api.client.get(f"/cases/{case_id}", headers=AGENT)).json()
    return next(c for c in case["sla"]["clocks"] if c["metric"] == metric)


async def _policies(api: SupportApi) -> list[dict[str, Any]]:
    answer = await api.client.get("/sla/policies", headers=AGENT)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["policies"])


async def _set_target(api: SupportApi, policy_id: str, metric: str, minutes: int) -> dict[str, Any]:
    policies = await _policies(api)
    for policy in policies:
        if policy["id"] == policy_id:
            policy["targets"][metric] = minutes
    answer = await api.client.put("/sla/policies", headers=SUPERVISOR, json={"policies": policies})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def _breaches(api: SupportApi) -> int:
    query = "SELECT count(*) FROM events WHERE event_type LIKE 'crm.support.sla_breached%'"
    return int(await api.runtime.pool.fetchval(query))


async def test_the_file_configuration_is_version_one(support: SupportApi) -> None:
    answer = await support.client.get("/sla/calendars", headers=AGENT)
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == 1
    assert answer.headers["ETag"] == '"1"'
    ids = [c["id"] for c in answer.json()["calendars"]]
    assert ids == ["br-business", "ar-business", "always"]
    one = (await support.client.get("/sla/calendars/ar-business", headers=AGENT)).json()
    assert one["calendar"]["time_zone"] == "America/Argentina/Buenos_Aires"
    missing = await support.client.get("/sla/calendars/nowhere", headers=AGENT)
    assert missing.status_code == 404


async def test_a_calendar_change_recomputes_open_cases_not_closed_ones_zammad_534(
    support: SupportApi,
) -> None:
    open_id = await _open(support)
    closed_id = await _open(support, "cust-2")
    await _post(support, closed_id, "solution", {"resolution": "Reenviado."})
    await _post(support, closed_id, "closing", {"reason": "Confirmado pelo cliente."})
    before = await _clock(support, closed_id, "first_response")

    answer = await support.client.put("/sla/calendars/br-business", headers=SUPERVISOR,
                                      json=NO_LUNCH)  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert (answer.json()["version"], answer.json()["changed"]) == (2, True)
    assert answer.json()["recomputed"] == 1
    assert answer.json()["calendar"]["version"] == 2

    clock = await _clock(support, open_id, "first_response")
    # 240 min from 10:00 without lunch: 14:00 SP (17:00 UTC); 80 % = 192: 13:12 SP.
    assert clock["due_at"] == "2026-11-23T17:00:00+00:00"
    assert clock["warn_at"] == "2026-11-23T16:12:00+00:00"
    assert (clock["calendar_id"], clock["calendar_version"]) == ("br-business", 2)
    assert await _clock(support, closed_id, "first_response") == before


async def test_a_policy_change_recomputes_and_records_the_policy_version(
    support: SupportApi,
) -> None:
    case_id = await _open(support)
    answer = await _set_target(support, "normal", "first_response", 120)
    assert (answer["version"], answer["recomputed"]) == (2, 1)
    normal = next(p for p in answer["policies"] if p["id"] == "normal")
    vip = next(p for p in answer["policies"] if p["id"] == "vip")
    assert (normal["version"], vip["version"]) == (2, 1)  # only the edited one moves
    clock = await _clock(support, case_id, "first_response")
    # 120 min from 10:00: 12:00 SP (15:00 UTC); 96 min: 11:36 SP (14:36 UTC).
    assert (clock["due_at"], clock["warn_at"]) == (
        "2026-11-23T15:00:00+00:00", "2026-11-23T14:36:00+00:00")  # fmt: skip
    assert (clock["policy_id"], clock["policy_version"]) == ("normal", 2)
    history = await support.runtime.pool.fetch(
        "SELECT version, change, changed_by FROM sla_config_versions ORDER BY version"
    )
    assert [tuple(r) for r in history] == [
        (1, "seed: config/sla.json", None), (2, "policies", "sup-sara")]  # fmt: skip


async def test_an_unchanged_put_stores_no_version(support: SupportApi) -> None:
    policies = await _policies(support)
    answer = await support.client.put("/sla/policies", headers=SUPERVISOR,
                                      json={"policies": policies})  # fmt: skip
    assert (answer.json()["version"], answer.json()["changed"]) == (1, False)


async def test_a_paused_case_stays_paused_across_a_recompute_frappe_1554(
    support: SupportApi,
) -> None:
    case_id = await _open(support)
    support.clock.now = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 11:00 SP: 60 min used
    await _post(support, case_id, "status", {"status": "pending"})
    support.clock.now = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a day later
    answer = await support.client.put("/sla/calendars/br-business", headers=SUPERVISOR,
                                      json=NO_LUNCH)  # fmt: skip
    assert answer.status_code == 200, answer.text
    clock = await _clock(support, case_id, "first_response")
    assert (clock["paused"], clock["due_at"], clock["warn_at"]) == (True, None, None)
    assert (clock["elapsed_seconds"], clock["calendar_version"]) == (3600, 2)


async def test_a_breach_is_emitted_once_across_recomputes(support: SupportApi) -> None:
    case_id = await _open(support)
    support.clock.now = datetime(2026, 11, 23, 19, 0, tzinfo=UTC)  # 16:00 SP, due 15:00
    assert await fire_due_clocks(support.runtime) == 1
    assert await _breaches(support) == 1
    await _set_target(support, "normal", "first_response", 480)  # due moves to Tuesday
    clock = await _clock(support, case_id, "first_response")
    # Monday 10-12, 13-18 (420) + Tuesday 09-10 (60): 10:00 SP, 13:00 UTC.
    assert clock["due_at"] == "2026-11-24T13:00:00+00:00"
    assert clock["breached"] is True  # an emitted breach stays a breach
    await _set_target(support, "normal", "first_response", 60)  # due in the past again
    assert await fire_due_clocks(support.runtime) == 0
    support.clock.now = datetime(2026, 11, 24, 16, 0, tzinfo=UTC)
    assert await fire_due_clocks(support.runtime) == 0
    assert await _breaches(support) == 1


async def test_a_deadline_moved_into_the_past_breaches_at_the_next_run_once(
    support: SupportApi,
) -> None:
    case_id = await _open(support)
    support.clock.now = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 12:30 SP, due 15:00
    assert await fire_due_clocks(support.runtime) == 0
    await _set_target(support, "normal", "first_response", 60)
    assert (await _clock(support, case_id, "first_response"))["due_at"] == (
        "2026-11-23T14:00:00+00:00")  # 11:00 SP  # fmt: skip
    assert await fire_due_clocks(support.runtime) == 1
    assert await fire_due_clocks(support.runtime) == 0
    assert await _breaches(support) == 1


async def test_another_process_picks_up_the_new_version(support: SupportApi) -> None:
    other = bootstrap(support.runtime.pool, clock=support.clock)
    transport = httpx.ASGITransport(app=create_app(other))
    async with httpx.AsyncClient(transport=transport, base_url="http://other") as client:
        await support.know_customer("cust-9")
        first = await client.post("/cases", headers=AGENT, json={
            "customer_id": "cust-9", "subject": "Defeito", "category": "delivery"})  # fmt: skip
        assert first.status_code == 201
        await _set_target(support, "normal", "first_response", 120)  # through the first
        second = await client.post("/cases", headers=AGENT, json={
            "customer_id": "cust-9", "subject": "Outro", "category": "delivery"})  # fmt: skip
        view = (await client.get(f"/cases/{second.json()['case_id']}", headers=AGENT)).json()
    clock = next(c for c in view["sla"]["clocks"] if c["metric"] == "first_response")
    assert (clock["policy_version"], clock["due_at"]) == (2, "2026-11-23T15:00:00+00:00")


async def _refused(api: SupportApi, path: str, body: Any, field: str,
                   headers: dict[str, str] = SUPERVISOR, status: int = 422) -> None:  # fmt: skip
    answer = await api.client.put(path, headers=headers, json=body)
    assert answer.status_code == status, answer.text
    if field:
        assert answer.json()["errors"][0]["field"] == field, answer.text
    versions = await api.runtime.pool.fetchval("SELECT max(version) FROM sla_config_versions")
    assert versions in (None, 1)  # nothing stored


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**NO_LUNCH, "time_zone": "Mars/Olympus"}, "time_zone"),
        ({**NO_LUNCH, "weekly": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}}, "weekly.mon"),
        ({**NO_LUNCH, "weekly": {"mon": [["18:00", "09:00"]]}}, "weekly.mon"),
        ({**NO_LUNCH, "weekly": {"xyz": [["09:00", "18:00"]]}}, "weekly"),
        ({**NO_LUNCH, "holidays": ["2026-13-01"]}, "holidays"),
        ({**NO_LUNCH, "national_holidays": ["ZZ"]}, "national_holidays"),
        ({**NO_LUNCH, "id": "other"}, "id"),
    ],
)
async def test_a_bad_calendar_is_refused_naming_the_field(
    support: SupportApi, body: dict[str, Any], field: str
) -> None:
    await _refused(support, "/sla/calendars/br-business", body, field)


async def test_bad_policies_are_refused_naming_the_field(support: SupportApi) -> None:
    policies = await _policies(support)
    zero = [{**p, "targets": {**p["targets"], "first_response": 0}} for p in policies]
    await _refused(
        support, "/sla/policies", {"policies": zero}, "policies[0].targets.first_response"
    )
    nowhere = [{**policies[0], "calendar": "nowhere"}, *policies[1:]]
    await _refused(support, "/sla/policies", {"policies": nowhere}, "policies[0].calendar")
    await _refused(support, "/sla/policies", {"policies": policies[:-1]}, "policies")  # no default
    await _refused(support, "/sla/policies", {"rules": policies}, "policies")


async def test_only_a_supervisor_changes_and_a_stale_version_conflicts(
    support: SupportApi,
) -> None:
    await _refused(support, "/sla/calendars/br-business", NO_LUNCH, "", AGENT, 403)
    stale = {**SUPERVISOR, "If-Match": '"7"'}
    await _refused(support, "/sla/calendars/br-business", NO_LUNCH, "", stale, 409)
    fresh = {**SUPERVISOR, "If-Match": '"1"'}
    answer = await support.client.put("/sla/calendars/br-business", headers=fresh, json=NO_LUNCH)
    assert answer.status_code == 200, answer.text


async def _warnings(api: SupportApi) -> int:
    query = "SELECT count(*) FROM events WHERE event_type LIKE 'crm.support.sla_warning%'"
    return int(await api.runtime.pool.fetchval(query))


async def test_a_warning_due_at_closing_waits_for_the_next_opening(support: SupportApi) -> None:
    support.clock.now = datetime(2026, 11, 23, 17, 48, tzinfo=UTC)  # Monday 14:48 SP
    case_id = await _open(support)
    # 14:48-18:00 is 192 min, 80 % of 240: the warning is reached at the closing instant.
    assert (await _clock(support, case_id, "first_response"))["warn_at"] == (
        "2026-11-23T21:00:00+00:00"
    )
    support.clock.now = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)  # 18:00 SP, closed
    await fire_due_clocks(support.runtime)
    support.clock.now = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)  # midnight SP
    await fire_due_clocks(support.runtime)
    assert await _warnings(support) == 0
    row = await support.runtime.pool.fetchrow("SELECT warn_at FROM sla_clocks WHERE metric = "
                                              "'first_response'")  # fmt: skip
    assert row["warn_at"] == datetime(2026, 11, 24, 12, 0, tzinfo=UTC)  # Tuesday 09:00 SP
    support.clock.now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    await fire_due_clocks(support.runtime)
    await fire_due_clocks(support.runtime)
    assert await _warnings(support) == 1


async def test_a_24_7_calendar_warns_at_night(support: SupportApi) -> None:
    support.clock.now = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # Tuesday 03:00 SP
    await _open(support, priority="critical")  # policy critical, calendar always, 60 min
    support.clock.now = datetime(2026, 11, 24, 6, 48, tzinfo=UTC)  # 80 % of 60 = 48 min
    assert await fire_due_clocks(support.runtime) == 1
    assert await _warnings(support) == 1


async def test_a_recompute_drops_a_metric_the_policy_lost_and_adds_it_back(
    support: SupportApi,
) -> None:
    case_id = await _open(support)
    await _post(support, case_id, "messages", {"kind": "agent_reply", "body": "Olá."})
    support.clock.now = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 11:00 SP
    await _post(support, case_id, "messages", {"kind": "customer_reply", "body": "E aí?"})
    metrics = "SELECT metric FROM sla_clocks WHERE case_id = $1 ORDER BY metric"
    pool = support.runtime.pool
    assert [r[0] for r in await pool.fetch(metrics, case_id)] == [
        "first_response", "next_reply", "resolution"]  # fmt: skip

    policies = await _policies(support)
    normal = next(p for p in policies if p["id"] == "normal")
    del normal["targets"]["next_reply"]
    answer = await support.client.put("/sla/policies", headers=SUPERVISOR,
                                      json={"policies": policies})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert [r[0] for r in await pool.fetch(metrics, case_id)] == ["first_response", "resolution"]

    await _set_target(support, "normal", "next_reply", 60)
    clock = await _clock(support, case_id, "next_reply")
    # The customer wrote at 11:00 SP: 60 business minutes, 12:00 SP (15:00 UTC).
    assert (clock["target_minutes"], clock["due_at"], clock["policy_version"]) == (
        60, "2026-11-23T15:00:00+00:00", 3)  # fmt: skip
