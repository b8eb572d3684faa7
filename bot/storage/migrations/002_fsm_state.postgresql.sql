-- Conversation state (aiogram FSM), so that a restart or a deploy keeps a half-done dialogue.
-- Never holds secrets: handlers hash or discard passwords, answers and card numbers first.

CREATE TABLE fsm_state (
    key        TEXT        PRIMARY KEY,   -- aiogram StorageKey, built by DefaultKeyBuilder
    state      TEXT,
    data       TEXT        NOT NULL DEFAULT '{}',  -- JSON object
    updated_at TIMESTAMPTZ NOT NULL
);
