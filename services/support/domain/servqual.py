"""SERVQUAL: service quality as the gap between what customers expect and what they perceive.

Source: A. Parasuraman, V. A. Zeithaml and L. L. Berry, "SERVQUAL: A Multiple-Item Scale for
Measuring Consumer Perceptions of Service Quality", Journal of Retailing 64(1), 1988, 12-40.

Instrument: 22 items in five dimensions - tangibles (items 1-4), reliability (5-9),
responsiveness (10-13), assurance (14-17) and empathy (18-22). Each item is answered twice on
a 7-point scale (1 = strongly disagree, 7 = strongly agree): once for what the customer expects
of an excellent company (expectation) and once for this company (perception). The texts here
are the 1988 perception statements with "XYZ" replaced by "the company", in en, es and pt-BR.

Negative wording: in the 1988 instrument items 10-13 and 18-22 are worded negatively ("The
company does not give you individual attention"), and the authors reversed their ratings
(8 minus the score) before any analysis. This module does the same, for both answers, so a
response is stored exactly as the customer ticked it and every gap keeps one meaning: below
zero, service fell short of expectations. For a reversed item the gap therefore works out
as expectation - perception of the raw ticks.

Calculations, per response:
- item gap = perception - expectation (on the scored, i.e. reversed where due, answers);
- dimension gap = unweighted mean of its items' gaps;
- unweighted SERVQUAL score = mean of the five dimension gaps. Parasuraman et al. average the
  dimension scores rather than the 22 items, so each dimension counts once whatever its number
  of items (a mean of the 22 items would give reliability and empathy 5/22 of the weight each
  and the others 4/22); it also makes the weighted score with equal points (20 each) equal to
  the unweighted one;
- weighted score, when the customer distributed 100 importance points over the five
  dimensions = sum of dimension gap x points / 100.

Missing answers: a response must answer all 22 items twice, or it is refused. Imputing a
missing item would invent a gap, and dropping it would change the dimension's meaning from
one response to the next; an incomplete form is the survey front end's problem to prevent.

Per-response figures are exact (means of integers over 4 or 5 items, points in hundredths).
Aggregates are computed exactly and rounded once, when published, to 4 places ROUND_HALF_EVEN.

Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "ANSWER_HIGH",
    "ANSWER_LOW",
    "ITEMS",
    "LOCALES",
    "Dimension",
    "ServqualItem",
    "ServqualResponse",
    "ServqualScores",
    "ServqualSummary",
    "dimension_items",
    "score_response",
    "servqual_questionnaire",
    "servqual_summary",
]

ANSWER_LOW = 1
ANSWER_HIGH = 7
IMPORTANCE_POINTS = 100
PLACES = Decimal("0.0001")
LOCALES = ("en", "es", "pt-BR")
FALLBACK_LOCALE = "en"


class Dimension(StrEnum):
    TANGIBLES = "tangibles"
    RELIABILITY = "reliability"
    RESPONSIVENESS = "responsiveness"
    ASSURANCE = "assurance"
    EMPATHY = "empathy"


@dataclass(frozen=True)
class ServqualItem:
    number: int
    dimension: Dimension
    text: Mapping[str, str]
    # Negatively worded in the 1988 instrument: answers are scored as 8 - answer.
    reverse_scored: bool = False


def _item(
    number: int, dimension: Dimension, en: str, es: str, pt_br: str, *, reverse_scored: bool = False
) -> ServqualItem:
    text = MappingProxyType({"en": en, "es": es, "pt-BR": pt_br})
    return ServqualItem(number, dimension, text, reverse_scored)


_T = Dimension.TANGIBLES
_REL = Dimension.RELIABILITY
_RESP = Dimension.RESPONSIVENESS
_A = Dimension.ASSURANCE
_E = Dimension.EMPATHY

ITEMS: tuple[ServqualItem, ...] = (
    _item(
        1,
        _T,
        "The company has up-to-date equipment.",
        "La empresa cuenta con equipos modernos.",
        "A empresa tem equipamentos modernos.",
    ),
    _item(
        2,
        _T,
        "The company's physical facilities are visually appealing.",
        "Las instalaciones físicas de la empresa son visualmente atractivas.",
        "As instalações físicas da empresa são visualmente atraentes.",
    ),
    _item(
        3,
        _T,
        "The company's employees are well dressed and appear neat.",
        "Los empleados de la empresa van bien vestidos y tienen un aspecto pulcro.",
        "Os funcionários da empresa andam bem vestidos e têm boa aparência.",
    ),
    _item(
        4,
        _T,
        "The appearance of the company's physical facilities is in keeping with the type of"
        " services provided.",
        "El aspecto de las instalaciones físicas de la empresa está en consonancia con el tipo"
        " de servicio que presta.",
        "A aparência das instalações físicas da empresa condiz com o tipo de serviço prestado.",
    ),
    _item(
        5,
        _REL,
        "When the company promises to do something by a certain time, it does so.",
        "Cuando la empresa promete hacer algo en un plazo determinado, lo cumple.",
        "Quando a empresa promete fazer algo até determinado prazo, ela cumpre.",
    ),
    _item(
        6,
        _REL,
        "When you have problems, the company is sympathetic and reassuring.",
        "Cuando usted tiene un problema, la empresa se muestra comprensiva y le transmite"
        " tranquilidad.",
        "Quando você tem algum problema, a empresa se mostra compreensiva e transmite"
        " tranquilidade.",
    ),
    _item(
        7,
        _REL,
        "The company is dependable.",
        "La empresa es confiable.",
        "A empresa é confiável.",
    ),
    _item(
        8,
        _REL,
        "The company provides its services at the time it promises to do so.",
        "La empresa presta sus servicios en el momento en que promete hacerlo.",
        "A empresa presta seus serviços no momento em que promete prestá-los.",
    ),
    _item(
        9,
        _REL,
        "The company keeps its records accurately.",
        "La empresa lleva sus registros con exactitud.",
        "A empresa mantém seus registros com exatidão.",
    ),
    _item(
        10,
        _RESP,
        "The company does not tell customers exactly when services will be performed.",
        "La empresa no informa a los clientes con exactitud cuándo se prestarán los servicios.",
        "A empresa não informa aos clientes exatamente quando os serviços serão realizados.",
        reverse_scored=True,
    ),
    _item(
        11,
        _RESP,
        "You do not receive prompt service from the company's employees.",
        "Usted no recibe un servicio rápido por parte de los empleados de la empresa.",
        "Você não recebe um atendimento rápido dos funcionários da empresa.",
        reverse_scored=True,
    ),
    _item(
        12,
        _RESP,
        "The company's employees are not always willing to help customers.",
        "Los empleados de la empresa no siempre están dispuestos a ayudar a los clientes.",
        "Os funcionários da empresa nem sempre estão dispostos a ajudar os clientes.",
        reverse_scored=True,
    ),
    _item(
        13,
        _RESP,
        "The company's employees are too busy to respond to customer requests promptly.",
        "Los empleados de la empresa están demasiado ocupados para responder con prontitud a"
        " las solicitudes de los clientes.",
        "Os funcionários da empresa estão ocupados demais para atender prontamente às"
        " solicitações dos clientes.",
        reverse_scored=True,
    ),
    _item(
        14,
        _A,
        "You can trust the company's employees.",
        "Usted puede confiar en los empleados de la empresa.",
        "Você pode confiar nos funcionários da empresa.",
    ),
    _item(
        15,
        _A,
        "You feel safe in your transactions with the company's employees.",
        "Usted se siente seguro en sus transacciones con los empleados de la empresa.",
        "Você se sente seguro nas suas transações com os funcionários da empresa.",
    ),
    _item(
        16,
        _A,
        "The company's employees are polite.",
        "Los empleados de la empresa son corteses.",
        "Os funcionários da empresa são educados.",
    ),
    _item(
        17,
        _A,
        "The company's employees get adequate support from the company to do their jobs well.",
        "Los empleados reciben de la empresa el apoyo adecuado para hacer bien su trabajo.",
        "Os funcionários recebem da empresa o apoio adequado para fazer bem o seu trabalho.",
    ),
    _item(
        18,
        _E,
        "The company does not give you individual attention.",
        "La empresa no le brinda una atención individualizada.",
        "A empresa não lhe dá atenção individualizada.",
        reverse_scored=True,
    ),
    _item(
        19,
        _E,
        "The company's employees do not give you personal attention.",
        "Los empleados de la empresa no le brindan una atención personal.",
        "Os funcionários da empresa não lhe dão atenção pessoal.",
        reverse_scored=True,
    ),
    _item(
        20,
        _E,
        "The company's employees do not know what your needs are.",
        "Los empleados de la empresa no saben cuáles son sus necesidades.",
        "Os funcionários da empresa não sabem quais são as suas necessidades.",
        reverse_scored=True,
    ),
    _item(
        21,
        _E,
        "The company does not have your best interests at heart.",
        "La empresa no vela de verdad por sus intereses.",
        "A empresa não se preocupa de verdade com os seus interesses.",
        reverse_scored=True,
    ),
    _item(
        22,
        _E,
        "The company does not have operating hours convenient to all its customers.",
        "La empresa no tiene un horario de atención conveniente para todos sus clientes.",
        "A empresa não tem um horário de funcionamento conveniente para todos os seus clientes.",
        reverse_scored=True,
    ),
)

_BY_NUMBER: Mapping[int, ServqualItem] = MappingProxyType({item.number: item for item in ITEMS})


def dimension_items(dimension: Dimension) -> tuple[int, ...]:
    """The item numbers of a dimension, in order."""
    return tuple(item.number for item in ITEMS if item.dimension is dimension)


def _is_int(value: object) -> bool:
    # bool is an int subclass; True as an answer is a caller's bug, not a 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _check_answers(which: str, answers: Mapping[int, int]) -> Mapping[int, int]:
    unknown = sorted((n for n in answers if n not in _BY_NUMBER), key=repr)
    if unknown:
        raise ValueError(f"{which} answers name unknown items: {', '.join(map(repr, unknown))}")
    missing = [n for n in _BY_NUMBER if n not in answers]
    if missing:
        listed = ", ".join(map(str, missing))
        raise ValueError(f"{which} answers are missing for items {listed}; all 22 are required")
    for number in _BY_NUMBER:
        answer = answers[number]
        if not _is_int(answer) or not ANSWER_LOW <= answer <= ANSWER_HIGH:
            raise ValueError(f"item {number} {which} must be {ANSWER_LOW}..{ANSWER_HIGH}")
    # A private copy in item order: the caller's dict may change later, the response may not.
    return MappingProxyType({n: answers[n] for n in _BY_NUMBER})


def _check_weights(weights: Mapping[Dimension, int]) -> Mapping[Dimension, int]:
    unknown = [d for d in weights if d not in tuple(Dimension)]
    if unknown:
        raise ValueError(f"importance points name unknown dimensions: {unknown!r}")
    for dimension in Dimension:
        if dimension not in weights:
            raise ValueError(f"importance points are missing for {dimension.value}")
        points = weights[dimension]
        if not _is_int(points) or points < 0:
            raise ValueError(f"importance points for {dimension.value} must be a whole number >= 0")
    total = sum(weights.values())
    if total != IMPORTANCE_POINTS:
        raise ValueError(f"importance points must sum to {IMPORTANCE_POINTS}, got {total}")
    return MappingProxyType({d: weights[d] for d in Dimension})


@dataclass(frozen=True)
class ServqualResponse:
    """One customer's form: the answers as ticked (1..7), and optionally importance points.

    ``weights`` maps every dimension to whole points summing to 100. Construction validates
    everything, so any instance is complete and scorable.
    """

    expectations: Mapping[int, int]
    perceptions: Mapping[int, int]
    weights: Mapping[Dimension, int] | None = field(default=None)

    def __post_init__(self) -> None:
        object.__setattr__(self, "expectations", _check_answers("expectation", self.expectations))
        object.__setattr__(self, "perceptions", _check_answers("perception", self.perceptions))
        if self.weights is not None:
            object.__setattr__(self, "weights", _check_weights(self.weights))


@dataclass(frozen=True)
class ServqualScores:
    """One response's exact figures (no rounding was needed: see the module docstring)."""

    items: Mapping[int, int]
    dimensions: Mapping[Dimension, Decimal]
    unweighted: Decimal
    weighted: Decimal | None


