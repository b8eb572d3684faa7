-- Every message to someone other than the update's sender goes through the outbox. A row may
-- name the record it shows (card: 'order:12', 'withdrawal:3', 'ticket:4'); a row that follows
-- its card edits the message last sent for that card in that chat instead of sending anew. A
-- creation's key makes a replayed event queue its notice once.
ALTER TABLE outbox ADD COLUMN card TEXT;
ALTER TABLE outbox ADD COLUMN follows_card INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN idempotency_key TEXT;
CREATE UNIQUE INDEX outbox_idempotency_key ON outbox (idempotency_key);

-- The messages the sender put in a chat for a record: where a card is edited, and which ticket
-- an operator's reply to a relayed message belongs to.
CREATE TABLE chat_messages (
    id         INTEGER PRIMARY KEY,
    chat_id    INTEGER NOT NULL,
    message_id INTEGER NOT NULL,
    card       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX chat_messages_message ON chat_messages (chat_id, message_id);
CREATE INDEX chat_messages_card ON chat_messages (chat_id, card, message_id);
