-- The SLA clocks of each case, derived from its status history in every command's
-- transaction (services.support.application.sla_clocks): one row per (case, metric),
-- the current cycle's; and which cycle's warning and breach were already emitted.
CREATE TABLE IF NOT EXISTS sla_clocks (
    case_id          uuid        NOT NULL,
    metric           text        NOT NULL,
    cycle            integer     NOT NULL,
    policy_id        text        NOT NULL,
    policy_version   integer     NOT NULL,
    calendar_id      text        NOT NULL,
    calendar_version integer     NOT NULL,
    target_minutes   integer     NOT NULL,
    started_at       timestamptz NOT NULL,
    due_at           timestamptz,
    warn_at          timestamptz,
    fulfilled_at     timestamptz,
    paused           boolean     NOT NULL,
    breached         boolean     NOT NULL,
    elapsed_seconds  integer     NOT NULL,
    team             text        NOT NULL,
    priority         text        NOT NULL,
    assignee_id      text,
    warned_cycle     integer     NOT NULL DEFAULT 0,
    breached_cycle   integer     NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL,
    PRIMARY KEY (case_id, metric)
);
CREATE INDEX IF NOT EXISTS sla_clocks_due ON sla_clocks (due_at)
    WHERE fulfilled_at IS NULL AND NOT paused;
CREATE INDEX IF NOT EXISTS sla_clocks_warn ON sla_clocks (warn_at)
    WHERE fulfilled_at IS NULL AND NOT paused;
