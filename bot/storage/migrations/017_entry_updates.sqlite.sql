-- Which update wrote an entry: when the answer to an update is lost (Telegram down, the
-- process killed), what the person hears next says what did happen to their money.
ALTER TABLE entries ADD COLUMN update_id INTEGER;
CREATE INDEX entries_update ON entries (update_id) WHERE update_id IS NOT NULL;
