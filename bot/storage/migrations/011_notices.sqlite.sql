-- The sender paces each chat from the time its last notice went out: find that time quickly.
CREATE INDEX outbox_chat_sent ON outbox (chat_id, sent_at) WHERE sent_at IS NOT NULL;
-- When the "confirm receipt" reminder went out for a delivered order: it goes once.
ALTER TABLE orders ADD COLUMN reminded_at TEXT;
