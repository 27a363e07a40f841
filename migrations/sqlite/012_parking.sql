-- Parking (mirrors migrations/postgres/007_parking.sql): events waiting behind an earlier failing or
-- dead-lettered event of their aggregate, per group, and the blocks that halt an aggregate.
CREATE TABLE IF NOT EXISTS parked_events (
  consumer_group TEXT    NOT NULL,
  aggregate_key  TEXT    NOT NULL,
  stream         TEXT    NOT NULL,
  stream_id      TEXT    NOT NULL,
  event_id       TEXT    NOT NULL,
  outbox_id      INTEGER,
  fields         TEXT    NOT NULL CHECK (json_valid(fields)),
  parked_at      TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (consumer_group, event_id)
) STRICT;

CREATE INDEX IF NOT EXISTS parked_events_aggregate_idx ON parked_events (consumer_group, aggregate_key);

CREATE TABLE IF NOT EXISTS aggregate_blocks (
  consumer_group     TEXT NOT NULL,
  aggregate_key      TEXT NOT NULL,
  event_id           TEXT NOT NULL,
  dead_letter_stream TEXT NOT NULL,
  dead_letter_id     TEXT,
  since              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (consumer_group, aggregate_key)
) WITHOUT ROWID, STRICT;

CREATE INDEX IF NOT EXISTS aggregate_blocks_event_idx ON aggregate_blocks (event_id);
