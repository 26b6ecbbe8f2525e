"""Handlers of case commands: load the case, decide, append, keep its index row and its
SLA clocks, all in the command's one transaction (``application.handlers``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from contracts.events.support import CaseSolved
from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.platform.eventstore import WrongExpectedVersion
from services.support.application import directory
from services.support.application.case_index import index_case
from services.support.application.recurring_failures import OpenedCase, observe_case
from services.support.application.runtime import SupportRuntime
from services.support.application.sla_clocks import refresh_clocks
from services.support.application.sla_config_store import current_sla, share_config
from services.support.application.surveys import request_survey
from services.support.domain import case as cs
from services.support.domain import problem as pb


@dataclass(frozen=True)
class NewCase:
    """What a caller says of a new case; the service adds the team, tier and SLA."""

    case_id: UUID
    customer_id: str
    kind: Any
    channel: Any
    subject: str
    description: str
    category: str
    priority: Any = "normal"
    product_id: str | None = None
    order_id: UUID | None = None
    contact_id: UUID | None = None
    team: str | None = None
    opened_by: str | None = None
    email_message_id: str | None = None


async def _apply(uow: UnitOfWork, deps: SupportRuntime, case_id: UUID, command: Any,
                 expected_version: int | None = None) -> dict[str, Any]:  # fmt: skip
    stream = cs.stream_id(case_id)
    state, version = await uow.load(cs.decider, stream, personal=False)
    if expected_version is not None and expected_version != version:
        raise WrongExpectedVersion(stream, expected_version, version)
    events = cs.decider.decide(command, state)
    result = await uow.append(stream, version, events)
    answer: dict[str, Any] = {**result.as_json(), "case_id": str(case_id)}
    if events:
        after = state
        for event in events:
            after = cs.decider.evolve(after, event)
        now = deps.clock()
        await index_case(uow.conn, case_id, after, now)
        await refresh_clocks(uow.conn, deps, case_id, after, now)
        if any(isinstance(event, CaseSolved) for event in events):
            answer["survey_id"] = str(await request_survey(uow, deps, case_id, after))
    return answer


async def open_case(uow: UnitOfWork, new: NewCase, deps: SupportRuntime) -> dict[str, Any]:
    known = await directory.customer(uow.conn, new.customer_id)
    if new.order_id is not None:
        await directory.order(uow.conn, new.order_id, known.customer_id)
    rule = deps.teams.choose(new.category, new.product_id, known.tier)
    await share_config(uow.conn)
    sla = await current_sla(uow.conn, deps)
    policy, calendar = sla.choose(new.priority, new.category, known.tier)
    command = cs.OpenCase(
        case_id=new.case_id, customer_id=known.customer_id, kind=new.kind,
        channel=new.channel, subject=new.subject, description=new.description,
        category=new.category, priority=new.priority, tier=known.tier,  # type: ignore[arg-type]
        team=new.team or rule.team, opened_at=deps.clock(),
        sla_policy=(policy.policy_id, policy.version),
        calendar=(calendar.calendar_id, calendar.version), product_id=new.product_id,
        order_id=new.order_id, contact_id=new.contact_id, required_skills=rule.skills,
        opened_by=new.opened_by, email_message_id=new.email_message_id,
    )  # fmt: skip
    answer = await _apply(uow, deps, new.case_id, command)
    group_id = await observe_case(uow, deps, OpenedCase(
        new.case_id, known.customer_id, new.category, new.product_id,
        f"{new.subject}\n{new.description}", command.opened_at,
    ))  # fmt: skip
    if group_id:
        answer["recurring_group_id"] = group_id
    if new.email_message_id:
        await remember_mail(uow, new.case_id, new.email_message_id, deps)
    return answer


async def remember_mail(uow: UnitOfWork, case_id: UUID, message_id: str,
                        deps: SupportRuntime) -> None:  # fmt: skip
    await uow.conn.execute(
        "INSERT INTO mail_threads (message_id, case_id, recorded_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (message_id) DO NOTHING",
        message_id, case_id, deps.clock(),
    )  # fmt: skip


@dataclass(frozen=True)
class OnCase:
    """A command on an existing case, with the version the caller read (``If-Match``)."""

    command: Any
    expected_version: int | None = None


async def act_on_case(uow: UnitOfWork, on: OnCase, deps: SupportRuntime) -> dict[str, Any]:
    command = on.command
    if isinstance(command, cs.ReopenCase):
        command = replace(command, reopen_period=deps.reopen_period)
    if isinstance(command, cs.AddMessage) and command.email_message_id:
        await remember_mail(uow, command.case_id, command.email_message_id, deps)
    if isinstance(command, cs.MergeInto):
        into, _ = await uow.load(cs.decider, cs.stream_id(command.into_case_id))
        if not into.exists or into.is_closed:
            raise DomainError("merge into a case that exists and is not closed",
                              field="into_case_id", code="not-found" if not into.exists
                              else "case-closed")  # fmt: skip
        source, _ = await uow.load(cs.decider, cs.stream_id(command.case_id))
        if source.exists and source.customer_id != into.customer_id:
            raise DomainError("only cases of the same customer can be merged",
                              field="into_case_id")  # fmt: skip
    if isinstance(command, cs.LinkToProblem):
        problem, _ = await uow.load(pb.decider, pb.stream_id(command.problem_id))
        pb.require_open(problem)
        await uow.conn.execute(
            "INSERT INTO problem_incidents (problem_id, case_id, linked_at) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            command.problem_id, command.case_id, command.at,
        )  # fmt: skip
    return await _apply(uow, deps, command.case_id, command, on.expected_version)
