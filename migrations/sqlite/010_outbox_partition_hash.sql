-- Per-aggregate order (mirrors migrations/postgres/005_outbox_partition_hash.sql): every outbox row
-- carries the hash that picks its partition. mm_partition_hash() is registered by the driver on every
-- connection (src/adapters/sqlite/driver/driver.ts), the same as partitionHash() in
-- src/core/partitions.ts. ALTER TABLE cannot add a STORED generated column, so the table is rebuilt:
-- same columns, data and AUTOINCREMENT position (ids never go back, even on a drained outbox).
CREATE TABLE outbox_next (
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
  last_error      TEXT,
  partition_hash  INTEGER GENERATED ALWAYS AS (mm_partition_hash(aggregate_id)) STORED
) STRICT;

INSERT INTO outbox_next (id, event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers,
    occurred_at, attempts, next_attempt_at, first_failed_at, last_error)
  SELECT id, event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers,
    occurred_at, attempts, next_attempt_at, first_failed_at, last_error
  FROM outbox ORDER BY id;

DELETE FROM sqlite_sequence WHERE name = 'outbox_next';
INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_next', seq FROM sqlite_sequence WHERE name = 'outbox';

DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;

CREATE INDEX IF NOT EXISTS outbox_retry_idx ON outbox (aggregate_type, aggregate_id, id) WHERE attempts > 0;
-- A relay reading one partition's rows (partition_hash % N = p) walks them in id order.
CREATE INDEX IF NOT EXISTS outbox_partition_idx ON outbox (partition_hash, id);
