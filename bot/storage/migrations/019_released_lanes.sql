-- A released lane keeps its row: owner '' and, in previous_owner, the process that held it last.
-- The next claim returns who held the lane before it, so a process that takes back its own lane
-- keeps what it has cached of that chat, and forgets it only when another process came between.
ALTER TABLE lanes ADD COLUMN previous_owner TEXT;
