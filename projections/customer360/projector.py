"""Customer 360 projector: fold each event into the profile of every customer it names.

Runs inside the consumer's transaction (``services.platform.consumer``): the inbox has
already made redeliveries harmless, so nothing is deduplicated here. The profile row is
locked (``FOR UPDATE``), evolved with the pure reducer and written back whole, with every
search column derived from the profile in ``columns`` - the one place that mapping lives.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from contracts.events.privacy import PersonalDataErased
from contracts.events.sales import RecordsMerged
from projections.customer360.erasure import affected_by, evolve_masked
from projections.customer360.forgetting import forget_words, record_forgotten
from projections.customer360.model import Profile
from projections.customer360.profile import carries, carry
from services.platform.consumer import ConsumedEvent
from services.platform.db import Connection

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
GROUP = "projection.customer360"

_UPSERT = """
INSERT INTO customer_profiles (customer_id, profile, display_name, search_text,
    phones_digits, tax_numbers, emails, city, state, country, lifecycle, owner_id,
    merged_into, lifetime_value, updated_at)
VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15)
ON CONFLICT (customer_id) DO UPDATE SET
    profile = excluded.profile, display_name = excluded.display_name,
    search_text = excluded.search_text, phones_digits = excluded.phones_digits,
    tax_numbers = excluded.tax_numbers, emails = excluded.emails, city = excluded.city,
    state = excluded.state, country = excluded.country, lifecycle = excluded.lifecycle,
    owner_id = excluded.owner_id, merged_into = excluded.merged_into,
    lifetime_value = excluded.lifetime_value, updated_at = excluded.updated_at
"""


async def project(conn: Connection, event: ConsumedEvent) -> None:
    """Apply one consumed event to the profiles it concerns (none: skipped).

    The parameter is named ``event`` as in ``services.platform.consumer.Handler``, so the
    function type-checks as a handler.
    """
    fact, envelope = event.event, event.envelope
    if not isinstance(fact, PersonalDataErased):
        await _project_run(conn, [event])  # one code path for merges and carried cases
        return
    forgotten: list[str] = []  # the name words of profiles an erasure masks
    for customer_id in affected_by(fact, envelope.customerid):
        stored = await conn.fetchval(
            "SELECT profile FROM customer_profiles WHERE customer_id = $1 FOR UPDATE",
            customer_id,
        )
        before = Profile.model_validate_json(stored) if stored is not None else None
        after = evolve_masked(before, fact, envelope.time, customer_id=customer_id)
        await conn.execute(_UPSERT, *columns(after))
        words = name_words(after)
        if before is None or words != name_words(before):
            await conn.execute(_ADD_WORDS, words)
        if before is not None:
            forgotten.append(name_words(before))
    await forget_words(conn, " ".join(forgotten))
    await record_forgotten(conn, fact, "customer360")


async def project_batch(conn: Connection, events: Sequence[ConsumedEvent]) -> None:
    """The same rows as ``project`` on each event in turn: runs of events between
    erasures folded together (``_project_run``), each erasure on its own, so the words an
    erasure drops from the dictionary are those ``project`` would drop."""
    run: list[ConsumedEvent] = []
    for event in events:
        if isinstance(event.event, PersonalDataErased):
            await _project_run(conn, run)
            run = []
            await project(conn, event)
        else:
            run.append(event)
    await _project_run(conn, run)


_LOCK = (
    "SELECT customer_id, profile FROM customer_profiles "
    "WHERE customer_id = ANY($1::text[]) ORDER BY customer_id FOR UPDATE"
)


async def _project_run(conn: Connection, events: Sequence[ConsumedEvent]) -> None:
    """The same rows as ``project`` on each event in turn, with one read and one write per
    customer for the whole run: profiles are locked and read together, every event is
    folded in memory in its order, and each changed profile is written once.

    A support event of a customer merged away is carried to its survivors too (the
    chain of ``merged_into``), whose profiles are locked when first needed."""
    affected = [(event, affected_by(event.event, event.envelope.customerid)) for event in events]
    touched = sorted({customer for _, customers in affected for customer in customers})
    if not touched:
        return
    profiles: dict[str, Profile | None] = dict.fromkeys(touched)
    profiles |= await _locked(conn, touched)
    words_of = {customer: name_words(profile) for customer, profile in profiles.items() if profile}
    new_words: list[str] = []  # as ``project`` adds them, step by step (the dictionary keeps all)
    for event, customers in affected:
        fact, at = event.event, event.envelope.time
        for customer_id in customers:
            before = profiles.get(customer_id)
            merged = None
            if isinstance(fact, RecordsMerged):
                merged = profiles.get(fact.merged_customer_id)
            after = evolve_masked(before, fact, at, customer_id=customer_id, merged=merged)
            profiles[customer_id] = after
            words = name_words(after)
            if before is None or words != words_of.get(customer_id):
                new_words.append(words)
            words_of[customer_id] = words
        if carries(fact):
            for survivor in await _survivors(conn, profiles, customers):
                found = profiles[survivor]
                assert found is not None
                profiles[survivor] = carry(found, fact, at)
                words_of.setdefault(survivor, name_words(found))
    await conn.executemany(
        _UPSERT, [columns(profile) for profile in profiles.values() if profile is not None]
    )
    if new_words:
        await conn.execute(_ADD_WORDS, " ".join(new_words))


async def _locked(conn: Connection, customers: Sequence[str]) -> dict[str, Profile | None]:
    rows = await conn.fetch(_LOCK, sorted(customers))
    return {row["customer_id"]: Profile.model_validate_json(row["profile"]) for row in rows}


async def _survivors(
    conn: Connection, profiles: dict[str, Profile | None], customers: Sequence[str]
) -> list[str]:
    """The customers ``customers`` were merged into, through chains, loaded into
    ``profiles``; none of an event's own customers (a merge back, a cycle)."""
    found: list[str] = []
    seen = set(customers)
    pending = list(customers)
    while pending:
        targets = sorted({m for c in pending if (p := profiles.get(c)) and (m := p.merged_into)})
        targets = [t for t in targets if t not in seen]
        missing = [t for t in targets if t not in profiles]
        if missing:
            profiles |= dict.fromkeys(missing) | await _locked(conn, missing)
        targets = [t for t in targets if profiles.get(t) is not None]
        found += targets
        seen.update(targets)
        pending = targets
    return found


