-- The stream shim's consumer heartbeats (Redis: the hash consumer-heartbeats:<group>): the last time
-- a running consumer renewed its name, so names nobody holds can be removed from their group.
CREATE TABLE IF NOT EXISTS bus_heartbeats (
  group_name TEXT    NOT NULL,
  consumer   TEXT    NOT NULL,
  at_ms      INTEGER NOT NULL,
  PRIMARY KEY (group_name, consumer)
) WITHOUT ROWID, STRICT;
