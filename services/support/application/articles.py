"""Handlers of knowledge articles: draft (also from a solved case), revise, submit,
review, publish, feedback; each keeps the article's search row in its transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from contracts.events.support import CaseSolved
from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.platform.eventstore import WrongExpectedVersion
from services.support.application.article_index import index_article
from services.support.application.runtime import SupportRuntime
from services.support.domain import article as ar
from services.support.domain import case as cs


@dataclass(frozen=True)
class OnArticle:
    """A command on an article, with the version the caller read (``If-Match``)."""

    command: Any
    expected_version: int | None = None


@dataclass(frozen=True)
class DraftFromCase:
    """Draft an article whose content is a solved case's resolution."""

    article_id: UUID
    case_id: UUID
    locale: str
    headline: str
    drafted_by: str | None = None


async def act_on_article(uow: UnitOfWork, on: OnArticle, deps: SupportRuntime
                         ) -> dict[str, Any]:  # fmt: skip
    command = on.command
    if isinstance(command, ar.RecordFeedback) and command.case_id is not None:
        case, _ = await uow.load(cs.decider, cs.stream_id(command.case_id), personal=False)
        if not case.exists:
            raise DomainError("no such case", code="not-found", field="case_id")
    stream = ar.stream_id(command.article_id)
    state, version = await uow.load(ar.decider, stream)
    if on.expected_version is not None and on.expected_version != version:
        raise WrongExpectedVersion(stream, on.expected_version, version)
    events = ar.decider.decide(command, state)
    result = await uow.append(stream, version, events)
    after = state
    for event in events:
        after = ar.decider.evolve(after, event)
    if events:
        await index_article(uow.conn, command.article_id, after, events, result.event_ids,
                            deps.clock())  # fmt: skip
    return {**result.as_json(), "article_id": str(command.article_id), "status": after.status}


async def draft_from_case(uow: UnitOfWork, command: DraftFromCase, deps: SupportRuntime
                          ) -> dict[str, Any]:  # fmt: skip
    history = await uow.store.read_stream(cs.stream_id(command.case_id), connection=uow.conn)
    events = [r.domain_event() for r in history]
    case = cs.decider.fold(events)
    if not case.exists:
        raise DomainError("no such case", code="not-found", field="source_case_id")
    if case.status not in ("solved", "closed"):
        raise DomainError(f"an article is drafted from a solved case (the case is "
                          f"{case.status})", code="case-not-solved",
                          field="source_case_id")  # fmt: skip
    solved = [e for e in events if isinstance(e, CaseSolved)]
    resolution = solved[-1].resolution if solved else None
    if not resolution:
        raise DomainError("the case has no readable resolution (erased?)",
                          code="case-not-solved", field="source_case_id")  # fmt: skip
    draft = ar.DraftArticle(
        command.article_id, command.locale, command.headline, resolution, case.category,
        case.product_id, command.case_id, command.drafted_by,
    )  # fmt: skip
    return await act_on_article(uow, OnArticle(draft), deps)
