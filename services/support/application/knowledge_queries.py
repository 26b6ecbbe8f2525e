"""Reads of the knowledge base and the recurring failures: search, one article, the
articles offered on a case, the top recurring failures."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from contracts.events.support import CaseOpened
from services.platform.decider import DomainError
from services.support.application import article_index
from services.support.application.runtime import SupportRuntime
from services.support.domain import article as ar
from services.support.domain import case as cs

OFFERED_WHILE = ("new", "open")
"""A case is offered articles while nobody has answered it yet or it is being worked."""


async def search(deps: SupportRuntime, q: str | None, locale: str | None,
                 category: str | None, product_id: str | None,
                 limit: int) -> list[dict[str, Any]]:  # fmt: skip
    async with deps.pool.acquire() as conn:
        return await article_index.search_published(conn, q, locale, category, product_id,
                                                    limit)  # fmt: skip


async def article_view(deps: SupportRuntime, article_id: UUID,
                       published_only: bool) -> dict[str, Any]:  # fmt: skip
    async with deps.pool.acquire() as conn:
        row = await article_index.article_row(conn, article_id)
    if row is None or (published_only and row["published_version"] == 0):
        raise DomainError("no such article", code="not-found")
    history = await deps.store.read_stream(ar.stream_id(article_id))
    published = None
    if row["published_version"]:
        published = {
            "version": row["published_version"], "locale": row["published_locale"],
            "headline": row["published_headline"], "content": row["published_content"],
            "category": row["published_category"], "product_id": row["published_product"],
            "published_at": row["published_at"],
        }  # fmt: skip
    view: dict[str, Any] = {
        "article_id": row["article_id"], "stream_version": history[-1].stream_version,
        "published": published, "helped": row["helped"], "not_helped": row["not_helped"],
    }  # fmt: skip
    if not published_only:
        view["working"] = {key: row[key] for key in (
            "version", "status", "locale", "headline", "content", "category", "product_id",
            "source_case_id", "remarks", "updated_at")}  # fmt: skip
    return view


async def case_customer(deps: SupportRuntime, case_id: UUID) -> str:
    found = await deps.pool.fetchval("SELECT customer_id FROM cases WHERE case_id = $1", case_id)
    if found is None:
        raise DomainError("no such case", code="not-found", field="case_id")
    return str(found)


async def suggestions(deps: SupportRuntime, case_id: UUID,
                      limit: int) -> tuple[str, list[dict[str, Any]]]:  # fmt: skip
    """(The case's customer, the articles offered on it). The case's text is read from
    its own (sealed) events and never stored: only matched here, in memory."""
    history = await deps.store.read_stream(cs.stream_id(case_id))
    if not history:
        raise DomainError("no such case", code="not-found")
    events = [record.domain_event() for record in history]
    state = cs.decider.fold(events)
    if state.status not in OFFERED_WHILE:
        return state.customer_id, []
    opened = next(e for e in events if isinstance(e, CaseOpened))
    text = f"{opened.subject or ''} {opened.description or ''}"
    async with deps.pool.acquire() as conn:
        found = await article_index.suggest_published(conn, text, state.category or None,
                                                      state.product_id, limit)  # fmt: skip
    return state.customer_id, found


async def top_recurring_failures(deps: SupportRuntime, kind: str | None,
                                 limit: int) -> list[dict[str, Any]]:  # fmt: skip
    rows = await deps.pool.fetch(
        "SELECT group_id, kind, indicator, category, product_id, team, agent_id, cases, "
        "value, threshold, window_days, proposed_problem_id, detected_at, last_case_at "
        "FROM recurring_failures WHERE ($1::text IS NULL OR kind = $1) "
        "ORDER BY (kind = 'product') DESC, cases DESC, detected_at DESC LIMIT $2",
        kind, limit,
    )  # fmt: skip
    return [
        {**dict(r), "proposed_problem_id": str(r["proposed_problem_id"])
         if r["proposed_problem_id"] else None}
        for r in rows
    ]  # fmt: skip
