// Postgres side of the lint-profile port (mirrors adapters/sqlite/store/lint-profiles.ts).
import type postgres from 'postgres';
import type { LintProfile, LintProfileWriter } from '../../ports/lint-profiles.ts';
import { foldProfileChanges } from '../fold-profile-changes.ts';
import { pgArray } from './arrays.ts';

type ProfileRecord = {
  user_id: string;
  email: string;
  display_name: string;
  status: LintProfile['status'];
  last_event_id: string;
  last_outbox_id: string | null;
  version: number;
};

export const createPostgresLintProfiles = (sql: postgres.TransactionSql): LintProfileWriter => ({
  apply: async (changes) => {
    const folded = foldProfileChanges(changes);
    if (folded.length === 0) return;
    await sql`
      insert into lint_profiles (user_id, email, display_name, status, last_event_id, last_outbox_id, version)
      select * from unnest(
        ${pgArray(folded.map((c) => c.userId))}::uuid[],
        ${pgArray(folded.map((c) => c.email))}::text[],
        ${pgArray(folded.map((c) => c.displayName))}::text[],
        ${pgArray(folded.map((c) => c.status))}::text[],
        ${pgArray(folded.map((c) => c.lastEventId))}::uuid[],
        ${pgArray(folded.map((c) => c.lastOutboxId))}::bigint[],
        ${pgArray(folded.map((c) => c.changes))}::int[])
      on conflict (user_id) do update set
        email = excluded.email,
        display_name = excluded.display_name,
        status = excluded.status,
        last_event_id = excluded.last_event_id,
        last_outbox_id = coalesce(excluded.last_outbox_id, lint_profiles.last_outbox_id),
        version = lint_profiles.version + excluded.version,
        updated_at = now()
      where excluded.last_outbox_id is null or lint_profiles.last_outbox_id is null
        or excluded.last_outbox_id > lint_profiles.last_outbox_id`;
  },

  get: async (userId) => {
    const [row] = await sql<ProfileRecord[]>`
      select user_id, email, display_name, status, last_event_id, last_outbox_id, version
      from lint_profiles where user_id = ${userId}`;
    return row
      ? {
          userId: row.user_id,
          email: row.email,
          displayName: row.display_name,
          status: row.status,
          lastEventId: row.last_event_id,
          lastOutboxId: row.last_outbox_id === null ? null : Number(row.last_outbox_id),
          version: row.version,
        }
      : undefined;
  },
});
