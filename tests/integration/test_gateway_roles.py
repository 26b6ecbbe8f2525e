"""The role matrix, route by route, checked against the README's table of roles.

The expected answer is written here from README.md ("Roles"), not taken from
``services/gateway/policy.py``: a test that read the matrix it checks would pass whatever
the matrix said. Reading a record back is granted with the right to work on it (the README:
"`GET` on the record reads it back"); "admin: everything" and "analyst: read everything"
are applied to every route and every GET below rather than repeated on each row.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tests.gateway_stack import Stack, gateway_stack

pytestmark = pytest.mark.integration

SELLER, MANAGER, AGENT, MARKETER = "seller", "sales_manager", "service_agent", "marketer"
ANALYST, INTEGRATION, ADMIN = "analyst", "integration", "admin"
OFFICER, SUPERVISOR, CUSTOMER = "privacy_officer", "service_supervisor", "customer"
EVERY_ROLE = (
    SELLER, MANAGER, AGENT, SUPERVISOR, MARKETER, ANALYST, INTEGRATION, OFFICER, ADMIN, CUSTOMER,
)  # fmt: skip
SALES = {SELLER, MANAGER}  # a manager may what a seller may, for the team's deals
SERVICE = {AGENT, SUPERVISOR}  # a supervisor may what an agent may in support
PEOPLE = {SELLER, MANAGER, AGENT, MARKETER}  # "read customers, 360, timeline, search"

README: dict[str, set[str]] = {
    # seller and agent "register accounts, contacts"; everyone but a system reads customers
    "POST /v1/accounts": {*SALES, AGENT},
    "GET /v1/accounts/{account_id}": PEOPLE,
    "PATCH /v1/accounts/{account_id}": {*SALES, AGENT},  # "correct ... details"
    "POST /v1/accounts/{account_id}/merge": {MANAGER},  # "merging duplicates"
    "POST /v1/contacts": {*SALES, AGENT},
    "GET /v1/contacts/{contact_id}": PEOPLE,
    "PATCH /v1/contacts/{contact_id}": {*SALES, AGENT},
    "POST /v1/contacts/{contact_id}/merge": {MANAGER},
    # seller "register ... leads; work leads"; marketer "capture leads; read ... leads"
    "POST /v1/leads": {*SALES, MARKETER},
    "POST /v1/leads/{lead_id}/qualify": SALES,
    "POST /v1/leads/{lead_id}/disqualify": SALES,
    "POST /v1/leads/{lead_id}/convert": SALES,
    "GET /v1/leads/{lead_id}": {*SALES, MARKETER},
    # seller "open, move and reopen ... deals"; manager "reassigning deals"
    "POST /v1/opportunities": SALES,
    "POST /v1/opportunities/{opportunity_id}/stage": SALES,
    "POST /v1/opportunities/{opportunity_id}/reopen": SALES,
    "POST /v1/opportunities/{opportunity_id}/assign": {MANAGER},
    "GET /v1/opportunities/{opportunity_id}": SALES,
    # agent and marketer "read ... the pipeline and the catalogue"
    "GET /v1/pipeline": {*SALES, AGENT, MARKETER},
    # seller "quotes (not approval)"; manager "approving quotes"; quotes are issued from
    # the catalogue's price lists
    "POST /v1/quotes": SALES,
    "POST /v1/quotes/{quote_id}/revisions": SALES,
    "POST /v1/quotes/{quote_id}/approve": {MANAGER},
    "POST /v1/quotes/{quote_id}/accept": SALES,
    "GET /v1/quotes/{quote_id}": SALES,
    "GET /v1/quotes/{quote_id}/proposal.pdf": SALES,
    "GET /v1/catalogue": {*SALES, AGENT, MARKETER},
    # seller "orders, cancellations"; agent "deliver, cancel and take back orders; read ...
    # orders"
    "POST /v1/orders": SALES,
    # manager "delivering and taking back orders"
    "POST /v1/orders/{order_id}/deliver": {MANAGER, AGENT},
    "POST /v1/orders/{order_id}/cancel": {*SALES, AGENT},
    "POST /v1/orders/{order_id}/return": {MANAGER, AGENT},
    "GET /v1/orders/{order_id}": {*SALES, AGENT},
    # seller "activities and follow-ups"; agent "log activities and follow-ups"
    "POST /v1/activities": {*SALES, AGENT},
    "POST /v1/follow-ups": {*SALES, AGENT},
    "GET /v1/follow-ups/{follow_up_id}": {*SALES, AGENT},
    # "read customers, 360, timeline, search"
    "GET /v1/customers/{customer_id}": PEOPLE,
    "GET /v1/customers/{customer_id}/timeline": PEOPLE,
    "GET /v1/customers/{customer_id}/timeline/stream": PEOPLE,
    "GET /v1/search": PEOPLE,
    # integration "`POST /v1/events` only"
    "POST /v1/events": {INTEGRATION},
    # privacy_officer "the privacy routes only"; the analyst reads everything "but the
    # privacy routes"
    "POST /v1/privacy/erasures": {OFFICER},
    "GET /v1/privacy/erasures/{request_id}": {OFFICER},
    "GET /v1/privacy/erasures": {OFFICER},
    "POST /v1/privacy/holds": {OFFICER},
    "GET /v1/privacy/holds": {OFFICER},
    "DELETE /v1/privacy/holds/{hold_id}": {OFFICER},
    "GET /v1/privacy/subjects/{subject_id}/export": {OFFICER},
    "GET /v1/privacy/audit": {OFFICER},
    # service_agent "work cases and problems"; seller and manager "read cases"; customer
    # "their own cases: open one, read, reply"
    "POST /v1/support/cases": {*SERVICE, CUSTOMER},
    "GET /v1/support/cases": {*SERVICE, *SALES, CUSTOMER},
    "GET /v1/support/cases/{case_id}": {*SERVICE, *SALES, CUSTOMER},
    "POST /v1/support/cases/{case_id}/assignment": SERVICE,
    "POST /v1/support/cases/{case_id}/status": SERVICE,
    "POST /v1/support/cases/{case_id}/messages": {*SERVICE, CUSTOMER},
    "POST /v1/support/cases/{case_id}/escalation": SERVICE,
    "POST /v1/support/cases/{case_id}/solution": SERVICE,
    "POST /v1/support/cases/{case_id}/reopening": SERVICE,
    "POST /v1/support/cases/{case_id}/closing": SERVICE,
    "POST /v1/support/cases/{case_id}/merge": SERVICE,
    "POST /v1/support/cases/{case_id}/problem": SERVICE,
    "POST /v1/support/problems": SERVICE,
    "GET /v1/support/problems/{problem_id}": SERVICE,
    "POST /v1/support/problems/{problem_id}/solution": SERVICE,
    # customer "answer their surveys"; supervisor "the service KPIs"
    "POST /v1/support/surveys/{survey_id}/rating": {*SERVICE, CUSTOMER},
    "GET /v1/support/surveys/{survey_id}": {*SERVICE, CUSTOMER},
    "GET /v1/support/servqual/questionnaire": {*SERVICE, CUSTOMER},
    "POST /v1/support/servqual/responses": {*SERVICE, CUSTOMER},
    "GET /v1/support/kpis/csat": {SUPERVISOR},
    "GET /v1/support/kpis/servqual": {SUPERVISOR},
    # customer "ask for exchanges and late-delivery refunds of their own orders"
    "POST /v1/support/orders/{order_id}/exchanges": {*SERVICE, CUSTOMER},
    "GET /v1/support/orders/{order_id}/exchanges": {*SERVICE, CUSTOMER},
    "POST /v1/support/orders/{order_id}/late-delivery": {*SERVICE, CUSTOMER},
    # agents draft and submit articles, a supervisor reviews and publishes; everyone who
    # serves or sells (and the customer: published only) reads them
    "POST /v1/support/articles": SERVICE,
    "PUT /v1/support/articles/{article_id}": SERVICE,
    "POST /v1/support/articles/{article_id}/submit": SERVICE,
    "POST /v1/support/articles/{article_id}/review": {SUPERVISOR},
    "POST /v1/support/articles/{article_id}/publish": {SUPERVISOR},
    "GET /v1/support/articles": {*SERVICE, *SALES, CUSTOMER},
    "GET /v1/support/articles/{article_id}": {*SERVICE, *SALES, CUSTOMER},
    "POST /v1/support/articles/{article_id}/feedback": {*SERVICE, CUSTOMER},
    "GET /v1/support/cases/{case_id}/suggested-articles": {*SERVICE, CUSTOMER},
    "GET /v1/support/recurring-failures": {SUPERVISOR},
    # supervisor "SLA policies and calendars" (agents read what they work under)
    "GET /v1/support/sla/calendars": SERVICE,
    "GET /v1/support/sla/calendars/{calendar_id}": SERVICE,
    "PUT /v1/support/sla/calendars/{calendar_id}": {SUPERVISOR},
    "GET /v1/support/sla/policies": SERVICE,
    "PUT /v1/support/sla/policies": {SUPERVISOR},
    "GET /v1/support/kpis/sla": {SUPERVISOR},
    "GET /v1/support/kpis/backlog": {SUPERVISOR},
    # inbound mail that became no case: agents see it, a supervisor files it
    "GET /v1/support/mail/quarantine": SERVICE,
    "POST /v1/support/mail/quarantine/{mail_id}/case": {SUPERVISOR},
}
EXPECTED = {
    route: {
        *roles, ADMIN,
        # service_supervisor "everything a service agent may"
        *([SUPERVISOR] if AGENT in roles else []),
        *([ANALYST] if route.startswith("GET ") and "/privacy/" not in route else []),
    }
    for route, roles in README.items()
}  # fmt: skip

# Where the gateway does not do what the README says, while one of them is being changed:
# listed so that the rest of the table is still checked, and so that this test fails (and
# the entry must go) once either side changes. None today.
DISAGREES: dict[tuple[str, str], bool] = {}  # (role, route): allowed by the gateway today


@pytest.fixture
async def stack(infra, schema, topic_factory) -> AsyncIterator[Stack]:
    topic = await topic_factory("external")
    async with gateway_stack(
        infra.database_url, infra.kafka_bootstrap, schema, events_topic=topic
    ) as running:
        yield running


class _Ids(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "customer-1" if key == "customer_id" else str(uuid.UUID(int=7))


async def test_the_table_covers_every_route_of_the_api(stack: Stack) -> None:
    async with stack.client() as http:
        paths = (await http.get("/openapi.json")).json()["paths"]
    served = {f"{m.upper()} {p}" for p, ops in paths.items() for m in ops if p.startswith("/v1/")}
    assert served == set(EXPECTED)


@pytest.mark.parametrize("role", EVERY_ROLE)
async def test_role_matrix_route_by_route(stack: Stack, role: str) -> None:
    """Each role gets exactly the routes the README gives it: 403 on every other one, and
    never a 5xx on a route it may call."""
    headers = stack.headers(role, subject="seller-sp-01", team="sudeste")
    wrong: list[tuple[str, int, bool]] = []
    async with stack.client() as http:
        for route_key, roles in EXPECTED.items():
            method, path = route_key.split(" ", 1)
            url = path.format_map(_Ids())
            if path.endswith("/stream"):
                # a live stream stays open: only its first status matters here
                async with http.stream(method, url, headers=headers) as answer:
                    status = answer.status_code
            else:
                params = {"q": "silva"} if path == "/v1/search" else None
                body = {} if method in ("POST", "PATCH") else None
                answer = await http.request(method, url, headers=headers, json=body, params=params)
                status = answer.status_code
            may = DISAGREES.get((role, route_key), role in roles)
            served = status not in (401, 403) and status < 500
            if (may and not served) or (not may and status != 403):
                wrong.append((route_key, status, may))
    assert wrong == [], f"{role}: (route, status, allowed)"


def test_each_disagreement_is_one_with_the_readme() -> None:
    """An entry of ``DISAGREES`` that the README already agrees with hides nothing: remove it."""
    assert [k for k, allowed in DISAGREES.items() if (k[0] in EXPECTED[k[1]]) == allowed] == []
