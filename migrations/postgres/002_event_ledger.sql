-- The idempotency ledger: one row per (event, consumer group), committed with the handler's effect.
CREATE TABLE IF NOT EXISTS event_ledger (
  event_id       uuid        NOT NULL,
  consumer_group text        NOT NULL,
  event_type     text        NOT NULL,
  stream_id      text        NOT NULL,
  result         text        NOT NULL DEFAULT 'applied' CHECK (result IN ('applied', 'skipped')),
  processed_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (event_id, consumer_group)
);

-- Rows arrive in time order, so a BRIN index serves the cleanup at almost no insert cost.
CREATE INDEX IF NOT EXISTS event_ledger_processed_at_brin ON event_ledger USING brin (processed_at);

-- The runbook's weekly maintenance: SELECT cleanup_event_ledger();
CREATE OR REPLACE FUNCTION cleanup_event_ledger(retention interval DEFAULT interval '30 days')
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  removed bigint;
BEGIN
  DELETE FROM event_ledger WHERE processed_at < now() - retention;
  GET DIAGNOSTICS removed = ROW_COUNT;
  RETURN removed;
END $$;
