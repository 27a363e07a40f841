-- Dead outbox rows (mirrors migrations/postgres/030_outbox_dead_rows.sql): a dead-lettered row stays,
-- never claimed again (next_attempt_at 'infinity' sorts after every ISO time), holding its
-- aggregate's later rows until mm-dlq closes its dead letter.
ALTER TABLE outbox ADD COLUMN dead_at TEXT;
ALTER TABLE outbox ADD COLUMN dlq_stream TEXT;
ALTER TABLE outbox ADD COLUMN dlq_id TEXT;

CREATE INDEX IF NOT EXISTS outbox_dead_idx ON outbox (dlq_stream, dlq_id) WHERE dead_at IS NOT NULL;
