-- The cashback programme: accruals with their status and dates, withdrawal requests, the
-- notices outbox and which notices each user wants.

-- One row per cashback earned. amount is what the user gets (less anything voided); the money
-- sits in cashback_pending while pending or on_hold and in cashback_available after.
CREATE TABLE cashback_accruals (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    source       TEXT    NOT NULL CHECK (source IN ('certificate', 'order')),
    order_id     INTEGER REFERENCES orders (id),
    purchase_id  INTEGER REFERENCES purchases (id),
    amount       INTEGER NOT NULL CHECK (amount >= 0),
    voided       INTEGER NOT NULL DEFAULT 0 CHECK (voided >= 0),
    status       TEXT    NOT NULL
                         CHECK (status IN ('pending', 'on_hold', 'available', 'voided')),
    reason       TEXT,   -- why it was voided: order_cancelled, dispute_won, refunded
    created_at   TEXT    NOT NULL,
    hold_until   TEXT,
    available_at TEXT,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX cashback_accruals_user ON cashback_accruals (user_id, id);
CREATE UNIQUE INDEX cashback_accruals_order ON cashback_accruals (order_id) WHERE order_id IS NOT NULL;
CREATE UNIQUE INDEX cashback_accruals_purchase ON cashback_accruals (purchase_id)
    WHERE purchase_id IS NOT NULL;
CREATE INDEX cashback_accruals_due ON cashback_accruals (hold_until) WHERE status = 'on_hold';

-- Orders paid before this migration: their cashback gets a row with what the ledger holds.
INSERT INTO cashback_accruals
    (user_id, source, order_id, amount, voided, status, reason, created_at, available_at,
     updated_at)
SELECT user_id, 'order', id,
       cashback - cashback * refunded / amount,
       cashback * refunded / amount,
       CASE
           WHEN status IN ('completed', 'dispute_lost') THEN 'available'
           WHEN status = 'dispute_won' AND refunded < amount THEN 'available'
           WHEN status IN ('cancelled', 'dispute_won') THEN 'voided'
           ELSE 'pending'
       END,
       CASE WHEN status = 'cancelled' THEN 'order_cancelled'
            WHEN status = 'dispute_won' THEN 'dispute_won' END,
       created_at,
       CASE WHEN status IN ('completed', 'dispute_lost', 'dispute_won') THEN updated_at END,
       updated_at
FROM orders
WHERE cashback > 0 AND status <> 'awaiting_payment'
  AND NOT (status = 'cancelled' AND refunded = 0);

CREATE TABLE withdrawals (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id),
    operation_id TEXT    NOT NULL UNIQUE,   -- the pending operation the password confirmed
    amount       INTEGER NOT NULL CHECK (amount > 0),
    card_id      INTEGER NOT NULL,
    card_last4   TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'requested'
                         CHECK (status IN ('requested', 'paid', 'rejected')),
    reason       TEXT,
    decided_by   INTEGER,
    created_at   TEXT    NOT NULL,
    decided_at   TEXT
);
CREATE INDEX withdrawals_user ON withdrawals (user_id, id);

-- Notices written in the same transaction as their event; the sender renders them in the
-- user's language at send time. chat_id is the user for a person, or the operators' chat.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    chat_id         INTEGER NOT NULL,
    kind            TEXT    NOT NULL,   -- what a user can switch off, e.g. cashback_available
    template        TEXT    NOT NULL,   -- the message key
    params          TEXT    NOT NULL,   -- JSON
    created_at      TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT    NOT NULL,
    lease_until     TEXT,
    sent_at         TEXT,
    failed_at       TEXT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE sent_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_chat ON outbox (chat_id, id) WHERE sent_at IS NULL AND failed_at IS NULL;

-- Notice kinds a user switched off; everything else is on.
CREATE TABLE notice_muted (
    user_id INTEGER NOT NULL REFERENCES users (id),
    kind    TEXT    NOT NULL,
    PRIMARY KEY (user_id, kind)
);

-- Certificates bought with moved cashback: SQLite cannot change a CHECK, so the table is rebuilt.
CREATE TABLE certificates_new (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    nominal     INTEGER NOT NULL CHECK (nominal > 0),
    remaining   INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= nominal),
    source      TEXT    NOT NULL CHECK (source IN ('bought', 'gift', 'refund', 'cashback')),
    purchase_id INTEGER REFERENCES purchases (id),
    gift_id     INTEGER REFERENCES gifts (id),
    created_at  TEXT    NOT NULL
);
INSERT INTO certificates_new SELECT id, user_id, nominal, remaining, source, purchase_id, gift_id,
    created_at FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_new RENAME TO certificates;
CREATE INDEX certificates_user ON certificates (user_id, id);
CREATE INDEX certificates_spendable ON certificates (user_id, id) WHERE remaining > 0;
CREATE UNIQUE INDEX certificates_purchase ON certificates (purchase_id) WHERE purchase_id IS NOT NULL;
