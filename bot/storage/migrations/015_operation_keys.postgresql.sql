-- A pending operation is created once per key (a double tap on Pay confirms one operation),
-- and keeps the id of what its executor made (the order paid, the gift, the withdrawal), so the
-- follow-up shows that record, not the user's newest one.
ALTER TABLE pending_operations ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX pending_operations_idempotency_key ON pending_operations (idempotency_key);
ALTER TABLE pending_operations ADD COLUMN result_id BIGINT;
