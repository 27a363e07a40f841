-- A row the relay dead-lettered stays in the outbox as dead: it keeps the full event (the dead letter
-- may hold only a preview) and, with attempts > 0 and next_attempt_at 'infinity', the claim's
-- per-aggregate hold keeps its aggregate's later rows waiting behind it. mm-dlq resolve, reprocess or
-- purge of the dead letter (dlq_stream, dlq_id) deletes the row and so releases them.
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS dead_at timestamptz;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS dlq_stream text;
ALTER TABLE outbox ADD COLUMN IF NOT EXISTS dlq_id text;

CREATE INDEX IF NOT EXISTS outbox_dead_idx ON outbox (dlq_stream, dlq_id) WHERE dead_at IS NOT NULL;
