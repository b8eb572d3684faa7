-- Every creation has an idempotency key that a replay or a double tap repeats: an operator's
-- /admin_order is keyed by its message, a shop card's Order by the card it was pressed on.
ALTER TABLE orders ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX orders_idempotency_key ON orders (idempotency_key);

-- A user record is cached per process; every write bumps its version, so a copy read before a
-- write can never replace the copy that write returned.
ALTER TABLE users ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
