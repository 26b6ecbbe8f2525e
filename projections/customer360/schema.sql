-- Layout 3 of the stored profile: support cases (open cases, SLA states, last CSAT).
-- Customer 360 read model. Idempotent: run at every start-up (services.platform.db.apply_sql).
-- Extensions live in schema public (the pools' search_path is "<schema>, public"); the
-- launcher creates them in database crm, so only create them where they are missing.
--
-- unaccent() is STABLE (its dictionary could change), so it cannot appear in an index
-- expression; crm_unaccent names the dictionary explicitly, which makes it safe to declare
-- IMMUTABLE. It lives in public, not in this projection's schema: readers query the
-- reader schema "customer360", whose views point at a versioned schema
-- ("customer360_vN", see services.platform.projection), and they must call the very
-- function the index was built on. The lock serialises projections created at once.
DO $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('crm-ddl:public-search-functions'));
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
        CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_proc
        WHERE proname = 'crm_unaccent' AND pronamespace = 'public'::regnamespace
    ) THEN
        CREATE FUNCTION public.crm_unaccent(text) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            AS $fn$ SELECT public.unaccent('public.unaccent'::regdictionary, $1) $fn$;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM pg_proc
        WHERE proname = 'crm_phone_tails' AND pronamespace = 'public'::regnamespace
    ) THEN
        -- The last 8 digits of each phone: a number typed without country or area code
        -- is found by an exact index lookup of its tail instead of a substring scan.
        CREATE FUNCTION public.crm_phone_tails(text[]) RETURNS text[]
            LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
            AS $fn$ SELECT array_agg(right(n, 8)) FROM unnest($1) AS n $fn$;
    END IF;
END
$$;

CREATE TABLE IF NOT EXISTS customer_profiles (
    customer_id    text        PRIMARY KEY,
    profile        jsonb       NOT NULL,  -- projections.customer360.profile.Profile
    display_name   text,
    search_text    text        NOT NULL,  -- names, company, places, e-mails, tax ids, phones
    -- What search compares: computed once per write, not per candidate row of every query
    -- (unaccent costs microseconds a row, and a common name has thousands of candidates).
    search_norm    text GENERATED ALWAYS AS (lower(public.crm_unaccent(search_text))) STORED,
    -- Its whole words: a typed word that is a known name or place word is found by one
    -- posting list of this array's index instead of intersecting trigram lists.
    text_words     text[] GENERATED ALWAYS AS (
        regexp_split_to_array(lower(public.crm_unaccent(search_text)), '[^a-z0-9]+')
    ) STORED,
    phones_digits  text[],                -- E.164 without "+"
    tax_numbers    text[],                -- without punctuation
    emails         text[],                -- lower case
    city           text,
    state          text,
    country        text,
    lifecycle      text,
    owner_id       text,
    merged_into    text,
    lifetime_value jsonb,                 -- {"BRL": "1299.90", ...}
    updated_at     timestamptz
);

CREATE INDEX IF NOT EXISTS customer_profiles_search_norm_trgm
    ON customer_profiles USING gin (search_norm public.gin_trgm_ops);
CREATE INDEX IF NOT EXISTS customer_profiles_text_words
    ON customer_profiles USING gin (text_words);
CREATE INDEX IF NOT EXISTS customer_profiles_phones ON customer_profiles USING gin (phones_digits);
CREATE INDEX IF NOT EXISTS customer_profiles_phone_tails
    ON customer_profiles USING gin (public.crm_phone_tails(phones_digits));
CREATE INDEX IF NOT EXISTS customer_profiles_tax ON customer_profiles USING gin (tax_numbers);
CREATE INDEX IF NOT EXISTS customer_profiles_emails ON customer_profiles USING gin (emails);
-- Segmentation for marketing: by stage, by owner.
CREATE INDEX IF NOT EXISTS customer_profiles_lifecycle ON customer_profiles (lifecycle);
CREATE INDEX IF NOT EXISTS customer_profiles_owner ON customer_profiles (owner_id);

-- The words of names, companies and places (letters only, unaccented, lower case) that
-- typo-tolerant search corrects a typed word against: pg_trgm's own recipe for
-- misspellings. Matching a typed word against this short list, then searching the
-- profiles exactly for the corrections, stays fast on millions of profiles where a fuzzy
-- match of the profiles themselves does not. Words are never removed: a stale one only
-- costs a correction that finds nobody.
CREATE TABLE IF NOT EXISTS search_words (word text PRIMARY KEY);
CREATE INDEX IF NOT EXISTS search_words_trgm ON search_words USING gin (word public.gin_trgm_ops);
