-- The privacy context's records beside its event store: erasure requests, legal holds,
-- and the audit trail. Ids and reasons only: no personal data of the subjects.

CREATE TABLE IF NOT EXISTS erasure_requests (
    request_id       uuid        PRIMARY KEY,
    subject_id       text        NOT NULL,
    also_erased      text[]      NOT NULL DEFAULT '{}',
    basis            text        NOT NULL,
    note             text,
    requested_by     text        NOT NULL,
    requested_role   text        NOT NULL,
    correlation_id   text,
    requested_at     timestamptz NOT NULL,
    keys_destroyed_at timestamptz NOT NULL,
    retained         text[]      NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS erasure_requests_by_subject ON erasure_requests (subject_id);

CREATE TABLE IF NOT EXISTS legal_holds (
    hold_id     uuid        PRIMARY KEY,
    subject_id  text        NOT NULL,
    reason      text        NOT NULL,
    until       timestamptz,
    placed_by   text        NOT NULL,
    placed_at   timestamptz NOT NULL,
    released_by text,
    released_at timestamptz
);
CREATE INDEX IF NOT EXISTS legal_holds_by_subject ON legal_holds (subject_id);

-- Who did what about whom: every export, erasure request and hold placed or released.
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id       bigserial   PRIMARY KEY,
    at             timestamptz NOT NULL,
    actor_id       text        NOT NULL,
    actor_role     text        NOT NULL,
    action         text        NOT NULL,  -- export | erasure_requested | hold_placed | hold_released
    subject_id     text        NOT NULL,
    target_id      text,                  -- the erasure request or hold it concerns
    correlation_id text
);
CREATE INDEX IF NOT EXISTS audit_log_by_subject ON audit_log (subject_id, at);
