-- Orders paid from the certificate balance, every change of their status, and what operators did.

CREATE TABLE orders (
    id               INTEGER PRIMARY KEY,
    user_id          INTEGER NOT NULL REFERENCES users (id),
    title            TEXT    NOT NULL,
    product_id       TEXT,                       -- a catalog product; NULL when an operator billed it
    quantity         INTEGER NOT NULL DEFAULT 1 CHECK (quantity BETWEEN 1 AND 10),
    amount           INTEGER NOT NULL CHECK (amount > 0),
    cashback         INTEGER NOT NULL DEFAULT 0 CHECK (cashback >= 0),  -- pending once paid
    refunded         INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND refunded <= amount),
    status           TEXT    NOT NULL DEFAULT 'awaiting_payment',
    tracking         TEXT,
    created_at       TEXT    NOT NULL,
    updated_at       TEXT    NOT NULL,
    delivered_at     TEXT
);
CREATE INDEX orders_user ON orders (user_id, id);
CREATE INDEX orders_delivered ON orders (delivered_at) WHERE status = 'delivered';

CREATE TABLE order_events (
    id         INTEGER PRIMARY KEY,
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    status     TEXT    NOT NULL,
    actor      TEXT    NOT NULL,  -- buyer, operator:<id> or system
    note       TEXT,
    created_at TEXT    NOT NULL
);
CREATE INDEX order_events_order ON order_events (order_id, id);

CREATE TABLE order_audit (
    id         INTEGER PRIMARY KEY,
    actor_id   INTEGER NOT NULL,
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    action     TEXT    NOT NULL,
    detail     TEXT,
    created_at TEXT    NOT NULL
);
