"""The knowledge article decider: drafted, submitted, reviewed (a rejection says why),
published only once approved, versioned when a published text is revised; feedback on
published articles only."""

from __future__ import annotations

from uuid import UUID

from contracts.events.support_quality import (
    KnowledgeArticleDrafted,
    KnowledgeArticleFeedback,
    KnowledgeArticlePublished,
    KnowledgeArticleReviewed,
    KnowledgeArticleSubmitted,
)
from services.support.domain import article as ar
from tests.unit.gwt import Spec

given = Spec(ar.decider).given

ARTICLE = UUID("00000000-0000-0000-0000-0000000000a1")
CASE = UUID("00000000-0000-0000-0000-0000000000c1")


def drafted(version: int = 1, content: str = "Troque a borracha.",
            source: UUID | None = None) -> KnowledgeArticleDrafted:  # fmt: skip
    return KnowledgeArticleDrafted(article_id=ARTICLE, version=version, locale="pt-BR",
                                   headline="Porta não fecha", content=content,
                                   category="defect", product_id="SKU-1",
                                   source_case_id=source, drafted_by="agent-ana")  # fmt: skip


def submitted(version: int = 1) -> KnowledgeArticleSubmitted:
    return KnowledgeArticleSubmitted(article_id=ARTICLE, version=version, submitted_by="agent-ana")


def reviewed(approved: bool = True, version: int = 1, remarks: str = ""
             ) -> KnowledgeArticleReviewed:  # fmt: skip
    return KnowledgeArticleReviewed(article_id=ARTICLE, version=version, approved=approved,
                                    reviewer_id="sup-bia", remarks=remarks)  # fmt: skip


def published(version: int = 1, content: str = "Troque a borracha.") -> KnowledgeArticlePublished:
    return KnowledgeArticlePublished(article_id=ARTICLE, version=version, locale="pt-BR",
                                     headline="Porta não fecha", content=content,
                                     category="defect", product_id="SKU-1",
                                     published_by="sup-bia")  # fmt: skip


def draft(**changes: object) -> ar.DraftArticle:
    fields: dict[str, object] = {"article_id": ARTICLE, "locale": "pt-BR",
                                 "headline": "Porta não fecha", "content": "Troque a borracha.",
                                 "category": "defect", "product_id": "SKU-1",
                                 "drafted_by": "agent-ana", **changes}  # fmt: skip
    return ar.DraftArticle(**fields)  # type: ignore[arg-type]


def revise(content: str = "Troque a borracha e regule a dobradiça.") -> ar.ReviseArticle:
    return ar.ReviseArticle(ARTICLE, "Porta não fecha", content, drafted_by="agent-ana")


LIFE = (drafted(), submitted(), reviewed(), published())


def test_a_draft_is_version_one() -> None:
    given().when(draft()).then(drafted())


def test_a_draft_from_a_case_names_it() -> None:
    given().when(draft(source_case_id=CASE)).then(drafted(source=CASE))


def test_an_unknown_locale_is_refused_naming_it() -> None:
    given().when(draft(locale="fr")).then_raises(field="locale")


def test_a_blank_headline_is_refused_naming_it() -> None:
    given().when(draft(headline="  ")).then_raises(field="headline")


def test_drafting_an_existing_article_is_refused() -> None:
    given(drafted()).when(draft()).then_raises(code="already-exists")


def test_submit_review_publish() -> None:
    given(drafted()).when(ar.SubmitArticle(ARTICLE, "agent-ana")).then(submitted())
    given(drafted(), submitted()).when(ar.ReviewArticle(ARTICLE, True, "", "sup-bia")).then(
        reviewed())  # fmt: skip
    given(drafted(), submitted(), reviewed()).when(ar.PublishArticle(ARTICLE, "sup-bia")).then(
        published())  # fmt: skip


def test_only_a_submitted_article_is_reviewed() -> None:
    given(drafted()).when(ar.ReviewArticle(ARTICLE, True)).then_raises(field="status")


def test_a_rejection_without_remarks_is_refused() -> None:
    given(drafted(), submitted()).when(ar.ReviewArticle(ARTICLE, False, " ")).then_raises(
        field="remarks")  # fmt: skip


def test_a_rejected_or_unreviewed_article_is_not_published() -> None:
    given(drafted()).when(ar.PublishArticle(ARTICLE)).then_raises(field="status")
    rejected = (drafted(), submitted(), reviewed(False, remarks="Falta o prazo."))
    given(*rejected).when(ar.PublishArticle(ARTICLE)).then_raises(field="status")


def test_a_rejected_draft_is_reworded_and_submitted_again_as_the_same_version() -> None:
    rejected = (drafted(), submitted(), reviewed(False, remarks="Falta o prazo."))
    given(*rejected).when(revise("Com prazo.")).then(drafted(1, "Com prazo."))
    given(*rejected).when(ar.SubmitArticle(ARTICLE, "agent-ana")).then(submitted())


def test_revising_a_published_article_drafts_the_next_version() -> None:
    given(*LIFE).when(revise()).then(drafted(2, "Troque a borracha e regule a dobradiça."))


def test_the_next_version_is_published_as_version_two() -> None:
    text = "Troque a borracha e regule a dobradiça."
    history = (*LIFE, drafted(2, text), submitted(2), reviewed(version=2))
    given(*history).when(ar.PublishArticle(ARTICLE, "sup-bia")).then(published(2, text))


def test_an_article_in_review_is_not_revised() -> None:
    given(drafted(), submitted()).when(revise()).then_raises(field="article_id")


def test_feedback_counts_against_the_published_version_while_the_next_is_drafted() -> None:
    given(*LIFE, drafted(2, "Nova")).when(ar.RecordFeedback(ARTICLE, True, CASE, "cust-1")).then(
        KnowledgeArticleFeedback(article_id=ARTICLE, version=1, helped=True, case_id=CASE,
                                 customer_id="cust-1"))  # fmt: skip


def test_feedback_on_an_unpublished_article_is_refused() -> None:
    given(drafted()).when(ar.RecordFeedback(ARTICLE, False)).then_raises(field="article_id")


def test_commands_on_an_unknown_article_are_refused() -> None:
    given().when(ar.SubmitArticle(ARTICLE)).then_raises(field="article_id", code="not-found")
