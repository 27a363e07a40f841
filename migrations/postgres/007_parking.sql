-- Parking: events that wait behind an earlier failing or dead-lettered event of their aggregate, per
-- consumer group, out of the stream's pending list; and the blocks that halt an aggregate behind a
-- dead letter until it is resolved or reprocessed. Event ids are text: a parked entry may be malformed.
CREATE TABLE IF NOT EXISTS parked_events (
  consumer_group text        NOT NULL,
  aggregate_key  text        NOT NULL,
  stream         text        NOT NULL,
  stream_id      text        NOT NULL,
  event_id       text        NOT NULL,
  outbox_id      bigint,
  -- The stream entry's flat string fields, as given (json keeps them byte for byte).
  fields         json        NOT NULL,
  parked_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (consumer_group, event_id)
);

CREATE INDEX IF NOT EXISTS parked_events_aggregate_idx ON parked_events (consumer_group, aggregate_key);

CREATE TABLE IF NOT EXISTS aggregate_blocks (
  consumer_group     text        NOT NULL,
  aggregate_key      text        NOT NULL,
  event_id           text        NOT NULL,
  dead_letter_stream text        NOT NULL,
  dead_letter_id     text,
  since              timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (consumer_group, aggregate_key)
);

-- mm-dlq asks which aggregates a dead letter holds.
CREATE INDEX IF NOT EXISTS aggregate_blocks_event_idx ON aggregate_blocks (event_id);
