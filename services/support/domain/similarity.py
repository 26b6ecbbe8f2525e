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

import hashlib
import re
import unicodedata
from collections.abc import Sequence

SIGNATURE_SIZE = 64
METHOD = f"minhash-{SIGNATURE_SIZE} of character trigrams of unaccented text (keyed BLAKE2b)"
_MASK = (1 << 63) - 1  # PostgreSQL bigint is signed: keep the hashes in its positive half
_NOT_WORD = re.compile(r"[^a-z0-9]+")


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

    Each trigram is hashed once (two 64-bit halves h1, h2) and the i-th hash function is
    h1 + i·h2 (Kirsch and Mitzenmacher's double hashing), so the cost is one BLAKE2b per
    trigram rather than one per trigram and function."""
    grams = trigrams(text)
    if not grams:
        return []
    mins = [_MASK] * SIGNATURE_SIZE
    for gram in grams:
        digest = hashlib.blake2b(gram.encode(), key=key[:64], digest_size=16).digest()
        h1 = int.from_bytes(digest[:8], "big")
        h2 = int.from_bytes(digest[8:], "big") | 1
        for i in range(SIGNATURE_SIZE):
            value = (h1 + i * h2) & _MASK
            if value < mins[i]:
                mins[i] = value
    return mins


def similarity(a: Sequence[int], b: Sequence[int]) -> float:
    """Estimated Jaccard similarity of the two texts' trigram sets (0 when either is empty)."""
    if not a or not b or len(a) != len(b):
        return 0.0
    return sum(1 for x, y in zip(a, b, strict=True) if x == y) / len(a)
