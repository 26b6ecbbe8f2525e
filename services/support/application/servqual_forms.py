"""Record a SERVQUAL questionnaire: validated by the domain, appended on its own stream
and kept in ``servqual_responses`` in the same transaction."""

from __future__ import annotations

from typing import Any

from services.platform.commands import UnitOfWork
from services.platform.decider import DomainError
from services.support.application.runtime import SupportRuntime
from services.support.domain import servqual_form as sf
from services.support.domain.servqual import Dimension


async def _case_team(uow: UnitOfWork, command: sf.RecordServqual) -> str:
    """The team of the case the form is about (when the caller did not name one); the
    case must be the same customer's, so nobody scores a team on another's case."""
    if command.case_id is None:
        return command.team
    row = await uow.conn.fetchrow(
        "SELECT customer_id, team FROM cases WHERE case_id = $1", command.case_id
    )
    if row is None:
        raise DomainError("no such case", field="case_id", code="not-found")
    if row["customer_id"] != command.customer_id:
        raise DomainError("the case is another customer's", field="case_id")
    return command.team or str(row["team"])


async def record_servqual(uow: UnitOfWork, command: sf.RecordServqual, deps: SupportRuntime
                          ) -> dict[str, Any]:  # fmt: skip
    team = await _case_team(uow, command)
    command = sf.RecordServqual(**{**command.__dict__, "team": team})
    result = await uow.execute(sf.decider, sf.stream_id(command.response_id), command)
    weights = command.weights
    await uow.conn.execute(
        """
        INSERT INTO servqual_responses (response_id, case_id, team, expectations, perceptions,
                                        weights, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        """,
        command.response_id, command.case_id, team, list(command.expectations),
        list(command.perceptions),
        [weights[d.value] for d in Dimension] if weights is not None else None, command.at,
    )  # fmt: skip
    return {**result.as_json(), "response_id": str(command.response_id), "team": team}
