-- Leases and group members (mirrors migrations/postgres/006_leases.sql). Expiry is epoch milliseconds
-- from SQLite's clock ('now'), which every process on the file shares.
CREATE TABLE IF NOT EXISTS leases (
  consumer_group TEXT    NOT NULL,
  resource       TEXT    NOT NULL,
  holder         TEXT    NOT NULL,
  token          INTEGER NOT NULL,
  expires_at     INTEGER NOT NULL,
  PRIMARY KEY (consumer_group, resource)
) WITHOUT ROWID, STRICT;

CREATE TABLE IF NOT EXISTS lease_members (
  consumer_group TEXT    NOT NULL,
  member         TEXT    NOT NULL,
  expires_at     INTEGER NOT NULL,
  PRIMARY KEY (consumer_group, member)
) WITHOUT ROWID, STRICT;
