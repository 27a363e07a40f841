-- Stream entries a replay holds back from a consumer group: the original entries of events that
-- were dead-lettered for the group (open or closed), so moving the group back neither applies them
-- behind the operator's back nor dead-letters them again. A reprocessed copy has a new stream id and
-- is not held. The ledger's claim skips held entries.
CREATE TABLE IF NOT EXISTS replay_holds (
  consumer_group text        NOT NULL,
  event_id       uuid        NOT NULL,
  stream_id      text        NOT NULL,
  held_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (consumer_group, event_id, stream_id)
);

-- The weekly ledger cleanup removes old holds too: their entries are long trimmed by then.
CREATE OR REPLACE FUNCTION cleanup_event_ledger(retention interval DEFAULT interval '30 days')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  DELETE FROM event_ledger WHERE processed_at < now() - retention;
  GET DIAGNOSTICS removed = ROW_COUNT;
  DELETE FROM replay_holds WHERE held_at < now() - retention;
  RETURN removed;
END $$;
