"""The command table: each command type the support service accepts, and its handler.

A handler is ``async def handle(uow, command, deps)``: it runs inside the command's one
transaction (loads, checks, decides, appends, keeps the case index and SLA clocks) and
returns the JSON answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from services.platform.commands import UnitOfWork
from services.support.application import (
    articles,
    cases,
    exchanges,
    inbound_mail,
    mail_filing,
    problems,
    refunds,
    servqual_forms,
    surveys,
)
from services.support.application.runtime import SupportRuntime
from services.support.domain import problem as pb
from services.support.domain import servqual_form as sf

Handle = Callable[[UnitOfWork, Any, SupportRuntime], Awaitable[dict[str, Any]]]

HANDLERS: dict[type, Handle] = {
    cases.NewCase: cases.open_case,
    cases.OnCase: cases.act_on_case,
    pb.OpenProblem: problems.open_problem,
    problems.SolveProblem: problems.solve_problem,
    surveys.RateSurvey: surveys.rate_survey,
    sf.RecordServqual: servqual_forms.record_servqual,
    exchanges.AskExchange: exchanges.request_exchange,
    refunds.ReportLateDelivery: refunds.refund_late_delivery,
    inbound_mail.IngestMail: inbound_mail.ingest,
    mail_filing.FileQuarantined: mail_filing.file_quarantined,
    articles.OnArticle: articles.act_on_article,
    articles.DraftFromCase: articles.draft_from_case,
}


def register(command_type: type, handle: Handle) -> None:
    """For the parts of the service that bring their own commands (knowledge, surveys,
    self-service): one table all the same."""
    HANDLERS[command_type] = handle
