// SQLite side of the lint-profile port (mirrors adapters/postgres/lint-profiles.ts).
import type { LintProfile, LintProfileWriter } from '../../../ports/lint-profiles.ts';
import { foldProfileChanges } from '../../fold-profile-changes.ts';
import { nowIso, type TxScope, uuidParam } from './scope.ts';

type ProfileRecord = {
  user_id: string;
  email: string;
  display_name: string;
  status: LintProfile['status'];
  last_event_id: string;
  last_outbox_id: number | null;
  version: number;
};

const upsertSql = `INSERT INTO lint_profiles
    (user_id, email, display_name, status, last_event_id, last_outbox_id, version, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (user_id) DO UPDATE SET
    email = excluded.email,
    display_name = excluded.display_name,
    status = excluded.status,
    last_event_id = excluded.last_event_id,
    last_outbox_id = coalesce(excluded.last_outbox_id, lint_profiles.last_outbox_id),
    version = lint_profiles.version + excluded.version,
    updated_at = excluded.updated_at
  WHERE excluded.last_outbox_id IS NULL OR lint_profiles.last_outbox_id IS NULL
    OR excluded.last_outbox_id > lint_profiles.last_outbox_id`;

export const createSqliteLintProfiles = (scope: TxScope): LintProfileWriter => ({
  apply: async (changes) => {
    const folded = foldProfileChanges(changes);
    if (folded.length === 0) return;
    await scope.run((db) => {
      const statement = db.prepare(upsertSql);
      const at = nowIso();
      for (const c of folded) {
        statement.run(
          uuidParam(c.userId, 'user id'),
          c.email,
          c.displayName,
          c.status,
          uuidParam(c.lastEventId, 'last event id'),
          c.lastOutboxId,
          c.changes,
          at,
        );
      }
    });
  },

  get: (userId) =>
    scope.run((db) => {
      const row = db
        .prepare(`SELECT user_id, email, display_name, status, last_event_id, last_outbox_id, version
          FROM lint_profiles WHERE user_id = ?`)
        .get<ProfileRecord>(uuidParam(userId, 'user id'));
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
    }),
});
