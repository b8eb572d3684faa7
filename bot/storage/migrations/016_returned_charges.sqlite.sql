-- A second payment of one invoice (two devices, both pre-checkouts answered) credits nothing:
-- its Stars go back with refundStarPayment. One row per charge id keeps that refund to one,
-- whatever Telegram redelivers, and tells reconciliation that the charge is accounted for.
CREATE TABLE returned_charges (
    charge_id   TEXT    PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    purchase_id INTEGER NOT NULL REFERENCES purchases (id),
    currency    TEXT    NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    status      TEXT    NOT NULL DEFAULT 'returning'
                        CHECK (status IN ('returning', 'returned', 'failed')),
    error       TEXT,
    created_at  TEXT    NOT NULL,
    returned_at TEXT
);
CREATE INDEX returned_charges_user ON returned_charges (user_id);
