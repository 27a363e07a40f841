// What the per-aggregate order tests check once the consumers are done: every event applied exactly
// once (ledger and handler effect), never after a later event of its aggregate, and every profile
// equal to its user row; and, while they run, who owns which partition.
import assert from 'node:assert/strict';
import { partitionStreams } from '../../src/core/partitions.ts';
import type { RunningBinary } from './binaries.ts';
import { eventually } from './eventually.ts';
import {
  type ConsumerHealth,
  consumerHealth,
  eventCount,
  GROUP,
  type OrderMode,
  TOPIC,
  type Written,
} from './order-pipeline.ts';

export type Applied = {
  readonly seq: number;
  readonly aggregateId: string;
  readonly outboxId: number;
  readonly eventId: string;
  readonly appliedBy: string;
};

/** The handler's record, in commit order. */
export const appliedEvents = async (mode: OrderMode, aggregateId?: string): Promise<Applied[]> => {
  const rows = await mode.rows<Record<string, unknown>>(
    aggregateId === undefined
      ? 'select seq, aggregate_id, outbox_id, event_id, applied_by from apply_log order by seq'
      : 'select seq, aggregate_id, outbox_id, event_id, applied_by from apply_log where aggregate_id = $1 order by seq',
    aggregateId === undefined ? [] : [aggregateId],
  );
  return rows.map((row) => ({
    seq: Number(row.seq),
    aggregateId: String(row.aggregate_id),
    outboxId: Number(row.outbox_id),
    eventId: String(row.event_id),
    appliedBy: String(row.applied_by),
  }));
};

/** Each application that came after an application of a later (or the same) event of its aggregate. */
export const outOfOrder = (applied: readonly Applied[]): string[] => {
  const latest = new Map<string, Applied>();
  const wrong: string[] = [];
  for (const row of applied) {
    const before = latest.get(row.aggregateId);
    if (before && before.outboxId >= row.outboxId) {
      wrong.push(
        `aggregate ${row.aggregateId}: outbox row ${row.outboxId} applied (seq ${row.seq}) after row ${before.outboxId} (seq ${before.seq})`,
      );
    }
    if (!before || before.outboxId < row.outboxId) latest.set(row.aggregateId, row);
  }
  return wrong;
};

export const count = async (
  mode: OrderMode,
  sql: string,
  params: readonly unknown[] = [],
): Promise<number> => {
  const [row] = await mode.rows<{ n: unknown }>(sql, params);
  return Number(row?.n ?? 0);
};

export const ledgerRows = (mode: OrderMode): Promise<number> =>
  count(mode, 'select count(*) as n from event_ledger where consumer_group = $1', [GROUP]);

export const appliedCount = (mode: OrderMode): Promise<number> =>
  count(mode, 'select count(*) as n from apply_log');

/** Events of the aggregate parked behind an earlier one. */
export const parkedBehind = (mode: OrderMode, userId: string): Promise<number> =>
  count(mode, 'select count(*) as n from parked_events where consumer_group = $1 and aggregate_key = $2', [
    GROUP,
    `user/${userId}`,
  ]);

/** Users whose profile differs from the user row (missing, or another email, name or status). */
export const profileMismatches = async (mode: OrderMode, userIds?: readonly string[]): Promise<string[]> => {
  const rows = await mode.rows<Record<string, unknown>>(
    `select u.id, u.email, u.display_name, u.status, p.email as p_email, p.display_name as p_display_name,
            p.status as p_status
       from users u left join lint_profiles p on p.user_id = u.id`,
  );
  const only = userIds ? new Set(userIds) : undefined;
  return rows
    .filter((row) => !only || only.has(String(row.id)))
    .filter(
      (row) =>
        row.p_email !== row.email || row.p_display_name !== row.display_name || row.p_status !== row.status,
    )
    .map((row) => `user ${row.id}: ${row.display_name}, profile ${row.p_display_name ?? 'missing'}`);
};

/**
 * Once everything was applied: exactly one ledger row per event and one application per event (none
 * of `skipped`: dead letters resolved without applying them), never out of order, every profile
 * equal to its user row and changed once per event of its user.
 */
