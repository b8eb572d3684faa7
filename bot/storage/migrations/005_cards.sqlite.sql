-- Saved bank cards, masked: never the full number, never a CVV.

CREATE TABLE cards (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    brand      TEXT    NOT NULL,
    first6     TEXT    NOT NULL,
    last4      TEXT    NOT NULL,
    exp_month  INTEGER NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year   INTEGER NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE UNIQUE INDEX cards_unique ON cards (user_id, first6, last4, exp_month, exp_year);
