"""Satisfaction KPIs over the read models: CSAT grouped (``domain.csat``) and SERVQUAL
gaps (``domain.servqual``). The calculations are the domain's; this module only reads
the rows of a period and hands them over.

A period is a range of days in the business time zone (``config/satisfaction.json``),
both ends included, so "November" means November where the customers live.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from services.support.application.runtime import SupportRuntime
from services.support.domain.csat import CsatGrouping, CsatRating, CsatScale, csat_by, csat_score
from services.support.domain.servqual import ITEMS, Dimension, servqual_summary
from services.support.domain.servqual_form import to_response

# Ratings are counted by the verdict recorded when each was given (satisfied or not) as a
# two-point scale, so ratings given under an older scale still count as they were judged.
VERDICT = CsatScale(low=0, high=1, satisfied_from=1)


def _bounds(deps: SupportRuntime, start: date | None, end: date | None
            ) -> tuple[datetime | None, datetime | None]:  # fmt: skip
    zone = deps.satisfaction.zone
    low = datetime.combine(start, time(), zone) if start else None
    high = datetime.combine(end + timedelta(days=1), time(), zone) if end else None
    return low, high


def _period_sql(column: str, first_arg: int) -> str:
    return (f"(${first_arg}::timestamptz IS NULL OR {column} >= ${first_arg}) AND "
            f"(${first_arg + 1}::timestamptz IS NULL OR {column} < ${first_arg + 1})")  # fmt: skip


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


async def csat_kpi(deps: SupportRuntime, group_by: CsatGrouping, start: date | None,
                   end: date | None) -> dict[str, Any]:  # fmt: skip
    low, high = _bounds(deps, start, end)
    rows = await deps.pool.fetch(
        "SELECT team, agent_id, category, satisfied, rated_at FROM survey_ratings WHERE "
        + _period_sql("rated_at", 1) + " ORDER BY rated_at, survey_id",
        low, high,
    )  # fmt: skip
    zone = deps.satisfaction.zone
    ratings = [
        CsatRating(score=int(r["satisfied"]), rated_at=r["rated_at"].astimezone(zone).date(),
                   team=r["team"] or None, agent=r["agent_id"], category=r["category"] or None)
        for r in rows
    ]  # fmt: skip
    total = csat_score(ratings, VERDICT)
    groups = csat_by(ratings, group_by, VERDICT)
    return {
        "group_by": group_by, "from": start, "to": end,
        "answered": total.answered, "satisfied": total.satisfied,
        "score": _decimal(total.score),
        "groups": [{"key": key, "answered": s.answered, "satisfied": s.satisfied,
                    "score": _decimal(s.score)} for key, s in groups.items()],
    }  # fmt: skip


async def servqual_kpi(deps: SupportRuntime, team: str | None, start: date | None,
                       end: date | None) -> dict[str, Any]:  # fmt: skip
    low, high = _bounds(deps, start, end)
    rows = await deps.pool.fetch(
        "SELECT expectations, perceptions, weights FROM servqual_responses WHERE "
        "($1::text IS NULL OR team = $1) AND " + _period_sql("recorded_at", 2),
        team, low, high,
    )  # fmt: skip
    answer: dict[str, Any] = {"team": team, "from": start, "to": end, "responses": len(rows)}
    if not rows:
        # An empty period has no gaps to publish, which is not an error.
        return {**answer, "items": [], "dimensions": {}, "unweighted": None, "weighted": None}
    dimensions = list(Dimension)
    responses = [
        to_response(r["expectations"], r["perceptions"],
                    dict(zip([d.value for d in dimensions], r["weights"], strict=True))
                    if r["weights"] is not None else None)
        for r in rows
    ]  # fmt: skip
    summary = servqual_summary(responses)
    return {
        **answer,
        "items": [{"number": item.number, "dimension": item.dimension.value,
                   "gap": str(summary.items[item.number])} for item in ITEMS],
        "dimensions": {d.value: str(summary.dimensions[d]) for d in dimensions},
        "unweighted": str(summary.unweighted),
        "weighted": _decimal(summary.weighted),
    }  # fmt: skip
