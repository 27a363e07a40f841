-- The markdown-lint-consumer's read model (mirrors migrations/postgres/004_lint_profiles.sql).
CREATE TABLE IF NOT EXISTS lint_profiles (
  user_id       TEXT    NOT NULL PRIMARY KEY,
  email         TEXT    NOT NULL,
  display_name  TEXT    NOT NULL,
  status        TEXT    NOT NULL CHECK (status IN ('active', 'disabled')),
  rules         TEXT    NOT NULL DEFAULT '{"line_length": 100, "heading_style": "atx"}' CHECK (json_valid(rules)),
  last_event_id TEXT    NOT NULL,
  version       INTEGER NOT NULL DEFAULT 1,
  updated_at    TEXT    NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT;
