-- The built-in handler never moves a profile backwards: each profile keeps the outbox id of the event
-- it reflects and ignores an older one (NULL: written before positions were kept, or an event
-- without one).
ALTER TABLE lint_profiles ADD COLUMN IF NOT EXISTS last_outbox_id bigint;
