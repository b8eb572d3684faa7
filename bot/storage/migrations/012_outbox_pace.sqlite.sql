-- A claim excludes chats with a row sent within the last second, leased, or backing off: each
-- list is read by a range over one of these (or outbox_due), never by a scan of the queue.
CREATE INDEX outbox_sent_at ON outbox (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX outbox_leased ON outbox (lease_until) WHERE lease_until IS NOT NULL;
