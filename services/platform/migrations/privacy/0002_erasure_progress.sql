-- Where each erasure has been carried out: every store that keeps personal data (each
-- projection, each context's private state) writes its row in the same transaction that
-- forgets the subject there, so an erasure's progress is read here, never guessed.
CREATE TABLE IF NOT EXISTS erasure_progress (
    request_id uuid        NOT NULL,
    store      text        NOT NULL,  -- "timeline", "customer360", "sales" …
    subject_id text        NOT NULL,
    done_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (request_id, store)
);
