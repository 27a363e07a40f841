// Postgres side of the lease port (mirrors adapters/sqlite/store/leases.ts). Expiry is the server's
// clock_timestamp(); a take bumps the token, a renewal keeps it, a release only ends the lease's time.
import type postgres from 'postgres';
import { FencedError } from '../../core/errors.ts';
import type { GroupMember, Lease, LeaseFenceCheck, LeaseStore } from '../../ports/leases.ts';
import { assertTtlMs, fencedMessage, fenceKey } from '../lease-checks.ts';
import { pgArray } from './arrays.ts';
import { pgCall } from './errors.ts';

type LeaseRecord = {
  consumer_group: string;
  resource: string;
  holder: string;
  token: string;
  expires_ms: number;
};

const leaseOf = (row: LeaseRecord): Lease => ({
  group: row.consumer_group,
  resource: row.resource,
  holder: row.holder,
  token: Number(row.token),
  expiresAt: row.expires_ms,
});

export const createPostgresLeases = (sql: postgres.Sql): LeaseStore => ({
  acquire: (group, resource, holder, ttlMs) =>
    pgCall(async () => {
      const ttl = assertTtlMs(ttlMs);
      const [row] = await sql<LeaseRecord[]>`
        insert into leases as l (consumer_group, resource, holder, token, expires_at)
        values (${group}, ${resource}, ${holder}, 1, clock_timestamp() + ${ttl}::float8 * interval '1 millisecond')
        on conflict (consumer_group, resource) do update set
          holder = excluded.holder,
          token = case when l.holder = excluded.holder and l.expires_at > clock_timestamp()
                       then l.token else l.token + 1 end,
          expires_at = excluded.expires_at
        where l.holder = excluded.holder or l.expires_at <= clock_timestamp()
        returning consumer_group, resource, holder, token,
          floor(extract(epoch from expires_at) * 1000)::float8 as expires_ms`;
      return row ? leaseOf(row) : undefined;
    }),

  release: (fence) =>
    pgCall(async () => {
      const result = await sql`
        update leases set expires_at = least(expires_at, clock_timestamp())
        where consumer_group = ${fence.group} and resource = ${fence.resource}
          and holder = ${fence.holder} and token = ${fence.token}::bigint`;
      return result.count > 0;
    }),

  list: (group) =>
    pgCall(async () => {
      const rows = await sql<LeaseRecord[]>`
        select consumer_group, resource, holder, token,
          floor(extract(epoch from expires_at) * 1000)::float8 as expires_ms
        from leases where consumer_group = ${group} order by resource`;
      return rows.map(leaseOf);
    }),

  heartbeat: (group, member, ttlMs) =>
    pgCall(async () => {
      const ttl = assertTtlMs(ttlMs);
      // Members gone for a day are forgotten here, so restarts under new names leave no trail.
      await sql`
        with forgotten as (
          delete from lease_members
          where consumer_group = ${group} and member <> ${member}
            and expires_at < clock_timestamp() - interval '1 day')
        insert into lease_members (consumer_group, member, expires_at)
        values (${group}, ${member}, clock_timestamp() + ${ttl}::float8 * interval '1 millisecond')
        on conflict (consumer_group, member) do update set expires_at = excluded.expires_at`;
    }),

  members: (group) =>
    pgCall(async () => {
      const rows = await sql<{ member: string; expires_ms: number }[]>`
        select member, floor(extract(epoch from expires_at) * 1000)::float8 as expires_ms
        from lease_members
        where consumer_group = ${group} and expires_at > clock_timestamp()
        order by member`;
      return rows.map((row): GroupMember => ({ member: row.member, expiresAt: row.expires_ms }));
    }),

  leave: (group, member) =>
    pgCall(async () => {
      await sql`delete from lease_members where consumer_group = ${group} and member = ${member}`;
    }),
});

/**
 * Inside the caller's transaction: the matching lease rows are locked FOR SHARE, so a take of any of
 * them (an UPDATE) waits until this transaction ends and the effect commits under a live lease.
 */
export const createPostgresFences = (sql: postgres.TransactionSql): LeaseFenceCheck => ({
  assertHeld: async (fences) => {
    if (fences.length === 0) return;
    const held = await sql<LeaseRecord[]>`
      select l.consumer_group, l.resource, l.holder, l.token, 0::float8 as expires_ms
      from leases l
      join unnest(
        ${pgArray(fences.map((f) => f.group))}::text[],
        ${pgArray(fences.map((f) => f.resource))}::text[],
        ${pgArray(fences.map((f) => f.holder))}::text[],
        ${pgArray(fences.map((f) => f.token))}::bigint[]) as f (consumer_group, resource, holder, token)
        on l.consumer_group = f.consumer_group and l.resource = f.resource
          and l.holder = f.holder and l.token = f.token
      where l.expires_at > clock_timestamp()
      order by l.consumer_group, l.resource
      for share of l`;
    const live = new Set(held.map((row) => fenceKey(leaseOf(row))));
    const lost = fences.filter((f) => !live.has(fenceKey(f)));
    if (lost.length > 0) throw new FencedError(fencedMessage(lost));
  },
});
