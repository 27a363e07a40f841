-- The idempotency ledger (mirrors migrations/postgres/002_event_ledger.sql): one row per
-- (event, consumer group), committed with the handler's effect.
CREATE TABLE IF NOT EXISTS event_ledger (
  event_id       TEXT NOT NULL,
  consumer_group TEXT NOT NULL,
  event_type     TEXT NOT NULL,
  stream_id      TEXT NOT NULL,
  result         TEXT NOT NULL DEFAULT 'applied' CHECK (result IN ('applied', 'skipped')),
  processed_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (event_id, consumer_group)
) WITHOUT ROWID, STRICT;

-- Serves the retention cleanup (SQLite has no stored functions: the store's ledger.cleanup runs it).
CREATE INDEX IF NOT EXISTS event_ledger_processed_at_idx ON event_ledger (processed_at);
