-- Per-aggregate order: every outbox row carries the hash that picks its partition (partition =
-- partition_hash mod N), computed by the database so rows from any writer get it and N is not part of
-- the schema. The same as partitionHash() in src/core/partitions.ts: the first 7 hex digits (28 bits)
-- of md5(aggregate_id) as an integer.
CREATE OR REPLACE FUNCTION mm_partition_hash(aggregate_id text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT ('x' || substr(md5(aggregate_id), 1, 7))::bit(28)::integer $$;

ALTER TABLE outbox ADD COLUMN IF NOT EXISTS partition_hash integer
  GENERATED ALWAYS AS (mm_partition_hash(aggregate_id)) STORED;

-- A relay reading one partition's rows (partition_hash % N = p) walks them in id order.
CREATE INDEX IF NOT EXISTS outbox_partition_idx ON outbox (partition_hash, id);