def columns(profile: Profile) -> tuple[Any, ...]:
    """The row of ``customer_profiles`` for ``profile``, in ``_UPSERT``'s order."""
    phones_digits = [phone.lstrip("+") for phone in profile.phones]
    tax_numbers = [tax.number for tax in profile.tax_ids]
    place = profile.address
    return (
        profile.customer_id,
        profile.model_dump_json(),
        profile.display_name,
        search_text(profile),
        phones_digits,
        tax_numbers,
        list(profile.emails),
        place.city if place else None,
        place.state if place else None,
        place.country if place else None,
        profile.lifecycle,
        profile.owner_id,
        profile.merged_into,
        orjson.dumps({c: str(v) for c, v in profile.lifetime_value.items()}).decode(),
        profile.updated_at,
    )


_ADD_WORDS = """
INSERT INTO search_words (word)
SELECT DISTINCT w FROM regexp_split_to_table(lower(public.crm_unaccent($1::text)), '[^a-z]+') AS w
WHERE length(w) >= 2
ON CONFLICT DO NOTHING
"""


def name_words(profile: Profile) -> str:
    """Names, company and places: the words a typo in a search is corrected against
    (none of an erased profile: "[erased]" is no name to correct towards)."""
    if profile.erased:
        return ""
    parts = [profile.display_name, profile.company_name, *profile.person_names]
    for place in profile.addresses:
        parts += [place.city, place.state]
    return " ".join(p for p in parts if p)


def search_text(profile: Profile) -> str:
    """Everything a person may type to find the customer, one line (accents kept:
    the index and the queries compare ``lower(crm_unaccent(...))``). Nothing for an
    erased profile: no old value, nor "[erased]", finds it."""
    if profile.erased:
        return ""
    parts: list[str] = []
    for value in (profile.display_name, profile.company_name, *profile.person_names):
        if value and value not in parts:
            parts.append(value)
    for place in profile.addresses:
        parts += [p for p in (place.city, place.state, place.country) if p]
    parts += profile.emails
    parts += [tax.number for tax in profile.tax_ids]
    parts += [phone.lstrip("+") for phone in profile.phones]
    return " ".join(parts)
