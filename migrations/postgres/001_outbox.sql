-- The transactional outbox: the backend inserts a row in the same transaction as the domain change;
-- the relay publishes it to the stream and deletes it.
CREATE TABLE IF NOT EXISTS outbox (
  id              bigserial PRIMARY KEY,
  event_id        uuid        NOT NULL UNIQUE,
  topic           text        NOT NULL,
  event_type      text        NOT NULL,
  aggregate_type  text        NOT NULL,
  aggregate_id    text        NOT NULL,
  payload         jsonb       NOT NULL,
  headers         jsonb       NOT NULL DEFAULT '{}'::jsonb,
  occurred_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  attempts        integer     NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
  first_failed_at timestamptz,
  last_error      text
);

-- The claim scans the primary key in id order; rows in backoff are few and found through this
-- partial index, which is what holds back later events of the same aggregate.
CREATE INDEX IF NOT EXISTS outbox_retry_idx ON outbox (aggregate_type, aggregate_id, id) WHERE attempts > 0;

-- Wake the relay on commit; one notification per statement, not per row.
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('mm_outbox', '');
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS outbox_notify ON outbox;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();
