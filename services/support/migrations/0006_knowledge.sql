-- The knowledge base's search index and the recurring-failure detector's state, kept in
-- the transaction of the command that changes them (services.support.application
-- .articles and .recurring_failures).
--
-- unaccent lives in schema public (the pools' search_path is "<schema>, public"). The
-- launcher creates it in database crm as superuser (deploy/local PG_EXTENSIONS,
-- deploy/compose/postgres-init.sql) because the crm user may not create extensions; it
-- is created here only where it is missing (a superuser running the migration), the way
-- projections/customer360/schema.sql does, under the same lock.
DO $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('crm-ddl:public-search-functions'));
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent') THEN
        CREATE EXTENSION IF NOT EXISTS unaccent WITH SCHEMA public;
    END IF;
END
$$;

-- One row per article: its working version's state and, once published, the published
-- version's text and search vector (per-locale text search configuration over the
-- unaccented text). Articles are the company's text, not a customer's.
CREATE TABLE IF NOT EXISTS articles (
    article_id         uuid        PRIMARY KEY,
    version            integer     NOT NULL,
    status             text        NOT NULL,
    locale             text        NOT NULL,
    headline           text        NOT NULL,
    content            text        NOT NULL,
    category           text,
    product_id         text,
    source_case_id     uuid,
    remarks            text        NOT NULL DEFAULT '',
    published_version  integer     NOT NULL DEFAULT 0,
    published_locale   text,
    published_headline text,
    published_content  text,
    published_category text,
    published_product  text,
    published_at       timestamptz,
    search             tsvector,
    helped             integer     NOT NULL DEFAULT 0,
    not_helped         integer     NOT NULL DEFAULT 0,
    updated_at         timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS articles_search ON articles USING gin (search)
    WHERE published_version > 0;

-- Each feedback once (the event id), so a replayed command does not count twice.
CREATE TABLE IF NOT EXISTS article_feedback (
    event_id    uuid        PRIMARY KEY,
    article_id  uuid        NOT NULL,
    case_id     uuid,
    helped      boolean     NOT NULL,
    recorded_at timestamptz NOT NULL
);

-- One keyed MinHash signature per case (domain.similarity), never its text; erased with
-- its customer. The bucket is what similar cases must share (category and product).
CREATE TABLE IF NOT EXISTS case_signatures (
    case_id      uuid        PRIMARY KEY,
    customer_id  text        NOT NULL,
    bucket       text        NOT NULL,
    signature    bigint[]    NOT NULL,
    opened_at    timestamptz NOT NULL,
    group_id     text
);
CREATE INDEX IF NOT EXISTS case_signatures_window ON case_signatures (bucket, opened_at);
CREATE INDEX IF NOT EXISTS case_signatures_by_customer ON case_signatures (customer_id);

-- Every detected recurring failure (product and human): the top-recurring-failures KPI.
CREATE TABLE IF NOT EXISTS recurring_failures (
    group_id            text        PRIMARY KEY,
    kind                text        NOT NULL,
    indicator           text        NOT NULL,
    bucket              text,
    category            text,
    product_id          text,
    team                text,
    agent_id            text,
    cases               integer     NOT NULL,
    value               double precision NOT NULL,
    threshold           double precision NOT NULL,
    window_days         integer     NOT NULL,
    proposed_problem_id uuid,
    detected_at         timestamptz NOT NULL,
    last_case_at        timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS recurring_failures_by_bucket ON recurring_failures (bucket, last_case_at);
