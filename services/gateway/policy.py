"""Who may do what: the role matrix, route by route, and the team rule for deals.

Least privilege: each role gets the routes its work needs and nothing else. The matrix
is data (``MATRIX``), enforced by the gateway for every route and tested route by route
(``tests/integration/test_gateway_roles.py``); a route missing from it is refused to
everyone, and a test fails if any route of the API is missing.

Deals are further scoped by team: a seller works on their own deals and their team's,
a sales manager on their team's. The gateway forwards who is calling and the sales
service applies that rule to the deal as loaded in the command's own transaction
(``services.sales.application.access``).
"""

from __future__ import annotations

from collections.abc import Iterable

SELLER = "seller"
SALES_MANAGER = "sales_manager"
SERVICE_AGENT = "service_agent"
MARKETER = "marketer"
ANALYST = "analyst"
INTEGRATION = "integration"
ADMIN = "admin"

ROLES: tuple[str, ...] = (
    SELLER,
    SALES_MANAGER,
    SERVICE_AGENT,
    MARKETER,
    ANALYST,
    INTEGRATION,
    ADMIN,
)

ROLE_DESCRIPTIONS = {
    SELLER: "works their own and their team's deals; registers customers, logs activities",
    SALES_MANAGER: "everything a seller does for the whole team, plus approvals, "
    "reassignment and merging duplicates",
    SERVICE_AGENT: "serves customers: reads the 360 view and timeline, registers contacts, "
    "logs activities, delivers, cancels and takes back orders",
    MARKETER: "captures leads, reads customers, the 360 view, timelines and search",
    ANALYST: "reads everything (deals of every team included), writes nothing",
    INTEGRATION: "another system: publishes events, nothing else",
    ADMIN: "everything",
}

_PEOPLE = frozenset({SELLER, SALES_MANAGER, SERVICE_AGENT, MARKETER, ANALYST, ADMIN})
_SALES = frozenset({SELLER, SALES_MANAGER, ADMIN})
_READ_CUSTOMERS = frozenset({SELLER, SALES_MANAGER, SERVICE_AGENT, MARKETER, ANALYST, ADMIN})


def _roles(*roles: str | Iterable[str]) -> frozenset[str]:
    found: set[str] = {ADMIN}
    for role in roles:
        found.update([role] if isinstance(role, str) else role)
    return frozenset(found)


MATRIX: dict[str, frozenset[str]] = {
    # customers (accounts and contacts)
    "POST /v1/accounts": _roles(SELLER, SALES_MANAGER, SERVICE_AGENT),
    "GET /v1/accounts/{account_id}": _READ_CUSTOMERS,
    "POST /v1/accounts/{account_id}/merge": _roles(SALES_MANAGER),
    "POST /v1/contacts": _roles(SELLER, SALES_MANAGER, SERVICE_AGENT),
    "GET /v1/contacts/{contact_id}": _READ_CUSTOMERS,
    "POST /v1/contacts/{contact_id}/merge": _roles(SALES_MANAGER),
    # leads
    "POST /v1/leads": _roles(SELLER, SALES_MANAGER, MARKETER),
    "POST /v1/leads/{lead_id}/qualify": _SALES,
    "POST /v1/leads/{lead_id}/disqualify": _SALES,
    "POST /v1/leads/{lead_id}/convert": _SALES,
    "GET /v1/leads/{lead_id}": _roles(SELLER, SALES_MANAGER, MARKETER, ANALYST),
    # opportunities (and the team rule)
    "POST /v1/opportunities": _SALES,
    "POST /v1/opportunities/{opportunity_id}/stage": _SALES,
    "POST /v1/opportunities/{opportunity_id}/reopen": _SALES,
    "POST /v1/opportunities/{opportunity_id}/assign": _roles(SALES_MANAGER),
    "GET /v1/opportunities/{opportunity_id}": _roles(_SALES, ANALYST),
    "GET /v1/pipeline": _PEOPLE,
    # quotes
    "POST /v1/quotes": _SALES,
    "POST /v1/quotes/{quote_id}/revisions": _SALES,
    "POST /v1/quotes/{quote_id}/approve": _roles(SALES_MANAGER),
    "POST /v1/quotes/{quote_id}/accept": _SALES,
    "GET /v1/quotes/{quote_id}": _roles(_SALES, ANALYST),
    "GET /v1/quotes/{quote_id}/proposal.pdf": _SALES,
    "GET /v1/catalogue": _PEOPLE,
    # orders
    "POST /v1/orders": _SALES,
    "POST /v1/orders/{order_id}/deliver": _roles(SALES_MANAGER, SERVICE_AGENT),
    "POST /v1/orders/{order_id}/cancel": _roles(SELLER, SALES_MANAGER, SERVICE_AGENT),
    "POST /v1/orders/{order_id}/return": _roles(SALES_MANAGER, SERVICE_AGENT),
    "GET /v1/orders/{order_id}": _roles(_SALES, SERVICE_AGENT, ANALYST),
    # activities and follow-ups
    "POST /v1/activities": _roles(SELLER, SALES_MANAGER, SERVICE_AGENT),
    "POST /v1/follow-ups": _roles(SELLER, SALES_MANAGER, SERVICE_AGENT),
    "GET /v1/follow-ups/{follow_up_id}": _roles(SELLER, SALES_MANAGER, SERVICE_AGENT, ANALYST),
    # read models
    "GET /v1/customers/{customer_id}": _READ_CUSTOMERS,
    "GET /v1/customers/{customer_id}/timeline": _READ_CUSTOMERS,
    "GET /v1/customers/{customer_id}/timeline/stream": _READ_CUSTOMERS,
    "GET /v1/search": _READ_CUSTOMERS,
    # other systems
    "POST /v1/events": _roles(INTEGRATION),
}


def allowed(route_id: str, role: str) -> bool:
    return role in MATRIX.get(route_id, frozenset())
