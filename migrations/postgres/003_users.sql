-- The identity domain written by mm-backend.
CREATE TABLE IF NOT EXISTS users (
  id           uuid        PRIMARY KEY,
  email        text        NOT NULL,
  display_name text        NOT NULL,
  status       text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Emails are unique whatever their case.
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (lower(email));
