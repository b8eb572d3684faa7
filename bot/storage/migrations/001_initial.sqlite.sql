-- Users and the double-entry ledger.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,            -- Telegram user id
    first_name      TEXT    NOT NULL DEFAULT '',
    client_language TEXT,                           -- language_code the client reported
    language        TEXT,                           -- chosen with /language; NULL follows the client
    reachable       INTEGER NOT NULL DEFAULT 1 CHECK (reachable IN (0, 1)),
    created_at      TEXT    NOT NULL,
    updated_at      TEXT    NOT NULL
);

-- User accounts (balance, cashback_pending, cashback_available) have a user_id;
-- system accounts (telegram_payments, orders, ...) have none and may go negative.
CREATE TABLE accounts (
    id             INTEGER PRIMARY KEY,
    user_id        INTEGER REFERENCES users (id),
    kind           TEXT    NOT NULL,
    currency       TEXT    NOT NULL,
    balance        INTEGER NOT NULL DEFAULT 0,
    allow_negative INTEGER NOT NULL DEFAULT 0 CHECK (allow_negative IN (0, 1)),
    CHECK (allow_negative = 1 OR balance >= 0),
    CHECK (user_id IS NOT NULL OR allow_negative = 1)
);
CREATE UNIQUE INDEX accounts_user_kind ON accounts (user_id, kind) WHERE user_id IS NOT NULL;
CREATE UNIQUE INDEX accounts_system_kind ON accounts (kind) WHERE user_id IS NULL;

CREATE TABLE entries (
    id              INTEGER PRIMARY KEY,
    idempotency_key TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,               -- what happened, e.g. certificate_purchase
    user_id         INTEGER REFERENCES users (id),  -- whose history it belongs to
    fingerprint     TEXT    NOT NULL,               -- detects a key reused for another operation
    created_at      TEXT    NOT NULL
);
CREATE INDEX entries_user ON entries (user_id, id);

CREATE TABLE postings (
    id            INTEGER PRIMARY KEY,
    entry_id      INTEGER NOT NULL REFERENCES entries (id),
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    amount        INTEGER NOT NULL CHECK (amount <> 0),
    balance_after INTEGER NOT NULL
);
CREATE INDEX postings_account ON postings (account_id, id);
CREATE INDEX postings_entry ON postings (entry_id);
