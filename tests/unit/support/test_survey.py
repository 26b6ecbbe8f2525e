"""The satisfaction survey decider: requested once per solving, rated once, on its scale,
before it expires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from contracts.events.support_quality import SatisfactionRated, SatisfactionSurveyRequested
from services.support.domain import survey as sv
from services.support.domain.csat import CsatScale
from tests.unit.gwt import Spec

given = Spec(sv.decider).given

CASE = UUID("00000000-0000-0000-0000-0000000000c1")
SURVEY = sv.survey_id(CASE, 1)
ASKED = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def request(at: datetime = ASKED) -> sv.RequestSurvey:
    return sv.RequestSurvey(SURVEY, CASE, "cust-1", CsatScale(), at, team="logistics",
                            agent_id="agent-ana", category="delivery")  # fmt: skip


def requested() -> SatisfactionSurveyRequested:
    return SatisfactionSurveyRequested(
        case_id=CASE, customer_id="cust-1", survey_id=SURVEY, scale_low=1, scale_high=5,
        team="logistics", agent_id="agent-ana", category="delivery", requested_at=ASKED,
    )  # fmt: skip


def rate(score: int, at: datetime = ASKED + timedelta(days=1), comment: str = ""
         ) -> sv.RateSurvey:  # fmt: skip
    return sv.RateSurvey(SURVEY, score, at, WEEK, satisfied_from=4, comment=comment)


def rated(score: int, satisfied: bool, at: datetime = ASKED + timedelta(days=1),
          comment: str = "") -> SatisfactionRated:  # fmt: skip
    return SatisfactionRated(
        case_id=CASE, customer_id="cust-1", survey_id=SURVEY, score=score, scale_low=1,
        scale_high=5, satisfied=satisfied, comment=comment, team="logistics",
        agent_id="agent-ana", category="delivery", rated_at=at,
    )  # fmt: skip


def test_the_survey_id_is_the_same_for_the_same_solving() -> None:
    assert sv.survey_id(CASE, 1) == sv.survey_id(CASE, 1)


def test_a_second_solving_gets_another_survey_id() -> None:
    assert sv.survey_id(CASE, 2) != sv.survey_id(CASE, 1)


def test_a_solved_case_requests_a_survey_with_its_team_agent_and_category() -> None:
    given().when(request()).then(requested())


def test_requesting_the_same_survey_again_requests_nothing() -> None:
    given(requested()).when(request(ASKED + timedelta(hours=1))).then()


def test_a_four_on_the_default_scale_is_satisfied() -> None:
    given(requested()).when(rate(4, comment=" Rápido. ")).then(rated(4, True, comment="Rápido."))


def test_a_three_on_the_default_scale_is_not_satisfied() -> None:
    given(requested()).when(rate(3)).then(rated(3, False))


def test_a_score_above_the_scale_is_refused_naming_the_score() -> None:
    given(requested()).when(rate(6)).then_raises(field="score")


def test_a_score_below_the_scale_is_refused_naming_the_score() -> None:
    given(requested()).when(rate(0)).then_raises(field="score")


def test_a_second_rating_is_refused_as_a_conflict() -> None:
    given(requested(), rated(5, True)).when(rate(1)).then_raises(code="already-exists")


def test_a_rating_on_the_last_moment_of_the_validity_is_taken() -> None:
    given(requested()).when(rate(5, ASKED + WEEK)).then(rated(5, True, ASKED + WEEK))


def test_a_rating_after_the_validity_is_refused() -> None:
    late = ASKED + WEEK + timedelta(seconds=1)
    given(requested()).when(rate(5, late)).then_raises(code="survey-expired")


def test_rating_an_unknown_survey_is_not_found() -> None:
    given().when(rate(5)).then_raises(code="not-found")


def test_a_comment_longer_than_the_contract_allows_is_refused() -> None:
    given(requested()).when(rate(5, comment="x" * 5001)).then_raises(field="comment")


def test_a_moved_threshold_is_kept_within_the_scale_the_customer_saw() -> None:
    # Configuration now says "satisfied from 8" (a 0..10 scale); this survey was 1..5.
    command = sv.RateSurvey(SURVEY, 5, ASKED, WEEK, satisfied_from=8)
    given(requested()).when(command).then(rated(5, True, ASKED))
