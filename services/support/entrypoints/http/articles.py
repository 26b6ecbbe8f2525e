"""Routes of the knowledge base: draft (also from a solved case), revise into a new
version, submit, review, publish, search, read; articles offered on a case (deflection)
and whether they helped. A customer reads published articles only."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Query, Request, Response
from pydantic import Field, model_validator

from contracts.events.support_quality import Locale
from services.support.application import knowledge_queries
from services.support.application.articles import DraftFromCase, OnArticle
from services.support.domain import article as ar
from services.support.entrypoints.http.common import (
    CUSTOMER_ROLE,
    NO_NUL,
    PROBLEMS,
    TEXT,
    Body,
    CorrelationId,
    IdempotencyKey,
    actor,
    if_match,
    json_response,
    require_own,
    require_staff,
    runtime,
    send,
)

router = APIRouter(tags=["knowledge"], responses=PROBLEMS)
Headline = Annotated[str, Field(min_length=1, max_length=300, pattern=TEXT)]
Content = Annotated[str, Field(min_length=1, max_length=50000, pattern=TEXT)]
Label = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_NUL)]


class DraftBody(Body):
    locale: Locale
    headline: Headline
    content: Content | None = Field(None, description="None: the source case's resolution")
    category: Label | None = None
    product_id: Label | None = None
    source_case_id: UUID | None = Field(None, description="A solved case to draft from")

    @model_validator(mode="after")
    def _content_or_case(self) -> DraftBody:
        if self.content is None and self.source_case_id is None:
            raise ValueError("content is required unless drafting from a source_case_id")
        return self


class ReviseBody(Body):
    headline: Headline
    content: Content
    locale: Locale | None = None
    category: Label | None = None
    product_id: Label | None = None


class ReviewBody(Body):
    approved: bool
    remarks: str = Field("", max_length=5000, pattern=NO_NUL)


class FeedbackBody(Body):
    helped: bool
    case_id: UUID | None = None


async def _on(request: Request, command: object, key: str | None, correlation: str | None,
              status: int = 200) -> Response:  # fmt: skip
    return await send(request, OnArticle(command, if_match(request)), key, correlation, status)


@router.post("/articles", status_code=201)
async def draft_article(body: DraftBody, request: Request,
                        idempotency_key: IdempotencyKey = None,
                        correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Draft an article (version 1). With ``source_case_id`` and no content, the solved
    case's resolution is the draft's content (a case not solved: 422)."""
    article_id, by = uuid4(), actor(request).actor_id
    location = f"/v1/support/articles/{article_id}"
    if body.content is None and body.source_case_id is not None:
        command: Any = DraftFromCase(article_id, body.source_case_id, body.locale,
                                     body.headline, by)  # fmt: skip
        return await send(request, command, idempotency_key, correlation_id, 201, location)
    assert body.content is not None
    draft = ar.DraftArticle(article_id, body.locale, body.headline, body.content,
                            body.category, body.product_id, body.source_case_id, by)  # fmt: skip
    return await send(request, OnArticle(draft), idempotency_key, correlation_id, 201, location)


@router.put("/articles/{article_id}")
async def revise_article(article_id: UUID, body: ReviseBody, request: Request,
                         idempotency_key: IdempotencyKey = None,
                         correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """New wording. On a published article this drafts the next version; the published
    one is what readers see until the new one is reviewed and published."""
    command = ar.ReviseArticle(article_id, body.headline, body.content, body.locale,
                               body.category, body.product_id, actor(request).actor_id)  # fmt: skip
    return await _on(request, command, idempotency_key, correlation_id)


@router.post("/articles/{article_id}/submit")
async def submit_article(article_id: UUID, request: Request,
                         idempotency_key: IdempotencyKey = None,
                         correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Send the draft (or a rejected one, reworded) for review."""
    command = ar.SubmitArticle(article_id, actor(request).actor_id)
    return await _on(request, command, idempotency_key, correlation_id)


@router.post("/articles/{article_id}/review")
async def review_article(article_id: UUID, body: ReviewBody, request: Request,
                         idempotency_key: IdempotencyKey = None,
                         correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Approve the submitted version, or reject it with remarks (required)."""
    command = ar.ReviewArticle(article_id, body.approved, body.remarks, actor(request).actor_id)
    return await _on(request, command, idempotency_key, correlation_id)


@router.post("/articles/{article_id}/publish")
async def publish_article(article_id: UUID, request: Request,
                          idempotency_key: IdempotencyKey = None,
                          correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Publish the approved version: it replaces the published one in search."""
    command = ar.PublishArticle(article_id, actor(request).actor_id)
    return await _on(request, command, idempotency_key, correlation_id)


@router.get("/articles")
async def search_articles(
    request: Request,
    q: Annotated[str | None, Query(min_length=1, max_length=500, pattern=NO_NUL)] = None,
    locale: Locale | None = None,
    category: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    product_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> Response:
    """Published articles: full text in pt-BR, es and en (accents ignored), best first."""
    found = await knowledge_queries.search(runtime(request), q, locale, category, product_id,
                                           limit)  # fmt: skip
    return json_response({"articles": found})


@router.get("/articles/{article_id}")
async def get_article(article_id: UUID, request: Request) -> Response:
    """Staff: the working version and the published one. A customer: the published one."""
    published_only = actor(request).role == CUSTOMER_ROLE
    view = await knowledge_queries.article_view(runtime(request), article_id, published_only)
    return json_response(view, headers={"ETag": f'"{view["stream_version"]}"'})


@router.post("/articles/{article_id}/feedback", status_code=201)
async def article_feedback(article_id: UUID, body: FeedbackBody, request: Request,
                           idempotency_key: IdempotencyKey = None,
                           correlation_id: CorrelationId = None) -> Response:  # fmt: skip
    """Did the published article help (on a case it was offered on, or read alone)?"""
    who = actor(request)
    customer_id = None
    if who.role == CUSTOMER_ROLE:
        customer_id = who.actor_id
        if body.case_id is not None:
            require_own(request, await knowledge_queries.case_customer(runtime(request),
                                                                       body.case_id))  # fmt: skip
    command = ar.RecordFeedback(article_id, body.helped, body.case_id, customer_id)
    return await _on(request, command, idempotency_key, correlation_id, 201)


@router.get("/cases/{case_id}/suggested-articles")
async def suggested_articles(case_id: UUID, request: Request,
                             limit: Annotated[int, Query(ge=1, le=20)] = 5
                             ) -> Response:  # fmt: skip
    """Published articles matching the case's subject and description, those of its
    category and product first (deflection): offered while the case is new or open."""
    deps = runtime(request)
    customer_id, found = await knowledge_queries.suggestions(deps, case_id, limit)
    require_own(request, customer_id)
    return json_response({"case_id": str(case_id), "articles": found})


@router.get("/recurring-failures")
async def recurring_failures(
    request: Request,
    kind: Annotated[str | None, Query(pattern="^(product|human)$")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
) -> Response:
    """Top recurring failures: product groups by cases, then human ones, newest first."""
    require_staff(request, "recurring failures")
    found = await knowledge_queries.top_recurring_failures(runtime(request), kind, limit)
    return json_response({"recurring_failures": found})
