"""The satisfaction KPIs on real PostgreSQL against figures worked by hand: CSAT per team
and per month (in the business time zone), SERVQUAL gaps per item and dimension."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.integration.conftest import SupportApi
from tests.integration.satisfaction_steps import (
    AGENT,
    SUPERVISOR,
    customer,
    open_case,
    rate,
    solve,
    survey_of,
)

pytestmark = pytest.mark.integration


async def _rated_case(api: SupportApi, category: str, score: int) -> None:
    case_id = await open_case(api, category=category)
    await solve(api, case_id)
    rated = await rate(api, survey_of(case_id), score)
    assert rated.status_code == 200, rated.text


async def _csat(api: SupportApi, **params: str) -> dict[str, Any]:
    answer = await api.client.get("/kpis/csat", headers=SUPERVISOR, params=params)
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def _groups(kpi: dict[str, Any]) -> dict[str, tuple[int, int, Decimal | None]]:
    return {g["key"]: (g["answered"], g["satisfied"], g["score"] and Decimal(g["score"]))
            for g in kpi["groups"]}  # fmt: skip


async def test_csat_per_team_is_satisfied_over_answered(support: SupportApi) -> None:
    for score in (5, 4, 3, 5, 1):  # delivery cases go to logistics: 5, 4, 5 satisfied
        await _rated_case(support, "delivery", score)
    for score in (4, 2):  # billing: 4 satisfied
        await _rated_case(support, "billing", score)
    kpi = await _csat(support, group_by="team")
    assert _groups(kpi) == {"logistics": (5, 3, Decimal("0.6")), "billing": (2, 1, Decimal("0.5"))}
    # 4 satisfied of 7: 0.571428... to 4 places.
    assert (kpi["answered"], kpi["satisfied"], Decimal(kpi["score"])) == (7, 4, Decimal("0.5714"))


async def test_a_month_is_the_business_time_zones_month(support: SupportApi) -> None:
    # 30 November 23:30 in São Paulo is already 1 December 02:30 in UTC.
    support.clock.now = support.clock.now.replace(month=12, day=1, hour=2, minute=30)
    await _rated_case(support, "delivery", 5)
    support.clock.advance(hours=1)  # 1 December 00:30 in São Paulo
    await _rated_case(support, "delivery", 2)
    kpi = await _csat(support, group_by="month")
    assert _groups(kpi) == {"2026-11": (1, 1, Decimal("1")), "2026-12": (1, 0, Decimal("0"))}
    november = await _csat(support, group_by="team", **{"from": "2026-11-01", "to": "2026-11-30"})
    assert (november["answered"], november["satisfied"]) == (1, 1)


async def test_an_empty_period_has_nothing_answered_and_no_score(support: SupportApi) -> None:
    await _rated_case(support, "delivery", 5)
    kpi = await _csat(support, group_by="agent", **{"from": "2020-01-01", "to": "2020-01-31"})
    assert (kpi["answered"], kpi["score"], kpi["groups"]) == (0, None, [])


async def test_an_unknown_grouping_is_refused(support: SupportApi) -> None:
    refused = await support.client.get("/kpis/csat", headers=SUPERVISOR,
                                       params={"group_by": "colour"})  # fmt: skip
    assert refused.status_code == 422, refused.text


async def test_a_customer_reads_no_kpi(support: SupportApi) -> None:
    refused = await support.client.get("/kpis/csat", headers=customer("cust-1"))
    assert refused.status_code == 403, refused.text


# --------------------------------------------------------------------------- SERVQUAL
# Items 1-4 tangibles, 5-9 reliability, 10-13 responsiveness, 14-17 assurance, 18-22
# empathy; 10-13 and 18-22 are worded negatively, so their gap is expectation - perception
# of the ticks. Worked by hand:
# A: tangibles 7 vs 5 (gap -2), reliability 7 vs 6 (-1), responsiveness ticked 1 vs 3
#    (-2), assurance 7 vs 7 (0), empathy ticked 1 vs 2 (-1). Unweighted (-2-1-2+0-1)/5 =
#    -1.2; points 10/40/20/20/10 give (-20-40-40+0-10)/100 = -1.1.
# B: every answer 6 (2 on the negative items) for both, but item 1 perceived 3 (-3) and
#    item 5 perceived 7 (+1): tangibles -3/4 = -0.75, reliability 1/5 = 0.2, others 0;
#    unweighted -0.55/5 = -0.11; no points.
# Both: item 1 (-2-3)/2 = -2.5, item 5 (-1+1)/2 = 0, item 10 (-2+0)/2 = -1; tangibles
# (-2-0.75)/2 = -1.375, reliability (-1+0.2)/2 = -0.4, responsiveness -1, assurance 0,
# empathy -0.5; unweighted (-1.375-0.4-1+0-0.5)/5 = -0.655; weighted only A's: -1.1.
NEGATIVE = set(range(10, 14)) | set(range(18, 23))
A_EXPECT = [1 if n in NEGATIVE else 7 for n in range(1, 23)]
A_PERCEIVE = [5] * 4 + [6] * 5 + [3] * 4 + [7] * 4 + [2] * 5
A_POINTS = {"tangibles": 10, "reliability": 40, "responsiveness": 20, "assurance": 20,
            "empathy": 10}  # fmt: skip
B_EXPECT = [2 if n in NEGATIVE else 6 for n in range(1, 23)]
B_PERCEIVE = [3, *B_EXPECT[1:4], 7, *B_EXPECT[5:]]


async def _servqual(api: SupportApi, body: dict[str, Any], headers: dict[str, str] = AGENT
                    ) -> Any:  # fmt: skip
    form = {"customer_id": "cust-1", "locale": "pt-BR", **body}
    return await api.client.post("/servqual/responses", headers=headers, json=form)


async def test_servqual_gaps_per_item_and_dimension(support: SupportApi) -> None:
    case_id = await open_case(support, category="delivery")  # logistics
    a = {"case_id": case_id, "expectations": A_EXPECT, "perceptions": A_PERCEIVE,
         "weights": A_POINTS}  # fmt: skip
    recorded = await _servqual(support, a, customer("cust-1"))
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["team"] == "logistics"  # taken from the case
    b = {"team": "logistics", "expectations": B_EXPECT, "perceptions": B_PERCEIVE}
    assert (await _servqual(support, b)).status_code == 201
    other = {"team": "billing", "expectations": [7] * 22, "perceptions": [1] * 22}
    assert (await _servqual(support, other)).status_code == 201
    answer = await support.client.get("/kpis/servqual", headers=SUPERVISOR,
                                      params={"team": "logistics"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    kpi = answer.json()
    items = {i["number"]: Decimal(i["gap"]) for i in kpi["items"]}
    assert (kpi["responses"], items[1], items[5], items[10]) == (
        2, Decimal("-2.5"), Decimal("0"), Decimal("-1"),
    )  # fmt: skip
    assert {d: Decimal(v) for d, v in kpi["dimensions"].items()} == {
        "tangibles": Decimal("-1.375"), "reliability": Decimal("-0.4"),
        "responsiveness": Decimal("-1"), "assurance": Decimal("0"), "empathy": Decimal("-0.5"),
    }  # fmt: skip
    assert (Decimal(kpi["unweighted"]), Decimal(kpi["weighted"])) == (
        Decimal("-0.655"), Decimal("-1.1"),
    )  # fmt: skip


async def test_servqual_of_an_empty_period_is_no_score(support: SupportApi) -> None:
    answer = await support.client.get("/kpis/servqual", headers=SUPERVISOR,
                                      params={"team": "nobody"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    assert (answer.json()["responses"], answer.json()["unweighted"]) == (0, None)


async def test_an_answer_off_the_seven_points_is_refused_naming_the_item(
    support: SupportApi,
) -> None:
    await support.know_customer("cust-1")
    perceptions = [*A_PERCEIVE[:4], 8, *A_PERCEIVE[5:]]
    refused = await _servqual(support, {"expectations": A_EXPECT, "perceptions": perceptions})
    assert refused.status_code == 422, refused.text
    # The document says 1..7 per answer: refused as invalid, at its position (item 5).
    assert refused.json()["errors"][0]["field"] == "perceptions.4"
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM servqual_responses") == 0


async def test_a_customer_answers_servqual_only_for_themselves(support: SupportApi) -> None:
    body = {"expectations": A_EXPECT, "perceptions": A_PERCEIVE}
    refused = await _servqual(support, body, customer("cust-2"))
    assert refused.status_code == 403, refused.text


@pytest.mark.parametrize(("locale", "item_1"), [
    ("pt-BR", "A empresa tem equipamentos modernos."),
    ("es", "La empresa cuenta con equipos modernos."),
    ("en", "The company has up-to-date equipment."),
])  # fmt: skip
async def test_the_questionnaire_in_each_locale(support: SupportApi, locale: str,
                                                item_1: str) -> None:  # fmt: skip
    answer = await support.client.get("/servqual/questionnaire", headers=customer("cust-1"),
                                      params={"locale": locale})  # fmt: skip
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert (len(items), items[0]["text"], items[21]["dimension"]) == (22, item_1, "empathy")
