-- Inbound e-mail (services.support.application.inbound_mail). No address, subject or
-- body in plain text here: addresses are keyed hashes, quarantined messages are sealed.

-- Who writes from which address: HMAC-SHA256 of the normalised address, keyed by a
-- registry key (support:mail-address-hmac), so the table cannot be reversed with a
-- dictionary of addresses. One row per (address, record): a contact and its account, or
-- a lead and the account it became, may share an address. Learnt by the support worker
-- from sales; an erased subject's rows are deleted.
CREATE TABLE IF NOT EXISTS mail_addresses (
    address_hash  bytea       NOT NULL,
    record_id     text        NOT NULL,  -- the account, contact or lead the address is of
    customer_id   text        NOT NULL,
    record_kind   text        NOT NULL,  -- account | contact | lead
    learnt_at     timestamptz NOT NULL,
    PRIMARY KEY (address_hash, record_id)
);
CREATE INDEX IF NOT EXISTS mail_addresses_by_customer ON mail_addresses (customer_id);
CREATE INDEX IF NOT EXISTS mail_addresses_by_record ON mail_addresses (record_id);

-- Messages that became no case (unknown sender, no sender, unparseable, a stranger writing
-- into a case): kept, sealed with a key of their own (subject support-mail:<id> in the
-- registry), until a supervisor files them on a case. Filing drops the sealed message:
-- its text then lives sealed in the case's events.
CREATE TABLE IF NOT EXISTS mail_quarantine (
    quarantine_id  uuid        PRIMARY KEY,
    reason         text        NOT NULL,
    message_id     text,
    sender_hash    bytea,
    sealed         jsonb,
    size_bytes     integer     NOT NULL,
    received_at    timestamptz NOT NULL,
    status         text        NOT NULL DEFAULT 'held',  -- held | filed
    case_id        uuid,
    filed_by       text,
    filed_at       timestamptz
);
CREATE INDEX IF NOT EXISTS mail_quarantine_held ON mail_quarantine (received_at)
    WHERE status = 'held';
CREATE INDEX IF NOT EXISTS mail_quarantine_by_sender ON mail_quarantine (sender_hash);
