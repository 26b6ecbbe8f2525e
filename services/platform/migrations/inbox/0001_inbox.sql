-- Effectively-once consumption: a consumer's side effects and its inbox row commit together.
CREATE TABLE IF NOT EXISTS inbox (
    consumer      text        NOT NULL,
    event_source  text        NOT NULL,
    event_id      text        NOT NULL,
    topic         text        NOT NULL,
    kafka_partition integer   NOT NULL,
    kafka_offset  bigint      NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_source, event_id)
);
