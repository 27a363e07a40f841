// SQLite side of the lease port (mirrors adapters/postgres/leases.ts). Expiry is epoch milliseconds
// from SQLite's clock; a take bumps the token, a renewal keeps it, a release only ends the lease's time.
import { FencedError } from '../../../core/errors.ts';
import type { GroupMember, Lease, LeaseFenceCheck, LeaseStore } from '../../../ports/leases.ts';
import { assertTtlMs, fencedMessage } from '../../lease-checks.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import type { TxScope } from './scope.ts';

/** The database's clock in epoch milliseconds (constant within one statement). */
const nowMs = `CAST(ROUND((julianday('now') - 2440587.5) * 86400000.0) AS INTEGER)`;

type LeaseRecord = {
  consumer_group: string;
  resource: string;
  holder: string;
  token: number;
  expires_at: number;
};

const leaseOf = (row: LeaseRecord): Lease => ({
  group: row.consumer_group,
  resource: row.resource,
  holder: row.holder,
  token: Number(row.token),
  expiresAt: Number(row.expires_at),
});

const acquireSql = `INSERT INTO leases (consumer_group, resource, holder, token, expires_at)
  VALUES (?, ?, ?, 1, ${nowMs} + ?)
  ON CONFLICT (consumer_group, resource) DO UPDATE SET
    holder = excluded.holder,
    token = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ${nowMs}
                 THEN leases.token ELSE leases.token + 1 END,
    expires_at = excluded.expires_at
  WHERE leases.holder = excluded.holder OR leases.expires_at <= ${nowMs}
  RETURNING consumer_group, resource, holder, token, expires_at`;

const releaseSql = `UPDATE leases SET expires_at = min(expires_at, ${nowMs})
  WHERE consumer_group = ? AND resource = ? AND holder = ? AND token = ?`;

// Members gone for a day are forgotten here, so restarts under new names leave no trail.
const forgetSql = `DELETE FROM lease_members
  WHERE consumer_group = ? AND member <> ? AND expires_at < ${nowMs} - 86400000`;

const heartbeatSql = `INSERT INTO lease_members (consumer_group, member, expires_at) VALUES (?, ?, ${nowMs} + ?)
  ON CONFLICT (consumer_group, member) DO UPDATE SET expires_at = excluded.expires_at`;

const heldSql = `SELECT 1 AS held FROM leases
  WHERE consumer_group = ? AND resource = ? AND holder = ? AND token = ? AND expires_at > ${nowMs}`;

export const createSqliteLeases = (connection: SqliteConnection): LeaseStore => ({
  acquire: async (group, resource, holder, ttlMs) => {
    const ttl = assertTtlMs(ttlMs);
    const row = await connection.write(
      (db) => db.prepare(acquireSql).get<LeaseRecord>(group, resource, holder, ttl),
      'database',
    );
    return row ? leaseOf(row) : undefined;
  },

  release: (fence) =>
    connection.write(
      (db) => db.prepare(releaseSql).run(fence.group, fence.resource, fence.holder, fence.token).changes > 0,
      'database',
    ),

  list: async (group) => {
    const rows = await connection.read(
      (db) =>
        db
          .prepare(`SELECT consumer_group, resource, holder, token, expires_at
            FROM leases WHERE consumer_group = ? ORDER BY resource`)
          .all<LeaseRecord>(group),
      'database',
    );
    return rows.map(leaseOf);
  },

  heartbeat: async (group, member, ttlMs) => {
    const ttl = assertTtlMs(ttlMs);
    await connection.write((db) => {
      db.prepare(forgetSql).run(group, member);
      db.prepare(heartbeatSql).run(group, member, ttl);
    }, 'database');
  },

  members: async (group) => {
    const rows = await connection.read(
      (db) =>
        db
          .prepare(`SELECT member, expires_at FROM lease_members
            WHERE consumer_group = ? AND expires_at > ${nowMs} ORDER BY member`)
          .all<{ member: string; expires_at: number }>(group),
      'database',
    );
    return rows.map((row): GroupMember => ({ member: row.member, expiresAt: Number(row.expires_at) }));
  },

  leave: async (group, member) => {
    await connection.write(
      (db) =>
        db.prepare('DELETE FROM lease_members WHERE consumer_group = ? AND member = ?').run(group, member),
      'database',
    );
  },
});

/** Inside the caller's write transaction, which SQLite serialises: no take can slip in before the commit. */
export const createSqliteFences = (scope: TxScope): LeaseFenceCheck => ({
  assertHeld: async (fences) => {
    if (fences.length === 0) return;
    const lost = await scope.run((db) => {
      const statement = db.prepare(heldSql);
      return fences.filter((f) => statement.get(f.group, f.resource, f.holder, f.token) === undefined);
    });
    if (lost.length > 0) throw new FencedError(fencedMessage(lost));
  },
});
