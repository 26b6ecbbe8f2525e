"""Product recurring failures, detected in the transaction that opens the case.

Each new case's keyed MinHash signature (``domain.similarity``) is stored in its bucket
(category and product). The bucket is locked for the rest of the transaction (an
advisory lock), so two cases opened at once in the same bucket are judged one after
the other and neither misses the other. The new case joins a group already detected in
the bucket if it resembles that group's cases of the window on average; otherwise, if it
and the ungrouped cases of the window that cohere with it (``similarity.cohesive_group``,
average linkage) reach the threshold, they become a group: its
``RecurringFailureDetected`` is appended once (``domain.recurring_failure``) and a problem
is opened for it (``proposed_problem_id``). The cases are *not* linked to that problem
automatically: solving a problem solves its incidents, and a false grouping must not
close customers' cases; a supervisor links them (``POST /cases/{id}/problem``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid5

from services.platform.commands import UnitOfWork
from services.platform.db import Connection
from services.support.application.runtime import SupportRuntime
from services.support.domain import problem as pb
from services.support.domain import recurring_failure as rf
from services.support.domain.similarity import (
    METHOD,
    cohesive_group,
    resembles_group,
    signature,
)

_GROUPS = UUID("6f1d8a52-9a0e-4c31-8f5e-0d7c1c1e2b40")  # namespace of proposed problem ids
COMPARED_CASES = 300
"""A new case is compared with at most the latest this many cases of its bucket's window,
so opening a case costs the same in a quiet bucket and in one with thousands of cases a
week (where the latest few hundred hold any group that is still growing)."""
COMPARED_PER_GROUP = 20
"""A detected group is represented by at most its latest this many cases of the window."""


@dataclass(frozen=True)
class OpenedCase:
    case_id: UUID
    customer_id: str
    category: str
    product_id: str | None
    text: str
    opened_at: datetime


def bucket_of(category: str, product_id: str | None) -> str:
    return f"{category.casefold()}|{(product_id or '').casefold()}"


async def observe_case(uow: UnitOfWork, deps: SupportRuntime, case: OpenedCase) -> str | None:
    """Store the case's signature and detect its group; the group id when it is in one."""
    rules, conn = deps.recurring, uow.conn
    mine = signature(case.text, deps.similarity_key)
    bucket = bucket_of(case.category, case.product_id)
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", bucket)
    stored = await conn.fetchval(
        "INSERT INTO case_signatures (case_id, customer_id, bucket, signature, opened_at) "
        "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (case_id) DO NOTHING RETURNING true",
        case.case_id, case.customer_id, bucket, mine, case.opened_at,
    )  # fmt: skip
    if not stored or not mine:  # seen before (a repeat), or no text to compare
        known = await conn.fetchval("SELECT group_id FROM case_signatures WHERE case_id = $1",
                                    case.case_id)  # fmt: skip
        return str(known) if known else None
    since = case.opened_at - timedelta(days=rules.window_days)
    rows = await conn.fetch(
        "SELECT case_id, signature, group_id FROM case_signatures WHERE bucket = $1 "
        "AND opened_at >= $2 AND opened_at <= $3 AND case_id <> $4 "
        "ORDER BY opened_at DESC, case_id DESC LIMIT $5",
        bucket, since, case.opened_at, case.case_id, COMPARED_CASES,
    )  # fmt: skip
    rows.reverse()  # oldest first, as the groups were formed
    joined = await _join_detected_group(conn, case, mine, rows, rules)
    if joined:
        return joined
    ungrouped = [(r["case_id"], r["signature"]) for r in rows if r["group_id"] is None]
    alike = cohesive_group(mine, ungrouped, rules.min_similarity)
    if len(alike) + 1 < rules.group_size:
        return None
    members = (*alike, case.case_id)
    group_id = f"product:{bucket}:{members[0]}"
    await _detect(uow, deps, case, group_id, bucket, members)
    return group_id


async def _join_detected_group(conn: Connection, case: OpenedCase, mine: list[int],
                               window: list[Any],
                               rules: rf.RecurringRules) -> str | None:  # fmt: skip
    # Compared with the group's cases of the window (no stored "anchor" signature): the
    # only signatures kept are those of cases on file, so erasing a customer erases
    # every trace of their words.
    groups: dict[str, list[list[int]]] = {}
    for row in reversed(window):  # newest first: each group keeps its latest cases
        if row["group_id"] is not None:
            kept = groups.setdefault(row["group_id"], [])
            if len(kept) < COMPARED_PER_GROUP:
                kept.append(row["signature"])
    for group_id, signatures in groups.items():
        if resembles_group(mine, signatures, rules.min_similarity):
            await conn.execute("UPDATE case_signatures SET group_id = $2 WHERE case_id = $1",
                               case.case_id, group_id)  # fmt: skip
            await conn.execute(
                "UPDATE recurring_failures SET cases = cases + 1, last_case_at = $2 "
                "WHERE group_id = $1",
                group_id, case.opened_at,
            )  # fmt: skip
            return group_id
    return None


async def _detect(uow: UnitOfWork, deps: SupportRuntime, case: OpenedCase, group_id: str,
                  bucket: str, members: tuple[UUID, ...]) -> None:  # fmt: skip
    rules, now = deps.recurring, case.opened_at
    problem_id = uuid5(_GROUPS, group_id)
    about = f"{case.category}" + (f" / {case.product_id}" if case.product_id else "")
    await uow.execute(pb.decider, pb.stream_id(problem_id), pb.OpenProblem(
        problem_id, f"Recurring failure: {about}"[:300], now,
        f"{len(members)} similar cases in {rules.window_days} days (proposed by the "
        "recurring-failure detector)", case.category, case.product_id, None, group_id,
    ))  # fmt: skip
    await uow.execute(rf.decider, rf.stream_id(group_id), rf.DetectFailure(
        group_id, "product", "similar_cases", float(len(members)), float(rules.group_size),
        rules.window_days, METHOD, now, members, case.category, case.product_id,
        proposed_problem_id=problem_id,
    ))  # fmt: skip
    await uow.conn.execute(
        "INSERT INTO recurring_failures (group_id, kind, indicator, bucket, category, "
        "product_id, cases, value, threshold, window_days, proposed_problem_id, detected_at, "
        "last_case_at) "
        "VALUES ($1, 'product', 'similar_cases', $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        group_id, bucket, case.category, case.product_id, len(members), float(len(members)),
        float(rules.group_size), rules.window_days, problem_id, now,
    )  # fmt: skip
    await uow.conn.execute("UPDATE case_signatures SET group_id = $2 WHERE case_id = ANY($1)",
                           list(members), group_id)  # fmt: skip


async def forget(conn: Connection, customer_ids: list[str]) -> None:
    """An erased customer's case signatures go with them."""
    await conn.execute("DELETE FROM case_signatures WHERE customer_id = ANY($1::text[])",
                       customer_ids)  # fmt: skip
