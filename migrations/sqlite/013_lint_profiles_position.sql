-- The built-in handler never moves a profile backwards (mirrors
-- migrations/postgres/008_lint_profiles_position.sql).
ALTER TABLE lint_profiles ADD COLUMN last_outbox_id INTEGER;
