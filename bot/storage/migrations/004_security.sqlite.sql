-- The payment account: password and security answers (argon2id hashes only), the lockout,
-- pending operations confirmed by the password, and an audit of operators' resets.

CREATE TABLE security (
    user_id          INTEGER PRIMARY KEY REFERENCES users (id),
    password_hash    TEXT,                 -- NULL: no password set (or reset by an operator)
    questions        TEXT    NOT NULL DEFAULT '[]',  -- JSON: three question codes
    answer_hashes    TEXT    NOT NULL DEFAULT '[]',  -- JSON: their answers' hashes, same order
    failures         INTEGER NOT NULL DEFAULT 0,     -- failed tries in the current window
    window_started   TEXT,
    locked_until     TEXT,
    locks            INTEGER NOT NULL DEFAULT 0,     -- lockouts since the last success
    updated_at       TEXT    NOT NULL
);

CREATE TABLE pending_operations (
    id           TEXT    PRIMARY KEY,      -- random, carried in callback data
    user_id      INTEGER NOT NULL REFERENCES users (id),
    kind         TEXT    NOT NULL,         -- e.g. order_payment, cashback_withdrawal
    amount       INTEGER,                  -- minor units, when money moves
    payload      TEXT    NOT NULL DEFAULT '{}',
    created_at   TEXT    NOT NULL,
    expires_at   TEXT    NOT NULL,
    executed_at  TEXT,
    cancelled_at TEXT
);
CREATE INDEX pending_operations_user ON pending_operations (user_id, created_at);

CREATE TABLE security_audit (
    id         INTEGER PRIMARY KEY,
    actor_id   INTEGER NOT NULL,           -- the operator
    user_id    INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
