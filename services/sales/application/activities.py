"""Activities and follow-ups: a follow-up's timer row is written with its event, so the
scheduler fires it exactly once (see ``scheduler``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.platform.commands import UnitOfWork
from services.sales.application import commands as cmd
from services.sales.domain import activity as act

if TYPE_CHECKING:
    from services.sales.application.runtime import SalesRuntime


async def log_activity(
    uow: UnitOfWork, command: cmd.LogActivity, deps: SalesRuntime
) -> dict[str, Any]:
    activity_id = command.command.activity_id
    result = await uow.execute(
        act.activity_decider,
        act.activity_stream_id(activity_id),
        command.command,
        command.expected_version,
    )
    return {"id": str(activity_id), **result.as_json()}


async def schedule_follow_up(
    uow: UnitOfWork, command: cmd.ScheduleFollowUp, deps: SalesRuntime
) -> dict[str, Any]:
    scheduled = command.command
    stream = act.follow_up_stream_id(scheduled.follow_up_id)
    result = await uow.execute(act.follow_up_decider, stream, scheduled)
    await deps.records.add_timer(uow.conn, scheduled.follow_up_id, scheduled.due_at)
    return {"id": str(scheduled.follow_up_id), **result.as_json()}
