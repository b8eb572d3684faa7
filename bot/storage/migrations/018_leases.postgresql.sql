-- Leases, for several processes on one database: a chat's lane is handled by one replica at a
-- time, and the scheduled jobs run on one leader. A lease is renewed while it is held and taken
-- over by another process once it has lapsed.
CREATE TABLE lanes (
    lane        TEXT        PRIMARY KEY,  -- as in inbox.lane: the chat, or the user without one
    owner       TEXT        NOT NULL,     -- the replica that handles its updates now
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX lanes_owner ON lanes (owner);
CREATE TABLE leaders (
    role        TEXT        PRIMARY KEY,  -- "scheduler"
    owner       TEXT        NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL
);
