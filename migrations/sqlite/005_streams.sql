-- The stream shim: Redis Streams kept in this file so every process of a local deployment shares them.
-- Entry ids are (ms, seq) integer pairs; a stream's last id, entries-added counter and largest
-- deleted id live on after deletes and trims, as in Redis (they drive id generation and group lag).
CREATE TABLE IF NOT EXISTS bus_streams (
  id              INTEGER PRIMARY KEY,
  name            TEXT    NOT NULL UNIQUE,
  length          INTEGER NOT NULL DEFAULT 0,
  last_ms         INTEGER NOT NULL DEFAULT 0,
  last_seq        INTEGER NOT NULL DEFAULT 0,
  entries_added   INTEGER NOT NULL DEFAULT 0,
  max_deleted_ms  INTEGER NOT NULL DEFAULT 0,
  max_deleted_seq INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE IF NOT EXISTS bus_entries (
  stream_id INTEGER NOT NULL,
  ms        INTEGER NOT NULL,
  seq       INTEGER NOT NULL,
  -- The flat string fields as one JSON object.
  fields    TEXT    NOT NULL,
  PRIMARY KEY (stream_id, ms, seq)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS bus_groups (
  id           INTEGER PRIMARY KEY,
  stream_id    INTEGER NOT NULL,
  name         TEXT    NOT NULL,
  last_ms      INTEGER NOT NULL,
  last_seq     INTEGER NOT NULL,
  -- Redis `entries-read`; NULL when it cannot be known (after SETID, or across deleted entries).
  entries_read INTEGER,
  UNIQUE (stream_id, name)
) STRICT;

CREATE TABLE IF NOT EXISTS bus_consumers (
  group_id INTEGER NOT NULL,
  name     TEXT    NOT NULL,
  PRIMARY KEY (group_id, name)
) WITHOUT ROWID, STRICT;

-- The pending entries list of each group: delivered, not yet acknowledged.
CREATE TABLE IF NOT EXISTS bus_pending (
  group_id     INTEGER NOT NULL,
  ms           INTEGER NOT NULL,
  seq          INTEGER NOT NULL,
  consumer     TEXT    NOT NULL,
  deliveries   INTEGER NOT NULL,
  -- Epoch milliseconds of the last delivery: idle time is now minus this.
  delivered_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, ms, seq)
) WITHOUT ROWID, STRICT;

CREATE INDEX IF NOT EXISTS bus_pending_consumer_idx ON bus_pending (group_id, consumer, ms, seq);
