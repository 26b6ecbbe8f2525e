CREATE TABLE IF NOT EXISTS timeline_entries (
    event_source   text        NOT NULL,
    event_id       text        NOT NULL,
    customer_id    text        NOT NULL,
    occurred_at    timestamptz NOT NULL,
    context        text        NOT NULL,
    event_type     text        NOT NULL,
    summary        text        NOT NULL,
    stream_id      text,
    stream_version integer,
    correlation_id text,
    payload        jsonb       NOT NULL,
    projected_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- No ON CONFLICT in the projector: the inbox guarantees once, and a duplicate here
    -- would surface as an error instead of hiding an inbox bug.
    PRIMARY KEY (event_source, event_id)
);
-- Cursor pagination per customer in occurrence order with a stable tie-break.
CREATE INDEX IF NOT EXISTS timeline_by_customer
    ON timeline_entries (customer_id, occurred_at, event_source, event_id);
