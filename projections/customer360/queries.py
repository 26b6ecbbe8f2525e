"""Reads of the customer 360 model: one profile, and search for inbound identification.

Search takes what a person types - a name with or without accents, part of a company
name, a city or state, a tax id with or without punctuation, a phone in any format, an
e-mail - and returns the best matches first. A hit on a merged profile counts for its
survivor (one hop), so a merged record is never returned but its data still finds the
customer.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
import phonenumbers

from services.platform.db import Connection

PHONE_REGIONS = ("BR", "AR")
"""Regions a national phone number is read in, in turn."""

MIN_PHONE_DIGITS = 8
"""A phone typed without area or country code still matches on its last digits."""

MAX_WORDS = 8

# Weights: an exact identifier beats any fuzzy name match (whose similarity is <= 1.5).
_TAX_SCORE, _EMAIL_SCORE, _PHONE_SCORE, _PHONE_SUFFIX_SCORE = 4.0, 4.0, 3.5, 3.0

_NORM = "p.search_norm"


async def get_profile(conn: Connection, customer_id: str) -> dict[str, Any] | None:
    """The profile as JSON (``Profile.model_dump(mode="json")``), or ``None``."""
    stored = await conn.fetchval(
        "SELECT profile FROM customer_profiles WHERE customer_id = $1", customer_id
    )
    if stored is None:
        return None
    found: dict[str, Any] = orjson.loads(stored)
    return found


async def search(conn: Connection, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Customers matching ``text``, best score first.

    Each: customer_id, display_name, company_name, city, state, lifecycle, score.
    Exact matches (every word, tax id, e-mail, phone) are looked up first. When they
    found fewer than ``limit`` customers, each typed word of letters is corrected against
    the dictionary of known name and place words (``search_words``, trigram similarity)
    and the profiles are searched again for the corrections: a typo costs two index
    lookups, not a fuzzy comparison with every profile.
    """
    if conn.is_in_transaction():
        return await _search(conn, text, limit)
    async with conn.transaction(readonly=True):
        return await _search(conn, text, limit)


async def _search(conn: Connection, text: str, limit: int) -> list[dict[str, Any]]:
    # A plan made for these very words: a generic plan of a prepared statement cannot
    # tell "empresa" (in every profile) from "camila" (in a few) and picked scans 50
    # times slower; and no sequential scan stopping at a LIMIT that rare words never
    # reach (every condition here has an index).
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    await conn.execute("SET LOCAL enable_seqscan = off")
    known = await known_words(conn, text)
    exact = await _run_search(conn, text, limit, None, known)
    if len(exact) >= limit:
        return exact
    corrections = await word_corrections(conn, text)
    if corrections is None:
        return exact
    fuzzy = await _run_search(conn, text, limit, corrections)
    seen = {row["customer_id"] for row in exact}
    return (exact + [row for row in fuzzy if row["customer_id"] not in seen])[:limit]


