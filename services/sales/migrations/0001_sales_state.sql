-- The sales context's private state beside its event store.

-- Duplicate detection: each identity (tax id, e-mail, phone) belongs to one record.
CREATE TABLE IF NOT EXISTS identity_keys (
    key         text PRIMARY KEY,          -- tax:cnpj:11222333000181, email:..., phone:+55...
    kind        text NOT NULL,             -- account | contact
    record_id   uuid NOT NULL,
    customer_id text NOT NULL
);
CREATE INDEX IF NOT EXISTS identity_keys_record ON identity_keys (record_id);

-- Round-robin cursors of the assignment rules, one per team.
CREATE TABLE IF NOT EXISTS assignment_cursors (
    team  text PRIMARY KEY,
    turns bigint NOT NULL
);

-- Follow-up reminders waiting for their due time; fired in the same transaction that
-- appends FollowUpDue, so a reminder fires exactly once.
CREATE TABLE IF NOT EXISTS follow_up_timers (
    follow_up_id uuid PRIMARY KEY,
    due_at       timestamptz NOT NULL,
    fired_at     timestamptz
);
CREATE INDEX IF NOT EXISTS follow_up_timers_pending ON follow_up_timers (due_at)
    WHERE fired_at IS NULL;
