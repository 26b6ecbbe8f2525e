-- The SLA configuration, versioned: every change (a calendar, the policy set) writes the
-- whole configuration as a new version; the latest is in force, the others are history.
-- Version 1 is the file configuration (config/sla.json), written on first use.
CREATE TABLE IF NOT EXISTS sla_config_versions (
    version     integer     PRIMARY KEY,
    config      jsonb       NOT NULL,
    change      text        NOT NULL,
    changed_by  text,
    recomputed  integer     NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL
);

-- What each case's clocks are derived from (domain.sla.ClockEvent as
-- [epoch seconds, kind, status]), kept with its clocks in every command's transaction,
-- so a configuration change recomputes open cases without reading their event streams.
CREATE TABLE IF NOT EXISTS sla_case_histories (
    case_id     uuid    PRIMARY KEY,
    policy_id   text    NOT NULL,
    is_open     boolean NOT NULL,
    history     jsonb   NOT NULL,
    team        text    NOT NULL,
    priority    text    NOT NULL,
    assignee_id text
);
CREATE INDEX IF NOT EXISTS sla_case_histories_open ON sla_case_histories (case_id)
    WHERE is_open;
