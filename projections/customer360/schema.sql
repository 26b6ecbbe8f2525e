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
END
$$;

CREATE TABLE IF NOT EXISTS customer_profiles (
    customer_id    text        PRIMARY KEY,
    profile        jsonb       NOT NULL,  -- projections.customer360.profile.Profile
    display_name   text,
    search_text    text        NOT NULL,  -- names, company, places, e-mails, tax ids, phones
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

CREATE INDEX IF NOT EXISTS customer_profiles_search_trgm
    ON customer_profiles USING gin (lower(public.crm_unaccent(search_text)) public.gin_trgm_ops);
CREATE INDEX IF NOT EXISTS customer_profiles_phones ON customer_profiles USING gin (phones_digits);
CREATE INDEX IF NOT EXISTS customer_profiles_tax ON customer_profiles USING gin (tax_numbers);
CREATE INDEX IF NOT EXISTS customer_profiles_emails ON customer_profiles USING gin (emails);
-- Segmentation for marketing: by stage, by owner.
CREATE INDEX IF NOT EXISTS customer_profiles_lifecycle ON customer_profiles (lifecycle);
CREATE INDEX IF NOT EXISTS customer_profiles_owner ON customer_profiles (owner_id);
