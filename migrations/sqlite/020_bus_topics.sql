-- Per-topic settings of the stream shim, as Redis keeps them under `<topic>:partitions`: the recorded
-- partition count, written by the relay, read by consumers and mm-dlq.
CREATE TABLE IF NOT EXISTS bus_topics (
  topic      TEXT    PRIMARY KEY,
  partitions INTEGER NOT NULL CHECK (partitions >= 1)
) STRICT;