async def _run_search(
    conn: Connection,
    text: str,
    limit: int,
    corrections: list[list[str]] | None,
    known: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    sql, params = build_search_query(text, limit, corrections=corrections, known=known)
    if not sql:
        return []
    rows = await conn.fetch(sql, *params)
    return [dict(row) for row in rows]


CORRECTIONS_PER_WORD = 3
"""Known words a typed word may have meant, most similar first."""

_CORRECT = f"""
SELECT t.ord, c.word
FROM unnest($1::text[]) WITH ORDINALITY AS t(typed, ord)
CROSS JOIN LATERAL (SELECT lower(public.crm_unaccent(t.typed)) AS norm) AS q
CROSS JOIN LATERAL (
    SELECT word FROM search_words WHERE word % q.norm
    ORDER BY similarity(word, q.norm) DESC, word LIMIT {CORRECTIONS_PER_WORD}
) AS c
ORDER BY t.ord, similarity(c.word, q.norm) DESC, c.word
"""


async def known_words(conn: Connection, text: str) -> frozenset[str]:
    """The typed words of letters that are whole name or place words someone has."""
    lettered = [w for w in typed_words(text) if w.isalpha()]
    if not lettered:
        return frozenset()
    rows = await conn.fetch(
        "SELECT t.typed FROM unnest($1::text[]) AS t(typed) WHERE EXISTS ("
        "SELECT 1 FROM search_words WHERE word = lower(public.crm_unaccent(t.typed)))",
        lettered,
    )
    return frozenset(r["typed"] for r in rows)


def typed_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[\w@.+'-]+", text.strip()[:300]) if len(w) >= 2][:MAX_WORDS]


async def word_corrections(conn: Connection, text: str) -> list[list[str]] | None:
    """For each typed word, the words to look for instead; None when nothing to correct.

    Words of letters are corrected (a word nobody has comes back empty and is dropped);
    words with digits or other signs are kept as typed. None when the text has no word
    of letters whose corrections differ from the word itself (the exact search said all).
    """
    words = typed_words(text)
    if "@" in text or not words:
        return None  # an e-mail is an identifier: found exactly or not at all
    lettered = [w for w in words if w.isalpha()]
    if not lettered:
        return None
    found: dict[int, list[str]] = {}
    for row in await conn.fetch(_CORRECT, lettered):
        found.setdefault(row["ord"] - 1, []).append(row["word"])
    corrected: list[list[str]] = []
    changed = False
    for index, word in enumerate(lettered):
        alternatives = found.get(index, [])
        changed |= alternatives != [word.lower()]
        if alternatives:
            corrected.append(alternatives)
    corrected += [[w.lower()] for w in words if not w.isalpha()]
    return corrected if changed and corrected else None


CANDIDATES = 200
"""Rows scored per query at most: enough to rank a page, bounded on any table size."""


def build_search_query(
    text: str,
    limit: int,
    *,
    corrections: list[list[str]] | None = None,
    known: frozenset[str] = frozenset(),
) -> tuple[str, list[Any]]:
    """The SQL and parameters of one search phase ("" when nothing is searchable).

    Without ``corrections``: the exact phase (words, tax id, e-mail, phone); a ``known``
    word (a whole name or place word, see ``known_words``) must be a whole word of the
    profile, any other word a part of its text. With ``corrections``: every group of
    corrections must match (any word of a group) as part of the text, scored by
    similarity.
    """
    fuzzy = corrections is not None
    text = text.strip()[:300]
    limit = max(1, min(limit, 200))
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return f"${len(params)}"

    conditions: list[str] = []
    scores: list[str] = []

    words = typed_words(text)
    # A whole e-mail is an identifier: its exact match (below) says it all, and its common
    # trigrams ("com", ".br") would make a LIKE over a large table slow. Part of one
    # ("jose.silva@") is still looked for as text.
    whole_email = re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text) is not None
    # Digits and punctuation only, long enough to be a phone or a tax id: an identifier,
    # looked up exactly below, not a substring of everyone's text.
    identifier = not any(c.isalpha() for c in text) and len(re.sub(r"\D", "", text)) >= 8
    if words and not fuzzy and not whole_email and not identifier:

        def matches(word: str) -> str:
            if word in known:
                return f"p.text_words @> ARRAY[lower(public.crm_unaccent({param(word)}::text))]"
            part = param("%" + _escape_like(word) + "%")
            return f"{_NORM} LIKE lower(public.crm_unaccent({part}::text))"

        likes = " AND ".join(matches(w) for w in words)
        conditions.append(f"({likes})")
        scores.append(f"CASE WHEN {likes} THEN 0.5 ELSE 0 END")
    # Fuzzy matching is for names and places; an e-mail, a tax id or a phone typed whole
    # should find that one customer, not everyone with similar characters.
    if corrections:
        groups = [
            "("
            + " OR ".join(f"{_NORM} LIKE {param('%' + _escape_like(w) + '%')}" for w in group)
            + ")"
            for group in corrections
        ]
        conditions.append("(" + " AND ".join(groups) + ")")
        q = f"lower(public.crm_unaccent({param(' '.join(words))}::text))"
        scores.append(f"word_similarity({q}, {_NORM})")

    compact = re.sub(r"[^0-9A-Za-z]", "", text).upper()
    if not fuzzy and 11 <= len(compact) <= 14 and any(c.isdigit() for c in compact):
        cond = f"p.tax_numbers @> ARRAY[{param(compact)}::text]"
        conditions.append(cond)
        scores.append(f"CASE WHEN {cond} THEN {_TAX_SCORE} ELSE 0 END")

    if not fuzzy and "@" in text:
        cond = f"p.emails @> ARRAY[{param(text.lower())}::text]"
        conditions.append(cond)
        scores.append(f"CASE WHEN {cond} THEN {_EMAIL_SCORE} ELSE 0 END")

    digits = re.sub(r"\D", "", text)
    if not fuzzy and len(digits) >= MIN_PHONE_DIGITS:
        phones = phone_candidates(text)
        if phones:
            cond = f"p.phones_digits && {param(phones)}::text[]"
            conditions.append(cond)
            scores.append(f"CASE WHEN {cond} THEN {_PHONE_SCORE} ELSE 0 END")
        # The tail index narrows the rows; the array check makes it a phone's suffix.
        d = param(digits)
        cond = (
            f"(public.crm_phone_tails(p.phones_digits) && ARRAY[right({d}, 8)] AND EXISTS ("
            f"SELECT 1 FROM unnest(p.phones_digits) AS x(n) WHERE right(x.n, length({d})) = {d}))"
        )
        conditions.append(cond)
        scores.append(f"CASE WHEN {cond} THEN {_PHONE_SUFFIX_SCORE} ELSE 0 END")

    if not conditions:
        return "", []
    sql = f"""
        WITH hits AS (
            SELECT coalesce(p.merged_into, p.customer_id) AS target,
                   ({" + ".join(scores)})::float8 AS score
            FROM customer_profiles p
            WHERE {" OR ".join(conditions)}
            LIMIT {CANDIDATES}
        ), best AS (
            SELECT target, max(score) AS score FROM hits GROUP BY target
        )
        -- Grouped before the join: readers query views, where GROUP BY the primary key
        -- does not make the other columns available.
        SELECT t.customer_id, t.display_name, t.profile->>'company_name' AS company_name,
               t.city, t.state, t.lifecycle, b.score
        FROM best b JOIN customer_profiles t ON t.customer_id = b.target
        WHERE t.merged_into IS NULL
        ORDER BY b.score DESC, t.display_name, t.customer_id
        LIMIT {param(limit)}
    """
    return sql, params


def _e164(text: str, region: str) -> str | None:
    """The number in E.164 if ``text`` is a valid phone number read in ``region``."""
    try:
        parsed = phonenumbers.parse(text, region or None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_candidates(text: str) -> list[str]:
    """E.164 digits (no "+") ``text`` may be: as typed, and read in each of PHONE_REGIONS."""
    found: list[str] = []
    regions = ("",) if text.lstrip().startswith("+") else PHONE_REGIONS
    for region in regions:
        number = _e164(text, region)
        if number is None:
            continue
        if number[1:] not in found:
            found.append(number[1:])
    digits = re.sub(r"\D", "", text)
    if digits not in found:
        found.append(digits)
    return found


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
