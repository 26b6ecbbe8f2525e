-- Which versions of each projection exist, which one readers see (``live``).
CREATE SCHEMA IF NOT EXISTS crm_projections;
CREATE TABLE IF NOT EXISTS crm_projections.versions (
    projection     text        NOT NULL,
    version        integer     NOT NULL,
    schema_name    text        NOT NULL UNIQUE,
    consumer_group text        NOT NULL,
    status         text        NOT NULL CHECK (status IN ('building', 'live', 'retired')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    live_since     timestamptz,
    PRIMARY KEY (projection, version)
);
CREATE UNIQUE INDEX IF NOT EXISTS versions_one_live
    ON crm_projections.versions (projection) WHERE status = 'live';
-- Digest of the DDL a version was built with: a changed layout means a rebuild.
ALTER TABLE crm_projections.versions ADD COLUMN IF NOT EXISTS layout text;
