"""A 404 for a record a route looked up itself."""

from __future__ import annotations

from services.platform.decider import DomainError


def not_found(detail: str) -> DomainError:
    return DomainError(detail, code="not-found")
