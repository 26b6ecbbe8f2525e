"""The knowledge article aggregate: drafted (from scratch or from a solved case's
resolution), submitted, reviewed, published, and versioned.

Editing a published article drafts its next version; the published version stays what
readers see until the new one is approved and published in its turn. Feedback (did it
help?) is recorded on published articles only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal, get_args
from uuid import UUID

from contracts.events.support_quality import (
    KnowledgeArticleDrafted,
    KnowledgeArticleFeedback,
    KnowledgeArticlePublished,
    KnowledgeArticleReviewed,
    KnowledgeArticleSubmitted,
    Locale,
)
from contracts.registry import DomainEvent
from services.platform.decider import Decider, DomainError

LOCALES: tuple[str, ...] = get_args(Locale)
ArticleStatus = Literal["none", "draft", "in_review", "approved", "rejected", "published"]


@dataclass(frozen=True)
class DraftArticle:
    article_id: UUID
    locale: str
    headline: str
    content: str
    category: str | None = None
    product_id: str | None = None
    source_case_id: UUID | None = None
    drafted_by: str | None = None


@dataclass(frozen=True)
class ReviseArticle:
    """New wording; on a published article this drafts the next version."""

    article_id: UUID
    headline: str
    content: str
    locale: str | None = None
    category: str | None = None
    product_id: str | None = None
    drafted_by: str | None = None


@dataclass(frozen=True)
class SubmitArticle:
    article_id: UUID
    submitted_by: str | None = None


@dataclass(frozen=True)
class ReviewArticle:
    article_id: UUID
    approved: bool
    remarks: str = ""
    reviewer_id: str | None = None


@dataclass(frozen=True)
class PublishArticle:
    article_id: UUID
    published_by: str | None = None


@dataclass(frozen=True)
class RecordFeedback:
    article_id: UUID
    helped: bool
    case_id: UUID | None = None
    customer_id: str | None = None


Command = (
    DraftArticle | ReviseArticle | SubmitArticle | ReviewArticle | PublishArticle | RecordFeedback
)


@dataclass(frozen=True)
class Draft:
    locale: str
    headline: str
    content: str
    category: str | None
    product_id: str | None


@dataclass(frozen=True)
class Article:
    exists: bool = False
    version: int = 0
    """The version being worked on (the latest drafted)."""
    status: ArticleStatus = "none"
    draft: Draft | None = None
    published_version: int = 0
    source_case_id: UUID | None = None


def _text(value: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise DomainError(f"{field} must not be blank", field=field)
    if len(text) > limit:
        raise DomainError(f"{field} is longer than {limit} characters", field=field)
    return text


def _locale(value: str) -> str:
    if value not in LOCALES:
        raise DomainError(f"locale must be one of {', '.join(LOCALES)}", field="locale")
    return value


def _existing(state: Article) -> Article:
    if not state.exists:
        raise DomainError("no such article", code="not-found", field="article_id")
    return state


def _draft_of(command: DraftArticle | ReviseArticle, base: Draft | None) -> Draft:
    locale = command.locale if command.locale is not None else base.locale if base else ""
    return Draft(
        locale=_locale(locale), headline=_text(command.headline, "headline", 300),
        content=_text(command.content, "content", 50000),
        category=command.category if command.category is not None else
        (base.category if base else None),
        product_id=command.product_id if command.product_id is not None else
        (base.product_id if base else None),
    )  # fmt: skip


def decide(command: Command, state: Article) -> Sequence[DomainEvent]:
    match command:
        case DraftArticle():
            if state.exists:
                raise DomainError("article already exists", code="already-exists")
            draft = _draft_of(command, None)
            return [_event_drafted(command.article_id, 1, draft, command.drafted_by,
                                   command.source_case_id)]  # fmt: skip
        case ReviseArticle():
            _existing(state)
            if state.status == "in_review":
                raise DomainError("the article is in review: review it first",
                                  code="article-in-review", field="article_id")  # fmt: skip
            draft = _draft_of(command, state.draft)
            # Revising a published (or approved-then-published) text drafts the next
            # version; revising an unpublished draft rewrites that same version.
            version = state.version + 1 if state.status == "published" else state.version
            return [_event_drafted(command.article_id, version, draft, command.drafted_by,
                                   state.source_case_id)]  # fmt: skip
        case SubmitArticle():
            _existing(state)
            if state.status not in ("draft", "rejected"):
                raise DomainError(f"only a draft can be submitted (the article is "
                                  f"{state.status})", field="status")  # fmt: skip
            return [KnowledgeArticleSubmitted(article_id=command.article_id,
                                              version=state.version,
                                              submitted_by=command.submitted_by)]  # fmt: skip
        case ReviewArticle():
            _existing(state)
            if state.status != "in_review":
                raise DomainError(f"only a submitted article can be reviewed (the article "
                                  f"is {state.status})", field="status")  # fmt: skip
            remarks = command.remarks.strip()
            if not command.approved and not remarks:
                raise DomainError("a rejection says why: remarks must not be blank",
                                  field="remarks")  # fmt: skip
            return [KnowledgeArticleReviewed(
                article_id=command.article_id, version=state.version,
                approved=command.approved, reviewer_id=command.reviewer_id, remarks=remarks,
            )]  # fmt: skip
        case PublishArticle():
            _existing(state)
            if state.status != "approved" or state.draft is None:
                raise DomainError(f"only an approved article can be published (the article "
                                  f"is {state.status})", field="status")  # fmt: skip
            d = state.draft
            return [KnowledgeArticlePublished(
                article_id=command.article_id, version=state.version,
                locale=d.locale,  # type: ignore[arg-type]
                headline=d.headline, content=d.content, category=d.category,
                product_id=d.product_id, published_by=command.published_by,
            )]  # fmt: skip
        case RecordFeedback():
            _existing(state)
            if state.published_version == 0:
                raise DomainError("feedback is for published articles", code="not-found",
                                  field="article_id")  # fmt: skip
            return [KnowledgeArticleFeedback(
                article_id=command.article_id, version=state.published_version,
                helped=command.helped, case_id=command.case_id,
                customer_id=command.customer_id,
            )]  # fmt: skip
    raise TypeError(f"unknown command {command!r}")


def _event_drafted(article_id: UUID, version: int, draft: Draft, by: str | None,
                   source_case_id: UUID | None) -> KnowledgeArticleDrafted:  # fmt: skip
    return KnowledgeArticleDrafted(
        article_id=article_id, version=version, locale=draft.locale,  # type: ignore[arg-type]
        headline=draft.headline, content=draft.content, category=draft.category,
        product_id=draft.product_id, source_case_id=source_case_id, drafted_by=by,
    )  # fmt: skip


def evolve(state: Article, event: DomainEvent) -> Article:
    match event:
        case KnowledgeArticleDrafted():
            draft = Draft(event.locale, event.headline, event.content, event.category,
                          event.product_id)  # fmt: skip
            return replace(state, exists=True, version=event.version, status="draft",
                           draft=draft, source_case_id=event.source_case_id
                           or state.source_case_id)  # fmt: skip
        case KnowledgeArticleSubmitted():
            return replace(state, status="in_review")
        case KnowledgeArticleReviewed():
            return replace(state, status="approved" if event.approved else "rejected")
        case KnowledgeArticlePublished():
            return replace(state, status="published", published_version=event.version)
    return state


decider = Decider(decide=decide, evolve=evolve, initial_state=Article())


def stream_id(article_id: UUID) -> str:
    return f"article-{article_id}"
