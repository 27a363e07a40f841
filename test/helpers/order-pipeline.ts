// The pipeline of the per-aggregate order tests, in either mode: a fresh Postgres database and Redis
// key prefix, or one local SQLite file; users and their events written straight into the outbox in
// transactions that update the users table too (as mm-backend writes them); the built mm-relay and
// mm-consumer processes with the apply-order handler; and readers of what they did.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { openLocalPorts } from '../../src/adapters/sqlite/local-ports.ts';
import { UserEventTypes, userEvent } from '../../src/backend/user-events.ts';
import type { EventHeaders } from '../../src/core/envelope.ts';
import { uuidv7 } from '../../src/core/ids.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { streamOfAggregate } from '../../src/core/partitions.ts';
import type { Store } from '../../src/ports/store.ts';
import { type Completed, type RunningBinary, runBinary, startBinary } from './binaries.ts';
import { createTestDatabase } from './postgres.ts';
import { createTestRedis } from './redis.ts';

export const GROUP = 'markdown-lint-consumer';
export const TOPIC = 'identity';
export const APPLY_ORDER = fileURLToPath(new URL('../../fixtures/handlers/apply-order.mjs', import.meta.url));

export type OrderMode = {
  readonly name: 'production' | 'local';
  /** The test's own writer of users and outbox rows. */
  readonly store: Store;
  /** The connection flags every binary takes. */
  readonly args: readonly string[];
  /** Reads with `$1`-style placeholders; numbers may come back as text (Postgres bigint). */
  rows<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<Row[]>;
  close(): Promise<void>;
};

/** Every application the handler committed, with `seq` giving the commit order. */
const APPLY_LOG = {
  production:
    'create table apply_log (seq bigserial primary key, aggregate_id text not null, outbox_id bigint not null, event_id text not null, applied_by text not null)',
  local:
    'create table apply_log (seq integer primary key autoincrement, aggregate_id text not null, outbox_id integer not null, event_id text not null, applied_by text not null) strict',
} as const;

export const openProductionMode = async (): Promise<OrderMode> => {
  const db = await createTestDatabase();
  const redis = await createTestRedis();
  await db.sql.unsafe(APPLY_LOG.production);
  return {
    name: 'production',
    store: db.store,
    args: ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix],
    // biome-ignore lint/suspicious/noExplicitAny: postgres.js types its parameters by column
    rows: async (sql, params = []) => (await db.sql.unsafe(sql, params as any[])) as never,
    close: async () => {
      await redis.cleanup();
      await db.drop();
    },
  };
};

export const openLocalMode = async (): Promise<OrderMode> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-consumer-order-'));
  const file = join(dir, 'order.db');
  const ports = await openLocalPorts({ file, logger: silentLogger });
  const reader = new Database(file);
  reader.pragma('busy_timeout = 10000');
  reader.exec(APPLY_LOG.local);
  return {
    name: 'local',
    store: ports.store,
    args: ['--local', file],
    rows: async (sql, params = []) =>
      reader.prepare(sql.replace(/\$\d+/g, '?')).all(...(params as unknown[])) as never,
    close: async () => {
      reader.close();
      await ports.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

// ---- writing users and their events -------------------------------------------------------------

export type Written = {
  readonly userIds: readonly string[];
  /** Per user id, its events' ids in outbox order. */
  readonly events: ReadonlyMap<string, string[]>;
};

/** Headers of one event (user `index`, `round` 0 = created), to choose failures. */
export type HeadersFor = (index: number, round: number) => EventHeaders | undefined;

export const newUserIds = (count: number): string[] => Array.from({ length: count }, () => uuidv7());

export const createWritten = (userIds: readonly string[]): Written => ({
  userIds,
  events: new Map(userIds.map((id) => [id, []])),
});

/**
 * One transaction: round 0 creates every user, a later round renames each one; each change writes
 * the user row and its outbox event, as mm-backend does.
 */
export const writeRound = async (
  store: Store,
  written: Written,
  round: number,
  headersFor: HeadersFor = () => undefined,
): Promise<void> => {
  const events = await store.withTransaction(async (tx) => {
    // Sent at once (Postgres pipelines them on the transaction's connection), answered in order.
    const out = await Promise.all(
      written.userIds.map(async (id, index) => {
        const displayName = `User ${index} v${round}`;
        const user =
          round === 0
            ? await tx.users.insert({ id, email: `${id}@example.com`, displayName })
            : await tx.users.update(id, { displayName });
        const type = round === 0 ? UserEventTypes.created : UserEventTypes.updated;
        return userEvent(type, user, headersFor(index, round));
      }),
    );
    await tx.outbox.insert(out);
    return out;
  });
  for (const event of events) written.events.get(event.aggregateId)?.push(event.eventId);
};

export const eventCount = (written: Written): number =>
  [...written.events.values()].reduce((sum, ids) => sum + ids.length, 0);

/** The first user (index) whose partition stream is one of `streams`. */
export const userIn = (
  userIds: readonly string[],
  streams: readonly string[],
  partitions: number,
  skip: readonly number[] = [],
): number => {
  const index = userIds.findIndex(
    (id, i) => !skip.includes(i) && streams.includes(streamOfAggregate(TOPIC, id, partitions)),
  );
  if (index < 0) throw new Error(`no user falls into ${streams.join(', ')}`);
  return index;
};

// ---- the processes ------------------------------------------------------------------------------

export const startRelay = (mode: OrderMode, partitions: number): Promise<RunningBinary> =>
  startBinary('mm-relay', [
    'run',
    ...mode.args,
    ...['--partitions', String(partitions), '--poll-interval-ms', '100', '--retry-backoff-ms', '100'],
  ]);

export const startConsumer = (
  mode: OrderMode,
  name: string,
  extra: readonly string[] = [],
): Promise<RunningBinary> =>
  startBinary('mm-consumer', [
    'run',
    ...mode.args,
    ...['--name', name, '--handler', APPLY_ORDER],
    // A dead consumer's partitions move within the lease: keep it short.
    ...['--lease-ms', '2000', '--block-ms', '200', '--batch-size', '100'],
    ...extra,
  ]);

export const mmDlq = (mode: OrderMode, command: string): Promise<Completed> =>
  runBinary('mm-dlq', [...command.split(' ').filter((word) => word !== ''), ...mode.args]);

export const jsonOf = async (binary: RunningBinary, path: string): Promise<Record<string, unknown>> =>
  (await (await fetch(`${binary.url}${path}`)).json()) as Record<string, unknown>;

export type PartitionHealth = {
  readonly stream: string;
  readonly status: string;
  readonly token: number;
  readonly lease_expires_at: string;
  readonly lag_seconds?: number;
  readonly lag_entries?: number;
  readonly pending?: number;
  readonly undelivered?: number | null;
};

export type ConsumerHealth = {
  readonly consumer: string;
  readonly state: string;
  readonly partitions: readonly PartitionHealth[];
  readonly members: readonly string[];
};

/** The `consumer` check of GET /health/detailed: the partitions this consumer owns, its view of the group. */
export const consumerHealth = async (binary: RunningBinary): Promise<ConsumerHealth> => {
  const body = (await jsonOf(binary, '/health/detailed')) as { checks: { consumer: ConsumerHealth } };
  return body.checks.consumer;
};
