// SQLite side of the users port (mirrors adapters/postgres/users.ts).
import { ConflictError, NotFoundError } from '../../../core/errors.ts';
import type { User, UserPatch, UserRepository, UserStatus } from '../../../ports/users.ts';
import { sqliteErrorKind } from '../driver/errors.ts';
import { nowIso, type TxScope, uuidParam } from './scope.ts';

type UserRecord = {
  id: string;
  email: string;
  display_name: string;
  status: UserStatus;
  created_at: string;
  updated_at: string;
};

const toUser = (row: UserRecord): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  status: row.status,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

const emailTaken = (error: unknown): boolean =>
  sqliteErrorKind(error) === 'unique' &&
  /users_email_key|users\.email/.test(String((error as Error).message));

const guardEmail = <T>(email: string | undefined, write: () => T): T => {
  try {
    return write();
  } catch (error) {
    if (email !== undefined && emailTaken(error)) {
      throw new ConflictError(`a user with email ${email} already exists`, { cause: error });
    }
    throw error;
  }
};

const columns = 'id, email, display_name, status, created_at, updated_at';

export const createSqliteUsers = (scope: TxScope): UserRepository => ({
  insert: (user) =>
    scope.run((db) => {
      const at = nowIso();
      const row = guardEmail(user.email, () =>
        db
          .prepare(`INSERT INTO users (id, email, display_name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
            RETURNING ${columns}`)
          .get<UserRecord>(uuidParam(user.id, 'user id'), user.email, user.displayName, at, at),
      );
      return toUser(row as UserRecord);
    }),

  get: (id) =>
    scope.run((db) => {
      const row = db
        .prepare(`SELECT ${columns} FROM users WHERE id = ?`)
        .get<UserRecord>(uuidParam(id, 'user id'));
      return row ? toUser(row) : undefined;
    }),

  update: (id, patch: UserPatch) =>
    scope.run((db) => {
      const row = guardEmail(patch.email, () =>
        db
          .prepare(`UPDATE users SET
              email = coalesce(?, email),
              display_name = coalesce(?, display_name),
              updated_at = ?
            WHERE id = ?
            RETURNING ${columns}`)
          .get<UserRecord>(
            patch.email ?? null,
            patch.displayName ?? null,
            nowIso(),
            uuidParam(id, 'user id'),
          ),
      );
      if (!row) throw new NotFoundError(`user ${id} not found`);
      return toUser(row);
    }),

  disable: (id) =>
    scope.run((db) => {
      const userId = uuidParam(id, 'user id');
      const row = db
        .prepare(`UPDATE users SET status = 'disabled', updated_at = ? WHERE id = ? AND status = 'active'
          RETURNING ${columns}`)
        .get<UserRecord>(nowIso(), userId);
      if (row) return toUser(row);
      if (db.prepare('SELECT 1 AS found FROM users WHERE id = ?').get(userId)) {
        throw new ConflictError(`user ${id} is already disabled`);
      }
      throw new NotFoundError(`user ${id} not found`);
    }),
});