export const assertAppliedOnceInOrder = async (
  mode: OrderMode,
  written: Written,
  skipped: readonly string[] = [],
): Promise<Applied[]> => {
  const expected = [...written.events.values()].flat().filter((id) => !skipped.includes(id));
  const ledger = await mode.rows<{ event_id: string }>(
    'select event_id from event_ledger where consumer_group = $1',
    [GROUP],
  );
  const ledgerIds = ledger.map((row) => String(row.event_id));
  assert.equal(ledgerIds.length, expected.length, 'one ledger row per event');
  assert.deepEqual(new Set(ledgerIds), new Set(expected), 'the ledger holds exactly the events written');
  const applied = await appliedEvents(mode);
  assert.equal(applied.length, expected.length, 'each event applied once (the handler record)');
  assert.deepEqual(new Set(applied.map((a) => a.eventId)), new Set(expected), 'no event applied twice');
  assert.deepEqual(outOfOrder(applied), [], 'no event applied after a later event of its aggregate');
  assert.deepEqual(await profileMismatches(mode), [], 'every profile equals its user row');
  const versions = await mode.rows<{ user_id: string; version: unknown }>(
    'select user_id, version from lint_profiles',
  );
  const wrongVersions = versions.filter((row) => {
    const events = written.events.get(String(row.user_id)) ?? [];
    return Number(row.version) !== events.filter((id) => !skipped.includes(id)).length;
  });
  assert.deepEqual(wrongVersions, [], 'each profile changed once per applied event of its user');
  assert.equal(versions.length, written.userIds.length);
  assert.equal(eventCount(written), expected.length + skipped.length);
  return applied;
};

/** Waits until the group recorded `events` events and nothing waits in parking. */
export const waitForApplied = async (mode: OrderMode, events: number, timeoutMs = 60_000): Promise<void> => {
  let seen = { ledger: 0, applied: 0, parked: 0 };
  await eventually(
    async () => {
      seen = {
        ledger: await ledgerRows(mode),
        applied: await appliedCount(mode),
        parked: await count(mode, 'select count(*) as n from parked_events'),
      };
      return seen.ledger >= events && seen.applied >= events && seen.parked === 0;
    },
    timeoutMs,
    { message: `${events} events applied (last seen ${JSON.stringify(seen)})`, intervalMs: 200 },
  );
};

/**
 * The partitions each consumer's /health/detailed reports, once they have settled: every partition of
 * the topic owned by exactly one of `consumers`, an even share each, all active, each with a live
 * lease and its lag sampled, and every consumer seeing the same members (these consumers).
 */
export const assignmentOf = async (
  consumers: readonly RunningBinary[],
  partitions: number,
  leaseMs: number,
  timeoutMs = 30_000,
): Promise<ConsumerHealth[]> => {
  const streams = partitionStreams(TOPIC, partitions).sort();
  return eventually(
    async () => {
      const asked = Date.now();
      const views = await Promise.all(consumers.map(consumerHealth));
      const names = views.map((v) => v.consumer).sort();
      const owned = views.flatMap((v) => v.partitions.map((p) => p.stream)).sort();
      const share = Math.floor(partitions / consumers.length);
      const settled =
        owned.length === streams.length &&
        owned.every((stream, i) => stream === streams[i]) &&
        views.every(
          (v) =>
            v.partitions.length >= share &&
            v.partitions.length <= share + 1 &&
            v.members.join() === names.join() &&
            v.partitions.every(
              (p) =>
                p.status === 'active' &&
                Date.parse(p.lease_expires_at) > asked &&
                Date.parse(p.lease_expires_at) <= asked + leaseMs + 2_000 &&
                typeof p.lag_entries === 'number',
            ),
        );
      if (settled) return views;
      throw new Error(`last seen ${JSON.stringify(views)}`);
    },
    timeoutMs,
    { message: `assignment over ${consumers.length} consumers`, intervalMs: 200 },
  );
};

/** The fields of a settled assignment, stated one by one. */
export const assertSensibleAssignment = (views: readonly ConsumerHealth[], leaseMs: number): void => {
  const now = Date.now();
  for (const view of views) {
    assert.equal(view.state, 'running');
    for (const p of view.partitions) {
      const where = `${view.consumer} ${p.stream}`;
      assert.match(p.stream, /^identity:\d+$/);
      assert.equal(p.status, 'active', where);
      assert.ok(Number.isSafeInteger(p.token) && p.token > 0, `${where}: fencing token ${p.token}`);
      const expires = Date.parse(p.lease_expires_at);
      assert.ok(expires <= now + leaseMs + 2_000, `${where}: lease expires at ${p.lease_expires_at}`);
      for (const field of ['lag_seconds', 'lag_entries', 'pending'] as const) {
        const value = p[field];
        assert.ok(typeof value === 'number' && value >= 0, `${where}: ${field} ${value}`);
      }
      assert.ok((p.lag_entries ?? 0) >= (p.pending ?? 0), `${where}: lag counts the pending entries`);
    }
  }
};
