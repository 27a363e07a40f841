-- Leases: time-bound ownership of a group's resources (its partitions), with fencing tokens, and the
-- group's live members. Expiry is the database's clock, so holders on different machines agree on it.
-- A released or expired lease keeps its row: the token only grows, per resource, for ever.
CREATE TABLE IF NOT EXISTS leases (
  consumer_group text        NOT NULL,
  resource       text        NOT NULL,
  holder         text        NOT NULL,
  token          bigint      NOT NULL,
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (consumer_group, resource)
);

CREATE TABLE IF NOT EXISTS lease_members (
  consumer_group text        NOT NULL,
  member         text        NOT NULL,
  expires_at     timestamptz NOT NULL,
  PRIMARY KEY (consumer_group, member)
);
