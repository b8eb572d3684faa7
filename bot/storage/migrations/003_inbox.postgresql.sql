-- The durable update inbox: every fetched update is stored here before Telegram is told it
-- arrived, then handled one chat (lane) at a time, and kept for a while after it is done.

CREATE TABLE inbox (
    update_id       BIGINT      PRIMARY KEY,       -- Telegram's; a re-delivery is a no-op
    lane            TEXT        NOT NULL,          -- the chat (or user) whose updates run in order
    kind            TEXT        NOT NULL,          -- message, callback_query, ... (for logs)
    user_id         BIGINT,                        -- the sender, when the update names one
    payload         TEXT        NOT NULL,          -- the raw update JSON, as Telegram sent it
    received_at     TIMESTAMPTZ NOT NULL,
    attempts        INTEGER     NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    last_error      TEXT,
    done_at         TIMESTAMPTZ,
    parked_at       TIMESTAMPTZ
);
CREATE INDEX inbox_pending ON inbox (lane, update_id) WHERE done_at IS NULL AND parked_at IS NULL;
CREATE INDEX inbox_done ON inbox (done_at) WHERE done_at IS NOT NULL;
CREATE INDEX inbox_parked ON inbox (parked_at) WHERE parked_at IS NOT NULL;
