-- Every data subject's own key, wrapped by the master key (services.platform.privacy).
-- Erasure destroys the key: wrapped_key becomes NULL and erased_at says when; the row
-- stays as a tombstone so nothing is ever sealed for the subject again.
CREATE TABLE IF NOT EXISTS data_keys (
    subject_id  text        PRIMARY KEY,
    wrapped_key bytea,
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    CONSTRAINT data_keys_erased_has_no_key CHECK ((wrapped_key IS NULL) = (erased_at IS NOT NULL))
);

-- A value wrapped by the master key this database was first keyed with: a process started
-- with another master key finds it unreadable and refuses to start.
CREATE TABLE IF NOT EXISTS master_key_check (
    id          smallint    PRIMARY KEY CHECK (id = 1),
    check_value bytea       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
