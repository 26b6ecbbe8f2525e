-- Self-service: exchanges of delivered items and late-delivery refunds. Ids, amounts,
-- statuses and dates only: the customer's reason for an exchange lives sealed in its event.

-- One row per exchange, written in the command's transaction with its events. The partial
-- unique index is what makes "one open exchange per order line" hold under concurrent
-- requests: the second insert finds the first row and the command is refused.
CREATE TABLE IF NOT EXISTS exchanges (
    exchange_id   uuid        PRIMARY KEY,
    order_id      uuid        NOT NULL,
    customer_id   text        NOT NULL,
    product_id    text        NOT NULL,
    quantity      integer     NOT NULL,
    status        text        NOT NULL DEFAULT 'open',
    requested_via text        NOT NULL,
    requested_at  timestamptz NOT NULL,
    carrier       text        NOT NULL,
    label_id      text        NOT NULL,
    postage_code  text        NOT NULL,
    expires_at    timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS exchanges_one_open_per_line
    ON exchanges (order_id, product_id) WHERE status = 'open';

-- The refund ledger: at most one refund per order, whatever is retried, redelivered or
-- run concurrently. Written in the same transaction as the RefundIssued event.
CREATE TABLE IF NOT EXISTS refunds (
    order_id          uuid        PRIMARY KEY,
    refund_id         uuid        NOT NULL UNIQUE,
    customer_id       text        NOT NULL,
    amount            numeric     NOT NULL,
    currency          text        NOT NULL,
    reason            text        NOT NULL,
    provider          text        NOT NULL,
    payment_reference text        NOT NULL,
    event_id          text        NOT NULL,
    issued_at         timestamptz NOT NULL
);

-- The local payment adapter's own records (a stand-in for a PSP): one per idempotency
-- key, written in the adapter's own transaction, as a real provider would keep them.
CREATE TABLE IF NOT EXISTS local_payment_refunds (
    idempotency_key text        PRIMARY KEY,
    reference       text        NOT NULL UNIQUE,
    order_id        uuid        NOT NULL,
    amount          numeric     NOT NULL,
    currency        text        NOT NULL,
    created_at      timestamptz NOT NULL
);
