-- Late-delivery refunds decided and not yet recorded (services.support.application.refunds).
-- A row is committed on its own before the payment provider is asked, and deleted in the
-- transaction that records the refund (its event and its ledger row). A row left behind
-- means the provider may have paid while the recording failed: the retry, or the worker's
-- timer, completes that refund without judging the order again, so a refund the provider
-- made is never left unrecorded, whatever has been learnt of the order since.
CREATE TABLE IF NOT EXISTS refund_attempts (
    order_id   uuid        PRIMARY KEY,
    decided_at timestamptz NOT NULL
);
