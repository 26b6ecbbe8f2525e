-- The support context's private state beside its event store. Ids, statuses and dates
-- only: a case's subject, description and messages live sealed in its events.

-- The customers and orders support may open cases about, learnt from the sales topic
-- (and other systems' purchases) by the support worker.
CREATE TABLE IF NOT EXISTS known_customers (
    customer_id   text        PRIMARY KEY,
    tier          text        NOT NULL DEFAULT 'standard',
    merged_into   text,
    erased        boolean     NOT NULL DEFAULT false,
    known_at      timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS known_orders (
    order_id                uuid        PRIMARY KEY,
    customer_id             text        NOT NULL,
    currency                text,
    total                   numeric,
    products                text[]      NOT NULL DEFAULT '{}',
    placed_at               timestamptz,
    promised_delivery_date  date,
    delivered_at            timestamptz,
    cancelled_at            timestamptz,
    returned_at             timestamptz
);
CREATE INDEX IF NOT EXISTS known_orders_by_customer ON known_orders (customer_id);

-- One row per case: what agents list and filter by, and what the service's own timers
-- (auto-close at the end of the reopen period) look for. Written in each command's
-- transaction, from the events it appends.
CREATE TABLE IF NOT EXISTS cases (
    case_id      uuid        PRIMARY KEY,
    customer_id  text        NOT NULL,
    kind         text        NOT NULL,
    channel      text        NOT NULL,
    category     text        NOT NULL,
    priority     text        NOT NULL,
    tier         text        NOT NULL,
    product_id   text,
    order_id     uuid,
    team         text        NOT NULL,
    assignee_id  text,
    status       text        NOT NULL,
    problem_id   uuid,
    merged_into  uuid,
    opened_at    timestamptz NOT NULL,
    solved_at    timestamptz,
    closed_at    timestamptz,
    reopened     integer     NOT NULL DEFAULT 0,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS cases_by_customer ON cases (customer_id, opened_at DESC);
CREATE INDEX IF NOT EXISTS cases_by_queue ON cases (team, status, priority);
CREATE INDEX IF NOT EXISTS cases_solved ON cases (solved_at) WHERE status = 'solved';

-- Problem management: the incidents of each problem.
CREATE TABLE IF NOT EXISTS problem_incidents (
    problem_id  uuid        NOT NULL,
    case_id     uuid        NOT NULL,
    linked_at   timestamptz NOT NULL,
    PRIMARY KEY (problem_id, case_id)
);

-- Inbound e-mail threading: every Message-ID the case's mail carried (in or out).
CREATE TABLE IF NOT EXISTS mail_threads (
    message_id  text        PRIMARY KEY,
    case_id     uuid        NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS mail_threads_by_case ON mail_threads (case_id);
