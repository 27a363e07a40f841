-- The markdown-lint-consumer's read model, maintained from user.created/updated/disabled.
CREATE TABLE IF NOT EXISTS lint_profiles (
  user_id       uuid        PRIMARY KEY,
  email         text        NOT NULL,
  display_name  text        NOT NULL,
  status        text        NOT NULL CHECK (status IN ('active', 'disabled')),
  rules         jsonb       NOT NULL DEFAULT '{"line_length": 100, "heading_style": "atx"}'::jsonb,
  last_event_id uuid        NOT NULL,
  version       integer     NOT NULL DEFAULT 1,
  updated_at    timestamptz NOT NULL DEFAULT now()
);
