-- Local mode's service registry (production keeps it in Redis): who runs where, until when.
CREATE TABLE IF NOT EXISTS service_registry (
  role          TEXT    NOT NULL,
  name          TEXT    NOT NULL,
  record        TEXT    NOT NULL CHECK (json_valid(record)),
  expires_at_ms INTEGER NOT NULL,
  PRIMARY KEY (role, name)
) STRICT;
