-- Support tickets: a user's messages relayed to the operators' chat and the replies back.

CREATE TABLE support_tickets (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    opened_at  TEXT NOT NULL,
    closed_at  TEXT
);
CREATE UNIQUE INDEX support_tickets_open ON support_tickets (user_id) WHERE closed_at IS NULL;

-- Each relayed message in the operators' chat, so that a reply to it finds its ticket.
CREATE TABLE support_messages (
    operators_message_id INTEGER PRIMARY KEY,
    ticket_id            INTEGER NOT NULL REFERENCES support_tickets (id),
    created_at           TEXT NOT NULL
);
