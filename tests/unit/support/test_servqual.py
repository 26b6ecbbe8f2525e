"""SERVQUAL (Parasuraman, Zeithaml & Berry 1988): the instrument's 22 items, validation of a
response, and gaps per item, dimension and overall against a worked example done by hand."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from services.support.domain import servqual
from services.support.domain.servqual import (
    ITEMS,
    Dimension,
    ServqualItem,
    ServqualResponse,
    dimension_items,
    score_response,
    servqual_questionnaire,
    servqual_summary,
)

T, REL, RESP, A, E = (
    Dimension.TANGIBLES,
    Dimension.RELIABILITY,
    Dimension.RESPONSIVENESS,
    Dimension.ASSURANCE,
    Dimension.EMPATHY,
)

# The worked example: answers exactly as ticked on the form (1..7).
# Items 10-13 and 18-22 are negatively worded in 1988 and scored as 8 - tick, for both answers,
# so their gap is (8 - P) - (8 - E) = E - P of the raw ticks.
EXPECTATIONS = {
    # tangibles 1-4
    1: 7, 2: 7, 3: 6, 4: 6,
    # reliability 5-9
    5: 7, 6: 7, 7: 7, 8: 7, 9: 7,
    # responsiveness 10-13 (reversed)
    10: 2, 11: 1, 12: 2, 13: 1,
    # assurance 14-17
    14: 6, 15: 6, 16: 6, 17: 6,
    # empathy 18-22 (reversed)
    18: 1, 19: 1, 20: 2, 21: 2, 22: 3,
}  # fmt: skip
PERCEPTIONS = {
    1: 5, 2: 6, 3: 5, 4: 5,
    5: 6, 6: 6, 7: 7, 8: 6, 9: 7,
    10: 3, 11: 2, 12: 3, 13: 1,
    14: 7, 15: 6, 16: 6, 17: 6,
    18: 2, 19: 1, 20: 3, 21: 2, 22: 2,
}  # fmt: skip
ITEM_GAPS = {
    # tangibles P - E: 5-7, 6-7, 5-6, 5-6 = -2, -1, -1, -1 -> sum -5, mean -5/4 = -1.25
    1: -2, 2: -1, 3: -1, 4: -1,
    # reliability: 6-7, 6-7, 7-7, 6-7, 7-7 = -1, -1, 0, -1, 0 -> sum -3, mean -3/5 = -0.6
    5: -1, 6: -1, 7: 0, 8: -1, 9: 0,
    # responsiveness, reversed E - P: 2-3, 1-2, 2-3, 1-1 = -1, -1, -1, 0 -> -3/4 = -0.75
    10: -1, 11: -1, 12: -1, 13: 0,
    # assurance: 7-6, 6-6, 6-6, 6-6 = 1, 0, 0, 0 -> 1/4 = 0.25
    14: 1, 15: 0, 16: 0, 17: 0,
    # empathy, reversed E - P: 1-2, 1-1, 2-3, 2-2, 3-2 = -1, 0, -1, 0, 1 -> -1/5 = -0.2
    18: -1, 19: 0, 20: -1, 21: 0, 22: 1,
}  # fmt: skip
DIMENSION_GAPS = {
    T: Decimal("-1.25"),
    REL: Decimal("-0.6"),
    RESP: Decimal("-0.75"),
    A: Decimal("0.25"),
    E: Decimal("-0.2"),
}
# (-1.25 - 0.6 - 0.75 + 0.25 - 0.2) / 5 = -2.55 / 5 = -0.51.
# (The mean of the 22 item gaps would be -11 / 22 = -0.5: a different convention.)
UNWEIGHTED = Decimal("-0.51")
WEIGHTS = {T: 10, REL: 30, RESP: 25, A: 20, E: 15}
# -1.25 x 0.10 = -0.125; -0.6 x 0.30 = -0.18; -0.75 x 0.25 = -0.1875; 0.25 x 0.20 = 0.05;
# -0.2 x 0.15 = -0.03. Sum: -0.125 - 0.18 - 0.1875 + 0.05 - 0.03 = -0.4725.
WEIGHTED = Decimal("-0.4725")
EQUAL_WEIGHTS = {T: 20, REL: 20, RESP: 20, A: 20, E: 20}


def example(weights: dict[Dimension, int] | None = WEIGHTS) -> ServqualResponse:
    return ServqualResponse(dict(EXPECTATIONS), dict(PERCEPTIONS), weights)


def flat(answer: int, weights: dict[Dimension, int] | None = None) -> ServqualResponse:
    """Every item ticked the same for expectation and perception: all gaps 0."""
    answers = dict.fromkeys(range(1, 23), answer)
    return ServqualResponse(answers, dict(answers), weights)


# --- the instrument ---


def test_twenty_two_items_numbered_in_order() -> None:
    assert [item.number for item in ITEMS] == list(range(1, 23))


def test_the_five_dimensions_and_their_items() -> None:
    assert [d.value for d in Dimension] == [
        "tangibles",
        "reliability",
        "responsiveness",
        "assurance",
        "empathy",
    ]
    assert dimension_items(T) == (1, 2, 3, 4)
    assert dimension_items(REL) == (5, 6, 7, 8, 9)
    assert dimension_items(RESP) == (10, 11, 12, 13)
    assert dimension_items(A) == (14, 15, 16, 17)
    assert dimension_items(E) == (18, 19, 20, 21, 22)


def test_the_negatively_worded_items_of_1988_are_reverse_scored() -> None:
    assert {item.number for item in ITEMS if item.reverse_scored} == {
        10,
        11,
        12,
        13,
        18,
        19,
        20,
        21,
        22,
    }


@pytest.mark.parametrize("locale", ["en", "es", "pt-BR"])
def test_every_item_has_a_distinct_non_empty_text_in_each_language(locale: str) -> None:
    texts = [item.text[locale] for item in ITEMS]
    assert all(text.strip() for text in texts)
    assert len(set(texts)) == 22
    assert all(text.endswith(".") for text in texts)


def test_the_languages_are_translations_not_copies() -> None:
    for item in ITEMS:
        assert set(item.text) == {"en", "es", "pt-BR"}
        assert len({item.text["en"], item.text["es"], item.text["pt-BR"]}) == 3, item.number


def test_item_texts_follow_the_1988_perception_statements() -> None:
    by_number = {item.number: item for item in ITEMS}
    assert by_number[1].text["en"] == "The company has up-to-date equipment."
    assert by_number[7].text["en"] == "The company is dependable."
    assert by_number[7].text["es"] == "La empresa es confiable."
    assert by_number[7].text["pt-BR"] == "A empresa é confiável."
    assert by_number[18].text["en"] == "The company does not give you individual attention."


def test_item_texts_cannot_be_changed() -> None:
    with pytest.raises(TypeError):
        ITEMS[0].text["en"] = "changed"  # type: ignore[index]


# --- one response, the worked example ---


def test_worked_example_item_gaps() -> None:
    assert dict(score_response(example()).items) == ITEM_GAPS


def test_worked_example_dimension_gaps() -> None:
    assert dict(score_response(example()).dimensions) == DIMENSION_GAPS


def test_worked_example_unweighted_score_is_the_mean_of_dimension_means() -> None:
    assert score_response(example()).unweighted == UNWEIGHTED


def test_worked_example_weighted_score() -> None:
    assert score_response(example()).weighted == WEIGHTED


def test_without_importance_points_there_is_no_weighted_score() -> None:
    assert score_response(example(weights=None)).weighted is None


def test_equal_points_weigh_like_the_unweighted_score() -> None:
    assert score_response(example(EQUAL_WEIGHTS)).weighted == Decimal("-0.51")


def test_reverse_scoring_flips_the_raw_difference() -> None:
    # Item 10 ticked E=2 ("disagree the excellent company would not tell"), P=5: scored
    # 8-2 = 6 expected, 8-5 = 3 perceived -> gap 3 - 6 = -3. Item 1 ticked E=2, P=5: +3.
    expectations = dict.fromkeys(range(1, 23), 4) | {1: 2, 10: 2}
    perceptions = dict.fromkeys(range(1, 23), 4) | {1: 5, 10: 5}
    scores = score_response(ServqualResponse(expectations, perceptions))
    assert scores.items[1] == 3
    assert scores.items[10] == -3
    # tangibles 3/4 = 0.75; responsiveness -3/4 = -0.75.
    assert scores.dimensions[T] == Decimal("0.75")
    assert scores.dimensions[RESP] == Decimal("-0.75")


# --- validation ---


@pytest.mark.parametrize(
    ("which", "item", "answer", "message"),
    [
        ("perception", 7, 0, "item 7 perception must be 1..7"),
        ("perception", 22, 8, "item 22 perception must be 1..7"),
        ("expectation", 3, 8, "item 3 expectation must be 1..7"),
        ("expectation", 15, True, "item 15 expectation must be 1..7"),
        ("expectation", 1, 4.0, "item 1 expectation must be 1..7"),
    ],
)
def test_an_answer_off_the_seven_point_scale_is_refused(
    which: str, item: int, answer: object, message: str
) -> None:
    expectations, perceptions = dict(EXPECTATIONS), dict(PERCEPTIONS)
    (perceptions if which == "perception" else expectations)[item] = answer  # type: ignore[assignment]
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        ServqualResponse(expectations, perceptions)


def test_an_incomplete_response_is_refused_naming_the_missing_items() -> None:
    perceptions = {n: a for n, a in PERCEPTIONS.items() if n not in (4, 12)}
    with pytest.raises(
        ValueError, match=re.escape("perception answers are missing for items 4, 12")
    ):
        ServqualResponse(dict(EXPECTATIONS), perceptions)
    with pytest.raises(ValueError, match=re.escape("expectation answers are missing for items 1")):
        ServqualResponse({}, dict(PERCEPTIONS))


def test_an_unknown_item_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("expectation answers name unknown items: 23")):
        ServqualResponse(EXPECTATIONS | {23: 4}, dict(PERCEPTIONS))


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        ({T: 10, REL: 30, RESP: 25, A: 20, E: 10}, "importance points must sum to 100, got 95"),
        ({T: 10, REL: 30, RESP: 25, A: 20, E: 20}, "importance points must sum to 100, got 105"),
        ({T: 10, REL: 30, RESP: 25, A: 35}, "importance points are missing for empathy"),
        (
            {T: -10, REL: 40, RESP: 25, A: 30, E: 15},
            "importance points for tangibles must be a whole number >= 0",
        ),
        (
            {T: 10.5, REL: 29.5, RESP: 25, A: 20, E: 15},
            "importance points for tangibles must be a whole number >= 0",
        ),
    ],
)
def test_importance_points_must_be_whole_and_sum_to_100(
    weights: dict[Dimension, int], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        example(weights)


def test_all_points_on_one_dimension_is_allowed() -> None:
    # Only reliability counts: weighted = -0.6 x 100/100.
    weights = {T: 0, REL: 100, RESP: 0, A: 0, E: 0}
    assert score_response(example(weights)).weighted == Decimal("-0.6")


def test_a_response_keeps_its_own_copy_of_the_answers() -> None:
    expectations, perceptions, weights = dict(EXPECTATIONS), dict(PERCEPTIONS), dict(WEIGHTS)
    response = ServqualResponse(expectations, perceptions, weights)
    expectations[1], perceptions[1], weights[T] = 1, 1, 50
    assert score_response(response).items[1] == -2
    assert score_response(response).weighted == WEIGHTED


# --- many responses ---


def test_summary_of_several_responses() -> None:
    # The example with points (weighted -0.4725), an all-zero response with equal points
    # (weighted 0) and an all-zero response without points.
    summary = servqual_summary([example(), flat(4, EQUAL_WEIGHTS), flat(6)])
    assert summary.responses == 3
    # Item means over three responses: item 1 (-2 + 0 + 0) / 3 = -0.6666... -> -0.6667;
    # item 14 (1 + 0 + 0) / 3 = 0.3333...; item 7 stays 0.
    assert str(summary.items[1]) == "-0.6667"
    assert str(summary.items[14]) == "0.3333"
    assert str(summary.items[7]) == "0.0000"
    assert len(summary.items) == 22
    # Dimension means: -1.25/3 = -0.41666.. -> -0.4167; -0.6/3 = -0.2; -0.75/3 = -0.25;
    # 0.25/3 = 0.08333.. -> 0.0833; -0.2/3 = -0.06666.. -> -0.0667.
    assert {d: str(v) for d, v in summary.dimensions.items()} == {
        T: "-0.4167",
        REL: "-0.2000",
        RESP: "-0.2500",
        A: "0.0833",
        E: "-0.0667",
    }
    # Unweighted: -0.51 / 3 = -0.17 (from unrounded dimension means).
    assert str(summary.unweighted) == "-0.1700"
    # Weighted: only the two responses with points, (-0.4725 + 0) / 2 = -0.23625, which
    # rounds half-to-even to -0.2362 (half-up would give -0.2363).
    assert str(summary.weighted) == "-0.2362"


def test_summary_of_one_response_is_that_response_published_to_four_places() -> None:
    summary = servqual_summary([example()])
    assert summary.responses == 1
    assert {n: int(v) for n, v in summary.items.items()} == ITEM_GAPS
    assert str(summary.dimensions[T]) == "-1.2500"
    assert str(summary.unweighted) == "-0.5100"
    assert str(summary.weighted) == "-0.4725"


def test_summary_without_points_has_no_weighted_score() -> None:
    summary = servqual_summary([example(weights=None), flat(3)])
    assert summary.weighted is None
    # -0.51 / 2 = -0.255, exactly representable: no rounding.
    assert summary.unweighted == Decimal("-0.255")


def test_summary_of_nothing_is_refused() -> None:
    with pytest.raises(ValueError, match="no SERVQUAL responses"):
        servqual_summary([])


# --- the questionnaire ---


def test_questionnaire_in_each_supported_locale() -> None:
    for locale, first in [
        ("en", "The company has up-to-date equipment."),
        ("es", "La empresa cuenta con equipos modernos."),
        ("pt-BR", "A empresa tem equipamentos modernos."),
    ]:
        questions = servqual_questionnaire(locale)
        assert len(questions) == 22
        assert questions[0] == {"number": 1, "dimension": "tangibles", "text": first}
        assert questions[21]["number"] == 22
        assert questions[21]["dimension"] == "empathy"


@pytest.mark.parametrize(
    ("asked", "served"),
    [("EN", "en"), ("en-GB", "en"), ("es-MX", "es"), ("pt", "pt-BR"), ("pt_br", "pt-BR")],
)
def test_questionnaire_resolves_regional_variants_by_language(asked: str, served: str) -> None:
    assert [q["text"] for q in servqual_questionnaire(asked)] == [
        item.text[served] for item in ITEMS
    ]


@pytest.mark.parametrize("locale", ["fr", "de-DE", ""])
def test_questionnaire_in_an_unknown_locale_is_refused(locale: str) -> None:
    with pytest.raises(ValueError, match=re.escape("supported: en, es, pt-BR")):
        servqual_questionnaire(locale)


def test_questionnaire_falls_back_to_english_for_an_untranslated_item(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    partial = (ServqualItem(1, T, {"en": "English only.", "es": ""}),)
    monkeypatch.setattr(servqual, "ITEMS", partial)
    assert servqual_questionnaire("es") == [
        {"number": 1, "dimension": "tangibles", "text": "English only."}
    ]
    assert servqual_questionnaire("pt-BR")[0]["text"] == "English only."
