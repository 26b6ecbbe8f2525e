"""Who may do what: the role matrix, route by route, and the team rule for deals.

Least privilege: each role gets the routes its work needs and nothing else. The matrix
is data: the gateway's own routes here (``GATEWAY_MATRIX``), each context's operations
in its HTTP contract; ``MATRIX`` is both for the catalogue's contexts. The gateway
enforces it for every route and it is tested route by route; a route missing from it is
refused to everyone, and a test fails if any route of the API is missing.

Deals are further scoped by team: a seller works on their own deals and their team's,
a sales manager on their team's. The gateway forwards who is calling and the service
that owns deals applies that rule to commands; the gateway applies it to the reads
(``services.gateway.scope``), from the owner and team the read models carry.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping

SELLER = "seller"
SALES_MANAGER = "sales_manager"
SERVICE_AGENT = "service_agent"
SERVICE_SUPERVISOR = "service_supervisor"
MARKETER = "marketer"
ANALYST = "analyst"
INTEGRATION = "integration"
PRIVACY_OFFICER = "privacy_officer"
ADMIN = "admin"
CUSTOMER = "customer"

ROLES: tuple[str, ...] = (
    SELLER,
    SALES_MANAGER,
    SERVICE_AGENT,
    SERVICE_SUPERVISOR,
    MARKETER,
    ANALYST,
    INTEGRATION,
    PRIVACY_OFFICER,
    ADMIN,
    CUSTOMER,
)

SCOPED_ROLES = frozenset({SELLER, SALES_MANAGER})
"""Roles that see only some deals (their own, their team's)."""

ROLE_DESCRIPTIONS = {
    SELLER: "works their own and their team's deals; registers customers, logs activities",
    SALES_MANAGER: "everything a seller does for the whole team, plus approvals, "
    "reassignment and merging duplicates",
    SERVICE_AGENT: "serves customers: reads the 360 view and timeline, registers contacts, "
    "logs activities, delivers, cancels and takes back orders",
    SERVICE_SUPERVISOR: "leads the service team: everything an agent does, plus SLA policies "
    "and calendars, problems and articles' review, and the service KPIs",
    MARKETER: "captures leads, reads customers, the 360 view, timelines and search",
    ANALYST: "reads everything (deals of every team included), writes nothing",
    INTEGRATION: "another system: publishes events, nothing else",
    PRIVACY_OFFICER: "the data protection officer (LGPD encarregado): answers data subjects' "
    "requests (access, export, erasure) and keeps legal holds; no sales or service work",
    ADMIN: "everything",
    CUSTOMER: "a customer in self-service: their own cases, surveys, exchanges and refunds "
    "(the token's subject is their customer id)",
}

_READ_CUSTOMERS = frozenset(
    {SELLER, SALES_MANAGER, SERVICE_AGENT, SERVICE_SUPERVISOR, MARKETER, ANALYST, ADMIN}
)


def _roles(*roles: str | Iterable[str]) -> frozenset[str]:
    found: set[str] = {ADMIN}
    for role in roles:
        found.update([role] if isinstance(role, str) else role)
    return frozenset(found)


GATEWAY_MATRIX: dict[str, frozenset[str]] = {
    # read models
    "GET /v1/customers/{customer_id}": _READ_CUSTOMERS,
    "GET /v1/customers/{customer_id}/timeline": _READ_CUSTOMERS,
    "GET /v1/customers/{customer_id}/timeline/stream": _READ_CUSTOMERS,
    "GET /v1/search": _READ_CUSTOMERS,
    # other systems
    "POST /v1/events": _roles(INTEGRATION),
}
"""The gateway's own routes. A context's operations carry their roles in its HTTP
contract (``x-crm-roles`` in ``contracts/http/<context>.vN.json``)."""


class _CatalogueMatrix(Mapping[str, frozenset[str]]):
    """Every route of the catalogue's contexts and of the gateway, with its roles: read
    from the committed contracts the first time it is asked."""

    @functools.cached_property
    def _table(self) -> dict[str, frozenset[str]]:
        from services.gateway.plugged import plug_all, route_roles

        return route_roles(GATEWAY_MATRIX, plug_all())

    def __getitem__(self, route_id: str) -> frozenset[str]:
        return self._table[route_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)


MATRIX: Mapping[str, frozenset[str]] = _CatalogueMatrix()


def allowed(route_id: str, role: str) -> bool:
    return role in MATRIX.get(route_id, frozenset())
