// The pipeline of the per-aggregate order tests, in either mode: a fresh Postgres database and Redis
// key prefix (on the machine's Redis or a given one, a cluster say), or one local SQLite file; users
// created through mm-backend, or they and their events written straight into the outbox in
// transactions that update the users table too (as mm-backend writes them); the built mm-backend,
// mm-relay and mm-consumer processes with the apply-order handler; and readers of what they did.
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
import type { Store, Tx } from '../../src/ports/store.ts';
import type { User } from '../../src/ports/users.ts';
import { type Completed, type RunningBinary, runBinary, startBinary } from './binaries.ts';
import { createTestDatabase } from './postgres.ts';
import { createTestRedis } from './redis.ts';
import { postUser } from './users-api.ts';

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

/** Streams under `prefix` at `url`; `cleanup` removes them. */
export type ModeRedis = { readonly url: string; readonly prefix: string; cleanup(): Promise<void> };

/** A fresh database, and a fresh prefix on the machine's Redis unless `on` is given. */
export const openProductionMode = async (on?: ModeRedis): Promise<OrderMode> => {
  const db = await createTestDatabase();
  const redis = on ?? (await createTestRedis());
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

const displayName = (index: number, round: number): string => `User ${index} v${round}`;

type RenamedRow = {
  id: string;
  email: string;
  display_name: string;
  status: User['status'];
  created_at: Date;
  updated_at: Date;
  position: string;
};

/**
 * Postgres: a later round's renames of every user in one statement, which the tens of thousands of
 * events of the cluster test need (a statement per user takes up to a second per round of 400 on a
 * busy machine); the users come back in the order of `userIds`.
 */
const renameAll = async (tx: Tx, userIds: readonly string[], round: number): Promise<User[]> => {
  const rows = await tx.query<RenamedRow>(
    `update users u set display_name = n.name, updated_at = now()
       from unnest(string_to_array($1, ',')::uuid[], string_to_array($2, ',')) with ordinality
            as n(id, name, position)
      where u.id = n.id
      returning u.id, u.email, u.display_name, u.status, u.created_at, u.updated_at, n.position`,
    [userIds.join(','), userIds.map((_, index) => displayName(index, round)).join(',')],
  );
  if (rows.length !== userIds.length) throw new Error(`${userIds.length - rows.length} users not found`);
  return rows
    .sort((a, b) => Number(a.position) - Number(b.position))
    .map((row) => ({
      id: row.id,
      email: row.email,
      displayName: row.display_name,
      status: row.status,
      createdAt: new Date(row.created_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    }));
};

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
    const users =
      round > 0 && store.kind === 'postgres'
        ? await renameAll(tx, written.userIds, round)
        : // Sent at once (Postgres pipelines them on the transaction's connection), answered in order.
          await Promise.all(
            written.userIds.map((id, index) =>
              round === 0
                ? tx.users.insert({ id, email: `${id}@example.com`, displayName: displayName(index, 0) })
                : tx.users.update(id, { displayName: displayName(index, round) }),
            ),
          );
    const type = round === 0 ? UserEventTypes.created : UserEventTypes.updated;
    const out = users.map((user, index) => userEvent(type, user, headersFor(index, round)));
    await tx.outbox.insert(out);
    return out;
  });
  for (const event of events) written.events.get(event.aggregateId)?.push(event.eventId);
};

/**
 * Creates `count` users through mm-backend's API, `concurrency` requests at a time: user `index` is
 * `User <index> v0`, as round 0 of `writeRound` names it, so later rounds can follow.
 */
export const createUsersThroughBackend = async (
  backend: RunningBinary,
  count: number,
  concurrency = 8,
): Promise<Written> => {
  const tag = uuidv7();
  const created: Array<{ id: string; eventId: string }> = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) {
      const body = { email: `user${index}.${tag}@example.com`, display_name: displayName(index, 0) };
      created[index] = await postUser(backend.url, body);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const written = createWritten(created.map((user) => user.id));
  for (const user of created) written.events.get(user.id)?.push(user.eventId);
  return written;
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

export const startBackend = (mode: OrderMode): Promise<RunningBinary> =>
  startBinary('mm-backend', ['serve', ...mode.args]);

export const startRelay = (
  mode: OrderMode,
  partitions: number,
  extra: readonly string[] = [],
): Promise<RunningBinary> =>
  startBinary('mm-relay', [
    'run',
    ...mode.args,
    ...['--partitions', String(partitions), '--poll-interval-ms', '100', '--retry-backoff-ms', '100'],
    ...extra,
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
