-- Gift certificates: the purchases behind invoices, the certificates that sum into a user's
-- balance, and gift codes held in escrow until someone claims them.

-- One row per invoice. The invoice payload is public_id: random, and it carries no amount.
CREATE TABLE purchases (
    id                 INTEGER PRIMARY KEY,
    public_id          TEXT    NOT NULL UNIQUE,
    user_id            INTEGER NOT NULL REFERENCES users (id),
    purpose            TEXT    NOT NULL CHECK (purpose IN ('self', 'gift')),
    amount             INTEGER NOT NULL CHECK (amount > 0),
    invoice_currency   TEXT    NOT NULL,
    invoice_amount     INTEGER NOT NULL CHECK (invoice_amount > 0),
    note               TEXT,
    status             TEXT    NOT NULL DEFAULT 'created'
                               CHECK (status IN ('created', 'paid', 'refunded')),
    telegram_charge_id TEXT    UNIQUE,
    provider_charge_id TEXT,
    created_at         TEXT    NOT NULL,
    paid_at            TEXT,
    refunded_at        TEXT
);
CREATE INDEX purchases_user ON purchases (user_id, id);

CREATE TABLE gifts (
    id          INTEGER PRIMARY KEY,
    code        TEXT    NOT NULL UNIQUE,
    giver_id    INTEGER NOT NULL REFERENCES users (id),
    amount      INTEGER NOT NULL CHECK (amount > 0),
    note        TEXT,
    purchase_id INTEGER REFERENCES purchases (id),  -- NULL when given from the balance
    status      TEXT    NOT NULL DEFAULT 'open'
                        CHECK (status IN ('open', 'claimed', 'expired', 'refunded')),
    claimer_id  INTEGER REFERENCES users (id),
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL,
    closed_at   TEXT
);
CREATE INDEX gifts_giver ON gifts (giver_id, id);
CREATE INDEX gifts_due ON gifts (expires_at) WHERE status = 'open';

-- What a user's balance is made of. Spending takes from the oldest first, so SUM(remaining)
-- of a user always equals their balance account; the ledger audit checks that.
CREATE TABLE certificates (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    nominal     INTEGER NOT NULL CHECK (nominal > 0),
    remaining   INTEGER NOT NULL CHECK (remaining >= 0 AND remaining <= nominal),
    source      TEXT    NOT NULL CHECK (source IN ('bought', 'gift', 'refund')),
    purchase_id INTEGER REFERENCES purchases (id),
    gift_id     INTEGER REFERENCES gifts (id),
    created_at  TEXT    NOT NULL
);
CREATE INDEX certificates_user ON certificates (user_id, id);
CREATE INDEX certificates_spendable ON certificates (user_id, id) WHERE remaining > 0;
CREATE UNIQUE INDEX certificates_purchase ON certificates (purchase_id) WHERE purchase_id IS NOT NULL;

-- Wrong gift codes per user: a guessing limit.
CREATE TABLE gift_code_failures (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id),
    failures       INTEGER NOT NULL,
    window_started TEXT    NOT NULL,
    locked_until   TEXT
);
