"""The ``articles`` search row of each article, kept in the transaction of every command
on it, and the full-text search over the published ones.

Search is PostgreSQL full text over the unaccented text with each article's own language
configuration (``portuguese``, ``spanish``, ``english``); a query is parsed in the three
languages at once and OR-ed, so a reader need not say which language they typed in.
A text's words are matched in all three configurations; an empty parse (only stop words)
matches nothing.
The headline weighs more than the body (A, B), the category and product least (C).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from contracts.events.support_quality import (
    KnowledgeArticleFeedback,
    KnowledgeArticlePublished,
    KnowledgeArticleReviewed,
)
from contracts.registry import DomainEvent
from services.platform.db import Connection
from services.support.domain.article import Article

TEXT_SEARCH_CONFIG = {"pt-BR": "portuguese", "es": "spanish", "en": "english"}


async def index_article(conn: Connection, article_id: UUID, state: Article,
                        events: Sequence[DomainEvent], event_ids: Sequence[str],
                        at: datetime) -> None:  # fmt: skip
    draft = state.draft
    assert draft is not None
    await conn.execute(
        """
        INSERT INTO articles (article_id, version, status, locale, headline, content, category,
                              product_id, source_case_id, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        ON CONFLICT (article_id) DO UPDATE SET
            version = excluded.version, status = excluded.status, locale = excluded.locale,
            headline = excluded.headline, content = excluded.content,
            category = excluded.category, product_id = excluded.product_id,
            updated_at = excluded.updated_at
        """,
        article_id, state.version, state.status, draft.locale, draft.headline, draft.content,
        draft.category, draft.product_id, state.source_case_id, at,
    )  # fmt: skip
    for event, event_id in zip(events, event_ids, strict=True):
        match event:
            case KnowledgeArticleReviewed():
                await conn.execute("UPDATE articles SET remarks = $2 WHERE article_id = $1",
                                   article_id, event.remarks)  # fmt: skip
            case KnowledgeArticlePublished():
                await _publish(conn, article_id, event, at)
            case KnowledgeArticleFeedback():
                await _count_feedback(conn, article_id, event, event_id, at)


async def _publish(conn: Connection, article_id: UUID, event: KnowledgeArticlePublished,
                   at: datetime) -> None:  # fmt: skip
    config = TEXT_SEARCH_CONFIG[event.locale]
    await conn.execute(
        """
        UPDATE articles SET published_version = $2, published_locale = $3,
            published_headline = $4, published_content = $5, published_category = $6,
            published_product = $7, published_at = $8,
            search = setweight(to_tsvector($9::regconfig, unaccent($4)), 'A')
                  || setweight(to_tsvector($9::regconfig, unaccent($5)), 'B')
                  || setweight(to_tsvector('simple', unaccent(coalesce($6, '') || ' '
                                                              || coalesce($7, ''))), 'C')
        WHERE article_id = $1
        """,
        article_id, event.version, event.locale, event.headline, event.content,
        event.category, event.product_id, at, config,
    )  # fmt: skip


async def _count_feedback(conn: Connection, article_id: UUID, event: KnowledgeArticleFeedback,
                          event_id: str, at: datetime) -> None:  # fmt: skip
    inserted = await conn.fetchval(
        "INSERT INTO article_feedback (event_id, article_id, case_id, helped, recorded_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        event_id, article_id, event.case_id, event.helped, at,
    )  # fmt: skip
    if inserted:
        column = "helped" if event.helped else "not_helped"
        await conn.execute(f"UPDATE articles SET {column} = {column} + 1 WHERE article_id = $1",
                           article_id)  # fmt: skip


PUBLISHED_COLUMNS = """article_id, published_version AS version, published_locale AS locale,
    published_headline AS headline, published_content AS content,
    published_category AS category, published_product AS product_id, published_at,
    helped, not_helped"""


async def search_published(conn: Connection, q: str | None, locale: str | None,
                           category: str | None = None, product_id: str | None = None,
                           limit: int = 20) -> list[dict[str, Any]]:  # fmt: skip
    """Published articles matching every word of ``q``, best first (all of them, newest
    first, with no ``q``); an article of the category or product given ranks higher."""
    if not q:
        rows = await conn.fetch(
            f"SELECT {PUBLISHED_COLUMNS}, 0 AS rank FROM articles WHERE published_version > 0 "
            "AND ($1::text IS NULL OR published_locale = $1) "
            "AND ($2::text IS NULL OR published_category = $2) "
            "AND ($3::text IS NULL OR published_product = $3) "
            "ORDER BY published_at DESC LIMIT $4",
            locale, category, product_id, limit,
        )  # fmt: skip
        return [_row(r) for r in rows]
    return await _ranked(conn, _ALL_WORDS, q, locale, category, product_id, limit)


async def suggest_published(conn: Connection, text: str, category: str | None,
                            product_id: str | None,
                            limit: int = 5) -> list[dict[str, Any]]:  # fmt: skip
    """Deflection: published articles sharing any word of a case's text (a case is
    written in a customer's words, which seldom contain every word of an article), best
    first, those of the case's category or product ranked up."""
    return await _ranked(conn, _ANY_WORD, text, None, category, product_id, limit)


# websearch_to_tsquery: the reader's syntax ("quoted phrase", -not, or). For a case's
# text, plainto_tsquery's AND of the words is turned into an OR.
_ALL_WORDS = "websearch_to_tsquery('{cfg}', unaccent($1))"
_ANY_WORD = "replace(plainto_tsquery('{cfg}', unaccent($1))::text, '&', '|')::tsquery"


async def _ranked(conn: Connection, parse: str, text: str, locale: str | None,
                  category: str | None, product_id: str | None,
                  limit: int) -> list[dict[str, Any]]:  # fmt: skip
    # Parsed in the three languages at once and OR-ed: the reader need not say which.
    query = " || ".join(parse.format(cfg=cfg) for cfg in TEXT_SEARCH_CONFIG.values())
    rows = await conn.fetch(
        f"""
        WITH q AS (SELECT ({query}) AS tsq)
        SELECT {PUBLISHED_COLUMNS},
               ts_rank_cd(search, q.tsq) * (1
                   + CASE WHEN published_category = $3 THEN 1 ELSE 0 END
                   + CASE WHEN published_product = $4 THEN 1 ELSE 0 END) AS rank
        FROM articles, q
        WHERE published_version > 0 AND search @@ q.tsq
          AND ($2::text IS NULL OR published_locale = $2)
        ORDER BY rank DESC, published_at DESC LIMIT $5
        """,
        text, locale, category, product_id, limit,
    )  # fmt: skip
    return [_row(r) for r in rows]


async def article_row(conn: Connection, article_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow("SELECT * FROM articles WHERE article_id = $1", article_id)
    if row is None:
        return None
    found = dict(row)
    found.pop("search", None)
    for key in ("article_id", "source_case_id"):
        found[key] = str(found[key]) if found[key] else None
    return found


def _row(r: Any) -> dict[str, Any]:
    found = dict(r)
    found["article_id"] = str(found["article_id"])
    found["rank"] = round(float(found.get("rank") or 0), 6)
    return found
