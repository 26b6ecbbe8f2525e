-- Event store and outbox in one table: an appended event is by definition to be published.
CREATE TABLE IF NOT EXISTS events (
    global_position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- xid of the appending transaction: the relay tails by (transaction_id, global_position)
    -- below the snapshot horizon, so an event that commits late is never skipped.
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       text        NOT NULL,
    stream_version  integer     NOT NULL CHECK (stream_version >= 1),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    source          text        NOT NULL,
    customer_id     text,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    correlation_id  text,
    causation_id    text,
    payload         jsonb       NOT NULL,
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);
CREATE INDEX IF NOT EXISTS events_relay_order ON events (transaction_id, global_position);

CREATE TABLE IF NOT EXISTS relay_checkpoints (
    relay               text PRIMARY KEY,
    last_transaction_id xid8        NOT NULL,
    last_position       bigint      NOT NULL,
    published_total     bigint      NOT NULL DEFAULT 0,
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Commands carrying an idempotency key: a repeat returns the first result, appends nothing.
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key        text PRIMARY KEY,
    result     jsonb       NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Which request the key answered (method, path, body digest): reuse for another is refused.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS request_hash text;