@dataclass(frozen=True)
class ServqualSummary:
    """Many responses' mean gaps, rounded to 4 places for publication."""

    responses: int
    items: Mapping[int, Decimal]
    dimensions: Mapping[Dimension, Decimal]
    unweighted: Decimal
    # Mean over only the responses that carried importance points; None if none did.
    weighted: Decimal | None


def _scored(item: ServqualItem, answer: int) -> int:
    return ANSWER_HIGH + ANSWER_LOW - answer if item.reverse_scored else answer


def _mean(values: Sequence[Decimal]) -> Decimal:
    return sum(values, Decimal(0)) / len(values)


def score_response(response: ServqualResponse) -> ServqualScores:
    items = {
        item.number: _scored(item, response.perceptions[item.number])
        - _scored(item, response.expectations[item.number])
        for item in ITEMS
    }
    dimensions = {d: _mean([Decimal(items[n]) for n in dimension_items(d)]) for d in Dimension}
    unweighted = _mean(list(dimensions.values()))
    weighted = None
    if response.weights is not None:
        weights = response.weights
        weighted = sum(
            (dimensions[d] * weights[d] / IMPORTANCE_POINTS for d in Dimension), Decimal(0)
        )
    return ServqualScores(
        items=MappingProxyType(items),
        dimensions=MappingProxyType(dimensions),
        unweighted=unweighted,
        weighted=weighted,
    )


