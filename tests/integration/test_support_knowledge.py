"""The knowledge base on real PostgreSQL: an article drafted from a solved case, reviewed,
published and versioned; full-text search in pt-BR, es and en with accents ignored;
articles offered on a new case and their feedback; the bad input that appends nothing."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.integration.conftest import SupportApi

pytestmark = pytest.mark.integration

AGENT = {"x-actor-id": "agent-ana", "x-actor-role": "service_agent"}
SUPERVISOR = {"x-actor-id": "sup-bia", "x-actor-role": "service_supervisor"}
CUSTOMER = {"x-actor-id": "cust-1", "x-actor-role": "customer"}


async def _post(api: SupportApi, path: str, body: Any = None, headers: Any = None,
                status: int = 200) -> dict[str, Any]:  # fmt: skip
    response = await api.client.post(path, json=body, headers=headers or SUPERVISOR)
    assert response.status_code == status, response.text
    return dict(response.json())


async def _publish(api: SupportApi, locale: str, headline: str, content: str,
                   **extra: Any) -> str:  # fmt: skip
    body = {"locale": locale, "headline": headline, "content": content, **extra}
    article_id = (await _post(api, "/articles", body, AGENT, 201))["article_id"]
    await _post(api, f"/articles/{article_id}/submit", headers=AGENT)
    await _post(api, f"/articles/{article_id}/review", {"approved": True})
    await _post(api, f"/articles/{article_id}/publish")
    return str(article_id)


async def _search(api: SupportApi, headers: Any = None, **params: Any) -> list[str]:
    response = await api.client.get("/articles", params=params, headers=headers or AGENT)
    assert response.status_code == 200, response.text
    return [a["article_id"] for a in response.json()["articles"]]


async def _article_events(api: SupportApi, article_id: str) -> list[str]:
    rows = await api.runtime.pool.fetch(
        "SELECT event_type FROM events WHERE stream_id = $1 ORDER BY stream_version",
        f"article-{article_id}",
    )
    return [r["event_type"].rsplit(".", 1)[-1] for r in rows]


async def _solved_case(api: SupportApi, resolution: str) -> str:
    await api.know_customer("cust-1")
    case = await _post(api, "/cases", {"customer_id": "cust-1", "subject": "Porta amassada",
                                       "category": "delivery"}, AGENT, 201)  # fmt: skip
    await _post(api, f"/cases/{case['case_id']}/solution", {"resolution": resolution}, AGENT)
    return str(case["case_id"])


async def test_an_article_drafted_from_a_solved_case_takes_its_resolution(
    support: SupportApi,
) -> None:
    case_id = await _solved_case(support, "Troque a borracha da porta pelo kit 12.")
    body = {"locale": "pt-BR", "headline": "Porta que não fecha", "source_case_id": case_id}
    article_id = (await _post(support, "/articles", body, AGENT, 201))["article_id"]
    view = (await support.client.get(f"/articles/{article_id}", headers=AGENT)).json()
    working = view["working"]
    assert (working["content"], working["source_case_id"], working["status"]) == (
        "Troque a borracha da porta pelo kit 12.",
        case_id,
        "draft",
    )
    assert working["category"] == "delivery" and view["published"] is None


async def test_drafting_from_a_case_not_solved_is_refused_naming_the_field(
    support: SupportApi,
) -> None:
    await support.know_customer("cust-1")
    case = await _post(support, "/cases", {"customer_id": "cust-1", "subject": "Ainda aberto"},
                       AGENT, 201)  # fmt: skip
    body = {"locale": "es", "headline": "x", "source_case_id": case["case_id"]}
    response = await support.client.post("/articles", json=body, headers=AGENT)
    assert response.status_code in (409, 422), response.text
    assert "source_case_id" in response.text
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM articles") == 0


async def test_review_then_publish_and_a_new_version_replaces_it_only_once_published(
    support: SupportApi,
) -> None:
    article_id = await _publish(support, "en", "Reset the router", "Hold the button 10 s.")
    revised = {"headline": "Reset the router", "content": "Hold the reset button 30 seconds."}
    response = await support.client.put(f"/articles/{article_id}", json=revised, headers=AGENT)
    assert response.status_code == 200, response.text
    view = (await support.client.get(f"/articles/{article_id}", headers=AGENT)).json()
    assert (view["working"]["version"], view["working"]["status"]) == (2, "draft")
    assert (view["published"]["version"], view["published"]["content"]) == (
        1,
        "Hold the button 10 s.",
    )
    assert await _search(support, q="30 seconds") == []
    await _post(support, f"/articles/{article_id}/submit", headers=AGENT)
    await _post(support, f"/articles/{article_id}/review", {"approved": True})
    await _post(support, f"/articles/{article_id}/publish")
    assert await _search(support, q="30 seconds") == [article_id]
    assert await _article_events(support, article_id) == [
        "knowledge_article_drafted", "knowledge_article_submitted",
        "knowledge_article_reviewed", "knowledge_article_published",
        "knowledge_article_drafted", "knowledge_article_submitted",
        "knowledge_article_reviewed", "knowledge_article_published",
    ]  # fmt: skip


async def test_a_rejection_needs_remarks_and_an_unapproved_article_is_not_published(
    support: SupportApi,
) -> None:
    body = {"locale": "es", "headline": "Cambio de talla", "content": "Pida el cambio."}
    article_id = (await _post(support, "/articles", body, AGENT, 201))["article_id"]
    refused = await support.client.post(f"/articles/{article_id}/publish", headers=SUPERVISOR)
    assert refused.status_code == 422 and "status" in refused.text
    await _post(support, f"/articles/{article_id}/submit", headers=AGENT)
    no_remarks = await support.client.post(
        f"/articles/{article_id}/review", json={"approved": False}, headers=SUPERVISOR
    )
    assert no_remarks.status_code == 422 and "remarks" in no_remarks.text
    await _post(support, f"/articles/{article_id}/review",
                {"approved": False, "remarks": "Falta el plazo."})  # fmt: skip
    refused = await support.client.post(f"/articles/{article_id}/publish", headers=SUPERVISOR)
    assert refused.status_code == 422
    assert await _article_events(support, article_id) == [
        "knowledge_article_drafted", "knowledge_article_submitted", "knowledge_article_reviewed",
    ]  # fmt: skip
    assert await _search(support) == []


@pytest.mark.parametrize(("field", "value"), [("locale", "fr"), ("headline", "  "),
                                              ("content", ""), ("category", "\u0000")])  # fmt: skip
async def test_bad_drafts_name_the_field_and_append_nothing(support: SupportApi, field: str,
                                                            value: str) -> None:  # fmt: skip
    body = {"locale": "en", "headline": "Headline", "content": "Content", field: value}
    response = await support.client.post("/articles", json=body, headers=AGENT)
    assert response.status_code == 422 and field in response.text, response.text
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM events") == 0


async def test_search_in_each_language_ignores_accents_and_stems(support: SupportApi) -> None:
    pt = await _publish(support, "pt-BR", "Geladeira não gela",
                        "Verifique a vedação da porta e a ventilação do compressor.")  # fmt: skip
    es = await _publish(support, "es", "La lavadora no centrifuga",
                        "Revise el equilibrio de la carga y la correa del motor.")  # fmt: skip
    en = await _publish(support, "en", "The printer jams",
                        "Remove the jammed sheets and clean the rollers.")  # fmt: skip
    assert await _search(support, q="vedacao") == [pt]  # no accent typed
    assert await _search(support, q="compressores") == [pt]  # Portuguese stem
    assert await _search(support, q="lavadoras") == [es]  # Spanish stem
    assert await _search(support, q="jamming roller") == [en]  # English stem
    assert await _search(support, q="motor", locale="pt-BR") == []
    assert set(await _search(support)) == {pt, es, en}


async def test_a_headline_match_ranks_above_a_body_match(support: SupportApi) -> None:
    body_only = await _publish(support, "en", "Cleaning", "The filter of the dryer clogs.")
    headline = await _publish(support, "en", "Dryer filter", "Clean it every week.")
    assert await _search(support, q="dryer filter") == [headline, body_only]


async def test_a_customer_reads_published_articles_only(support: SupportApi) -> None:
    published = await _publish(support, "en", "Track an order", "Use the tracking code.")
    body = {"locale": "en", "headline": "Internal draft", "content": "Not yet."}
    draft = (await _post(support, "/articles", body, AGENT, 201))["article_id"]
    seen = await support.client.get(f"/articles/{published}", headers=CUSTOMER)
    assert seen.status_code == 200 and "working" not in seen.json()
    assert (await support.client.get(f"/articles/{draft}", headers=CUSTOMER)).status_code == 404
    assert await _search(support, CUSTOMER, q="draft") == []


async def test_a_new_case_is_offered_matching_articles_and_feedback_is_counted(
    support: SupportApi,
) -> None:
    fridge = await _publish(support, "pt-BR", "Porta da geladeira amassada",
                            "Solicite a troca da porta pelo aplicativo.",
                            category="delivery")  # fmt: skip
    await _publish(support, "pt-BR", "Boleto vencido", "Gere a segunda via do boleto.",
                   category="billing")  # fmt: skip
    await support.know_customer("cust-1")
    case = await _post(support, "/cases", {
        "customer_id": "cust-1", "subject": "Geladeira chegou com a porta amassada",
        "description": "Veio amassada na lateral.", "category": "delivery",
    }, AGENT, 201)  # fmt: skip
    offered = await support.client.get(f"/cases/{case['case_id']}/suggested-articles",
                                       headers=CUSTOMER)  # fmt: skip
    assert offered.status_code == 200, offered.text
    assert [a["article_id"] for a in offered.json()["articles"]] == [fridge]
    for helped in (True, True, False):
        await _post(support, f"/articles/{fridge}/feedback",
                    {"helped": helped, "case_id": case["case_id"]}, CUSTOMER, 201)  # fmt: skip
    view = (await support.client.get(f"/articles/{fridge}", headers=AGENT)).json()
    assert (view["helped"], view["not_helped"]) == (2, 1)


async def test_feedback_on_an_unknown_case_or_a_draft_appends_nothing(
    support: SupportApi,
) -> None:
    published = await _publish(support, "en", "Track an order", "Use the tracking code.")
    body = {"locale": "en", "headline": "Draft", "content": "Not yet."}
    draft = (await _post(support, "/articles", body, AGENT, 201))["article_id"]
    before = await support.runtime.pool.fetchval("SELECT count(*) FROM events")
    unknown = await support.client.post(f"/articles/{published}/feedback",
                                        json={"helped": True, "case_id": str(uuid4())},
                                        headers=AGENT)  # fmt: skip
    assert unknown.status_code == 404 and "case_id" in unknown.text
    on_draft = await support.client.post(f"/articles/{draft}/feedback", json={"helped": True},
                                         headers=AGENT)  # fmt: skip
    assert on_draft.status_code == 404
    assert await support.runtime.pool.fetchval("SELECT count(*) FROM events") == before
