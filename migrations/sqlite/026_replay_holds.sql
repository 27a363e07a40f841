-- Stream entries a replay holds back from a consumer group (mirrors
-- migrations/postgres/026_replay_holds.sql): originals of events dead-lettered for the group.
CREATE TABLE IF NOT EXISTS replay_holds (
  consumer_group TEXT NOT NULL,
  event_id       TEXT NOT NULL,
  stream_id      TEXT NOT NULL,
  held_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  PRIMARY KEY (consumer_group, event_id, stream_id)
) WITHOUT ROWID, STRICT;