def _publish(value: Decimal) -> Decimal:
    return value.quantize(PLACES, rounding=ROUND_HALF_EVEN)


def servqual_summary(responses: Iterable[ServqualResponse]) -> ServqualSummary:
    """Mean gaps over the responses; ValueError when there are none (no score to publish)."""
    scores = [score_response(r) for r in responses]
    if not scores:
        raise ValueError("no SERVQUAL responses to summarise")
    items = {n: _mean([Decimal(s.items[n]) for s in scores]) for n in _BY_NUMBER}
    dimensions = {d: _mean([s.dimensions[d] for s in scores]) for d in Dimension}
    # Every response is complete, so this equals the mean of per-response unweighted scores.
    unweighted = _mean(list(dimensions.values()))
    weighted_scores = [s.weighted for s in scores if s.weighted is not None]
    return ServqualSummary(
        responses=len(scores),
        items=MappingProxyType({n: _publish(v) for n, v in items.items()}),
        dimensions=MappingProxyType({d: _publish(v) for d, v in dimensions.items()}),
        unweighted=_publish(unweighted),
        weighted=_publish(_mean(weighted_scores)) if weighted_scores else None,
    )


def _resolve_locale(locale: str) -> str:
    """A supported locale for a BCP 47 tag: exact (any case), else by language.

    "es-MX" gets "es", "pt" or "pt-PT" get "pt-BR" (the only Portuguese), "en-GB" gets "en".
    A language with no texts at all is an error rather than a silent English form: the
    caller asked for something it will not get, and should say so to its client.
    """
    tag = locale.strip().replace("_", "-")
    for supported in LOCALES:
        if tag.lower() == supported.lower():
            return supported
    language = tag.split("-", 1)[0].lower()
    for supported in LOCALES:
        if supported.split("-", 1)[0].lower() == language and language:
            return supported
    raise ValueError(f"unsupported locale {locale!r}; supported: {', '.join(LOCALES)}")


def servqual_questionnaire(locale: str) -> list[dict[str, object]]:
    """The 22 items for presentation: number, dimension and text in the resolved locale.

    An item lacking a text in that locale falls back to English, so a partly translated
    item set still yields a whole questionnaire.
    """
    resolved = _resolve_locale(locale)
    return [
        {
            "number": item.number,
            "dimension": item.dimension.value,
            "text": item.text.get(resolved) or item.text[FALLBACK_LOCALE],
        }
        for item in ITEMS
    ]
