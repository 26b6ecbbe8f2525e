"""What the customer 360 does besides masking the profiles when a subject is erased:
its typo dictionary drops the subject's words, and the privacy context learns it is done.
"""

from __future__ import annotations

from contracts.events.privacy import PersonalDataErased
from services.platform.db import Connection
from services.platform.privacy.data_keys import record_erasure_done

# The same words as ``projector._ADD_WORDS`` adds (letters only, unaccented, lower case),
# dropped unless a remaining profile still holds the word: the dictionary otherwise
# never shrinks, but an erased name must not stay findable as a "did you mean".
# ``text_words`` (generated from search_text, indexed) holds every word of every
# profile's names and places; an erased profile's search text is empty.
_DROP_WORDS = """
DELETE FROM search_words AS s
USING (
    SELECT DISTINCT w
    FROM regexp_split_to_table(lower(public.crm_unaccent($1::text)), '[^a-z]+') AS w
    WHERE length(w) >= 2
) AS forgotten
WHERE s.word = forgotten.w
  AND NOT EXISTS (SELECT 1 FROM customer_profiles p WHERE p.text_words @> ARRAY[forgotten.w])
"""


async def forget_words(conn: Connection, words: str) -> None:
    """Drop ``words`` (an erased profile's names and places) no profile still holds."""
    if words.strip():
        await conn.execute(_DROP_WORDS, words)


async def record_forgotten(conn: Connection, erasure: PersonalDataErased, store: str) -> None:
    """Tell the privacy context, in the projection's transaction, that ``store`` forgot."""
    for subject in sorted(set(erasure.subjects)):
        await record_erasure_done(conn, erasure.request_id, store, subject)
