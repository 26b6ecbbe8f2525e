-- Satisfaction read models, written in the transaction of the command that records the
-- answer. Ids, scores and dates only: a survey comment stays sealed in its event.

-- One row per answered CSAT survey, carrying what the KPI groups and filters by.
CREATE TABLE IF NOT EXISTS survey_ratings (
    survey_id   uuid        PRIMARY KEY,
    case_id     uuid        NOT NULL,
    team        text        NOT NULL DEFAULT '',
    agent_id    text,
    category    text        NOT NULL DEFAULT '',
    score       integer     NOT NULL,
    scale_low   integer     NOT NULL,
    scale_high  integer     NOT NULL,
    satisfied   boolean     NOT NULL,
    rated_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS survey_ratings_by_time ON survey_ratings (rated_at);
CREATE INDEX IF NOT EXISTS survey_ratings_by_case ON survey_ratings (case_id);

-- One row per SERVQUAL form: the 22 answers as ticked (item 1 first), and the importance
-- points in dimension order (tangibles, reliability, responsiveness, assurance, empathy).
CREATE TABLE IF NOT EXISTS servqual_responses (
    response_id   uuid        PRIMARY KEY,
    case_id       uuid,
    team          text        NOT NULL DEFAULT '',
    expectations  integer[]   NOT NULL,
    perceptions   integer[]   NOT NULL,
    weights       integer[],
    recorded_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS servqual_responses_by_team ON servqual_responses (team, recorded_at);
