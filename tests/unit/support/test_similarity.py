"""The keyed MinHash signatures: they estimate the Jaccard similarity of the texts'
trigram sets (computed here independently, from the definition), ignore case and
accents, depend on the key, and group by average linkage."""

from __future__ import annotations

import itertools
import random
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.support.domain.similarity import (
    SIGNATURE_SIZE,
    cohesive_group,
    resembles_group,
    signature,
    similarity,
)

KEY = b"test-key"
FRIDGE = "A porta da geladeira não fecha direito e a borracha de vedação está solta"


def _exact_jaccard(a: str, b: str) -> float:
    def grams(text: str) -> set[str]:
        plain = "".join(c for c in unicodedata.normalize("NFKD", text.lower())
                        if not unicodedata.combining(c))  # fmt: skip
        words = "".join(c if c.isalnum() else " " for c in plain).split()
        return {f" {w} "[i : i + 3] for w in words for i in range(len(w))}

    x, y = grams(a), grams(b)
    return len(x & y) / len(x | y)


def test_case_and_accents_do_not_matter() -> None:
    shouted = "A PORTA DA GELADEIRA NAO FECHA DIREITO E A BORRACHA DE VEDACAO ESTA SOLTA!!"
    assert similarity(signature(FRIDGE, KEY), signature(shouted, KEY)) == 1.0


def test_a_reworded_complaint_is_close_and_an_unrelated_one_is_far() -> None:
    reworded = "porta da geladeira nao fecha, a borracha de vedacao soltou. urgente"
    unrelated = "Fui cobrado duas vezes no boleto da última compra, quero o estorno"
    mine = signature(FRIDGE, KEY)
    assert similarity(mine, signature(reworded, KEY)) > 0.5
    assert similarity(mine, signature(unrelated, KEY)) < 0.15


def test_the_estimate_is_within_sampling_error_of_the_exact_jaccard() -> None:
    rng = random.Random(7)
    vocabulary = (
        "porta geladeira fecha borracha vedacao solta lavadora ruido centrifugar "
        "horno calienta microwave turntable spinning light flickers boleto estorno"
    )
    words = vocabulary.split()
    texts = [" ".join(rng.sample(words, 8)) for _ in range(30)]
    errors = [similarity(signature(a, KEY), signature(b, KEY)) - _exact_jaccard(a, b)
              for a, b in itertools.combinations(texts, 2)]  # fmt: skip
    # Standard error of a MinHash estimate is at most 0.5 / sqrt(k).
    assert abs(sum(errors) / len(errors)) < 0.02
    assert max(abs(e) for e in errors) < 5 * 0.5 / SIGNATURE_SIZE**0.5


def test_another_key_gives_another_signature() -> None:
    assert signature(FRIDGE, KEY) != signature(FRIDGE, b"another-key")
    assert len(signature(FRIDGE, KEY)) == SIGNATURE_SIZE


@pytest.mark.parametrize("text", ["", "   ", "!!! ---"])
def test_no_words_no_signature_and_no_similarity(text: str) -> None:
    assert signature(text, KEY) == []
    assert similarity(signature(text, KEY), signature(FRIDGE, KEY)) == 0.0


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=80), st.text(min_size=1, max_size=80))
def test_similarity_is_symmetric_and_between_zero_and_one(a: str, b: str) -> None:
    x, y = signature(a, KEY), signature(b, KEY)
    assert similarity(x, y) == similarity(y, x)
    assert 0.0 <= similarity(x, y) <= 1.0


def test_average_linkage_keeps_the_group_and_drops_a_chance_resemblance() -> None:
    group = [FRIDGE + suffix for suffix in (" urgente", " de novo", " por favor", "")]
    # Shares the first words with the newcomer only: close to one, far from the group.
    chance = "A porta da geladeira chegou, mas cobraram o frete duas vezes no cartão"
    newcomer = signature(FRIDGE + " ajuda", KEY)
    others = [(f"g{n}", signature(t, KEY)) for n, t in enumerate(group)]
    others.append(("chance", signature(chance, KEY)))
    assert sorted(cohesive_group(newcomer, others, 0.3)) == ["g0", "g1", "g2", "g3"]
    assert resembles_group(newcomer, [sig for _, sig in others[:4]], 0.3)
    assert not resembles_group(signature(chance, KEY), [sig for _, sig in others[:4]], 0.3)
    assert not resembles_group(newcomer, [], 0.3)
