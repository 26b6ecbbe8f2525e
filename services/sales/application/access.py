"""Who may touch which deal: the caller the gateway vouches for, and the team rule.

The gateway authenticates people and forwards who they are (``X-Actor-Id``,
``X-Actor-Role``, ``X-Actor-Team``; it drops any such header a client sends). The sales
service is reachable only from the gateway and from other services of the CRM, so a
request without an actor is a trusted system call and is not scoped.

The rule is checked against the deal as loaded in the command's own transaction, so a
reassignment racing with a change cannot slip through between a check and the write:
a change to the deal itself conflicts with the reassignment on the deal's stream, and
a change to one of the deal's quotes (another stream) holds the deal's owner lock
(``lock_deal_owner``), which a reassignment takes exclusively.
A seller works on their own deals and their team's; a sales manager on their team's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from uuid import UUID

from services.platform.commands import UnitOfWork
from services.platform.db import Connection
from services.platform.decider import DomainError
from services.sales.application.assignment import AssignmentRules
from services.sales.application.ports import SalesRecords
from services.sales.domain import opportunity as opp
from services.sales.domain.opportunity import Opportunity

SELLER = "seller"
SALES_MANAGER = "sales_manager"


@dataclass(frozen=True)
class Actor:
    id: str
    role: str
    team: str | None = None

    @property
    def scoped(self) -> bool:
        return self.role in (SELLER, SALES_MANAGER)


def _refuse(message: str) -> DomainError:
    return DomainError(message, code="forbidden-team")


def may_touch_deal(actor: Actor, owner_id: str | None, rules: AssignmentRules) -> bool:
    if not actor.scoped:
        return True
    owner_team = rules.team_of(owner_id)
    if actor.role == SELLER and owner_id == actor.id:
        return True
    return actor.team is not None and owner_team == actor.team


def deal_check(actor: Actor | None, rules: AssignmentRules) -> Callable[[Opportunity], None] | None:
    """A check for ``UnitOfWork.execute``: refuse a deal of another team."""
    if actor is None or not actor.scoped:
        return None

    def check(deal: Opportunity) -> None:
        if deal.exists and not may_touch_deal(actor, deal.owner_id, rules):
            raise _refuse("this opportunity belongs to another team")

    return check


def owner_of_new_deal(
    actor: Actor | None, requested: str | None, rules: AssignmentRules
) -> str | None:
    """The owner a new deal gets: a seller's is their own; a manager's stays in the team."""
    if actor is None or not actor.scoped:
        return requested
    if actor.role == SELLER:
        if requested not in (None, actor.id):
            raise _refuse("a seller opens deals for themselves")
        return actor.id
    check_new_owner(actor, requested, rules)
    return requested


def check_new_owner(actor: Actor | None, owner_id: str | None, rules: AssignmentRules) -> None:
    if actor is None or not actor.scoped or owner_id is None:
        return
    if actor.team is None or rules.team_of(owner_id) != actor.team:
        raise _refuse("the new owner is not in your team")


def deal_owner_lock(opportunity_id: UUID) -> str:
    """The lock that holds the deal's owner still until the transaction ends.

    A reassignment takes it exclusively; a command on one of the deal's quotes takes it
    shared before loading the deal, so it checks the owner it will act under: it waits
    for a reassignment in flight, then sees it. Quote commands do not block each other.
    """
    return f"deal-owner:{opportunity_id}"


async def lock_deal_owner(conn: Connection, opportunity_id: UUID, *, shared: bool) -> None:
    """``deal_owner_lock`` on PostgreSQL (what ``PostgresSalesRecords.lock`` takes)."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await conn.execute(
        f"SELECT {function}(hashtextextended($1, 0))", deal_owner_lock(opportunity_id)
    )


async def check_deal_in(
    uow: UnitOfWork,
    records: SalesRecords,
    actor: Actor | None,
    rules: AssignmentRules,
    opportunity_id: UUID,
) -> Opportunity:
    """The deal as it stands in this transaction, its owner held still, checked against
    the caller's team: for a command on another stream (a quote, an order) of the deal."""
    check = deal_check(actor, rules)
    if check is not None:
        await records.lock(uow.conn, [deal_owner_lock(opportunity_id)], shared=True)
    deal, _ = await uow.load(opp.decider, opp.stream_id(opportunity_id))
    if check is not None:
        check(deal)  # nothing on another team's deal
    return deal
