-- The identity domain written by mm-backend (mirrors migrations/postgres/003_users.sql).
CREATE TABLE IF NOT EXISTS users (
  id           TEXT NOT NULL PRIMARY KEY,
  email        TEXT NOT NULL,
  display_name TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
  created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;

-- Emails are unique whatever their case (SQLite's lower() folds ASCII letters only).
CREATE UNIQUE INDEX IF NOT EXISTS users_email_key ON users (lower(email));
