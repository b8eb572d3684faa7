-- A second payment of one invoice (two devices, both pre-checkouts answered) credits nothing:
-- its Stars go back with refundStarPayment. One row per charge id keeps that refund to one,
-- whatever Telegram redelivers, and tells reconciliation that the charge is accounted for.
CREATE TABLE returned_charges (
    charge_id   TEXT        PRIMARY KEY,
    user_id     BIGINT      NOT NULL REFERENCES users (id),
    purchase_id BIGINT      NOT NULL REFERENCES purchases (id),
    currency    TEXT        NOT NULL,
    amount      BIGINT      NOT NULL CHECK (amount > 0),
    status      TEXT        NOT NULL DEFAULT 'returning'
                            CHECK (status IN ('returning', 'returned', 'failed')),
    error       TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    returned_at TIMESTAMPTZ
);
CREATE INDEX returned_charges_user ON returned_charges (user_id);
