"""Text similarity of cases without keeping their text: a keyed MinHash signature.

A case's subject and description are personal data (sealed, erasable), so the
recurring-failure detector may not keep them in a read model. It keeps instead, per case,
``SIGNATURE_SIZE`` minimum hashes over the character trigrams of the normalised text
(lower case, accents removed, punctuation folded to spaces). Two signatures agree at a
position with probability equal to the Jaccard similarity of the two trigram sets, so the
share of equal positions estimates it (Broder 1997). Why trigrams of characters rather
than words: Portuguese and Spanish inflect heavily ("quebrou", "quebrada", "quebrado")
and customers misspell; trigrams match across both, in all three languages, with no
stemmer. Why keyed (BLAKE2b with a secret key): without the key nobody can test
guessed phrases against a stored signature, and the signature cannot be inverted to
the text; it is still erased with its customer.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from typing import TypeVar

SIGNATURE_SIZE = 128
METHOD = (
    f"minhash-{SIGNATURE_SIZE} of character trigrams of unaccented text (keyed BLAKE2b), "
    "average linkage"
)
_PRIME = (1 << 61) - 1  # below 2⁶³: the values fit PostgreSQL's signed bigint
_NOT_WORD = re.compile(r"[^a-z0-9]+")
FLOOR = 0.6
"""Share of the threshold a case must reach with the newcomer to be a candidate."""
T = TypeVar("T")


def normalise(text: str) -> str:
    """Lower case, accents removed, anything but letters and digits folded to one space."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", bare).strip()


def trigrams(text: str) -> set[str]:
    """The character trigrams of each word padded with a space on both sides."""
    grams: set[str] = set()
    for word in normalise(text).split():
        padded = f" {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def signature(text: str, key: bytes) -> list[int]:
    """``SIGNATURE_SIZE`` minimum hashes; empty text gives an empty signature.

    Each trigram is hashed once with keyed BLAKE2b to x, and the i-th hash function is
    (aᵢ·x + bᵢ) mod p with p the Mersenne prime 2⁶¹ - 1 (a universal family, as in
    datasketch). Not h1 + i·h2 double hashing: linear functions of one pair correlate
    their minima, and the estimate came out biased upwards (0.2 for texts of Jaccard 0.08)."""
    grams = trigrams(text)
    if not grams:
        return []
    coefficients = _coefficients(key)
    xs = [int.from_bytes(hashlib.blake2b(g.encode(), key=key[:64], digest_size=8).digest(),
                         "big") % _PRIME for g in grams]  # fmt: skip
    return [min((a * x + b) % _PRIME for x in xs) for a, b in coefficients]


@functools.lru_cache(maxsize=4)
def _coefficients(key: bytes) -> tuple[tuple[int, int], ...]:
    """(aᵢ, bᵢ) of each hash function, derived from the key (1 ≤ aᵢ < p, 0 ≤ bᵢ < p)."""
    out = []
    for i in range(SIGNATURE_SIZE):
        digest = hashlib.blake2b(i.to_bytes(4, "big"), key=key[:64], person=b"minhash-coef",
                                 digest_size=16).digest()  # fmt: skip
        a = int.from_bytes(digest[:8], "big") % (_PRIME - 1) + 1
        b = int.from_bytes(digest[8:], "big") % _PRIME
        out.append((a, b))
    return tuple(out)


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the two texts' trigram sets (0 when either is empty)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)


def cohesive_group(newcomer: Sequence[int], others: Sequence[tuple[T, Sequence[int]]],
                   threshold: float) -> list[T]:  # fmt: skip
    """The others that form, with the newcomer, a group whose every member resembles the
    rest on average by at least ``threshold`` (average linkage).

    Candidates are the others resembling the newcomer by at least ``threshold * FLOOR``:
    a pair of the same complaint reworded twice can fall below the threshold, so one
    low pair does not keep a case out. The least cohesive member is then dropped until
    every member's mean similarity to the others reaches the threshold: a chance
    resemblance to one member does not pull an unrelated case in, since its mean over
    the group stays low. The newcomer is never dropped (it is the case being judged)."""
    floor = threshold * FLOOR
    members = [(key, sig) for key, sig in others if similarity(newcomer, sig) >= floor]
    sigs = [newcomer, *(sig for _, sig in members)]
    pairs = [[similarity(a, b) for b in sigs] for a in sigs]
    alive = list(range(len(sigs)))
    while len(alive) > 1:
        means = {i: (sum(pairs[i][j] for j in alive) - 1.0) / (len(alive) - 1)
                 for i in alive}  # fmt: skip
        worst = min((i for i in alive if i != 0), key=means.__getitem__, default=None)
        if worst is None or means[worst] >= threshold:
            break
        alive.remove(worst)
    return [members[i - 1][0] for i in alive if i != 0]


def resembles_group(
    newcomer: Sequence[int], members: Sequence[Sequence[int]], threshold: float
) -> bool:
    """Whether the newcomer resembles a group's members by at least ``threshold`` on average."""
    if not members:
        return False
    return sum(similarity(newcomer, m) for m in members) / len(members) >= threshold
