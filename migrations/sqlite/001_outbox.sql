-- The transactional outbox (mirrors migrations/postgres/001_outbox.sql). Times are ISO 8601 UTC text
-- with milliseconds, so they compare as text; '-infinity' sorts before every such time.
-- AUTOINCREMENT: ids never go back, even after the newest rows were drained and the file reopened.
CREATE TABLE IF NOT EXISTS outbox (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id        TEXT    NOT NULL UNIQUE,
  topic           TEXT    NOT NULL,
  event_type      TEXT    NOT NULL,
  aggregate_type  TEXT    NOT NULL,
  aggregate_id    TEXT    NOT NULL,
  payload         TEXT    NOT NULL CHECK (json_valid(payload)),
  headers         TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(headers)),
  occurred_at     TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  attempts        INTEGER NOT NULL DEFAULT 0,
  next_attempt_at TEXT    NOT NULL DEFAULT '-infinity',
  first_failed_at TEXT,
  last_error      TEXT
) STRICT;

-- Rows in backoff are few and found through this partial index; they hold back later events of
-- the same aggregate.
CREATE INDEX IF NOT EXISTS outbox_retry_idx ON outbox (aggregate_type, aggregate_id, id) WHERE attempts > 0;
