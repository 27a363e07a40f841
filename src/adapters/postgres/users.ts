// Postgres side of the users port (mirrors adapters/sqlite/store/users.ts).
import type postgres from 'postgres';
import { ConflictError, NotFoundError } from '../../core/errors.ts';
import type { User, UserPatch, UserRepository, UserStatus } from '../../ports/users.ts';

type UserRecord = {
  id: string;
  email: string;
  display_name: string;
  status: UserStatus;
  created_at: Date;
  updated_at: Date;
};

const toUser = (row: UserRecord): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  status: row.status,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const emailTaken = (error: unknown): boolean =>
  (error as { code?: string }).code === '23505' &&
  (error as { constraint_name?: string }).constraint_name === 'users_email_key';

const guardEmail = async <T>(email: string | undefined, write: () => Promise<T>): Promise<T> => {
  try {
    return await write();
  } catch (error) {
    if (email !== undefined && emailTaken(error)) {
      throw new ConflictError(`a user with email ${email} already exists`, { cause: error });
    }
    throw error;
  }
};

const columns = 'id, email, display_name, status, created_at, updated_at';

export const createPostgresUsers = (sql: postgres.TransactionSql): UserRepository => ({
  insert: async (user) => {
    const rows = await guardEmail(
      user.email,
      () => sql<UserRecord[]>`
        insert into users (id, email, display_name) values (${user.id}, ${user.email}, ${user.displayName})
        returning ${sql.unsafe(columns)}`,
    );
    return toUser(rows[0] as UserRecord);
  },

  get: async (id) => {
    const rows = await sql<UserRecord[]>`select ${sql.unsafe(columns)} from users where id = ${id}`;
    return rows[0] ? toUser(rows[0]) : undefined;
  },

  update: async (id, patch: UserPatch) => {
    const rows = await guardEmail(
      patch.email,
      () => sql<UserRecord[]>`
        update users set
          email = coalesce(${patch.email ?? null}::text, email),
          display_name = coalesce(${patch.displayName ?? null}::text, display_name),
          updated_at = now()
        where id = ${id}
        returning ${sql.unsafe(columns)}`,
    );
    if (!rows[0]) throw new NotFoundError(`user ${id} not found`);
    return toUser(rows[0]);
  },

  disable: async (id) => {
    const rows = await sql<UserRecord[]>`
      update users set status = 'disabled', updated_at = now() where id = ${id} and status = 'active'
      returning ${sql.unsafe(columns)}`;
    if (rows[0]) return toUser(rows[0]);
    const [existing] = await sql`select 1 from users where id = ${id}`;
    if (existing) throw new ConflictError(`user ${id} is already disabled`);
    throw new NotFoundError(`user ${id} not found`);
  },
});
