// Postgres side of the outbox port (mirrors adapters/sqlite/store/outbox.ts): the statement files of
// outbox/ handed out inside one transaction; the policy that strings them together is the relay's.
// Relays share the relay lock while they drain; a partition-count switch takes it alone.
import type postgres from 'postgres';
import type { ClaimScope, OutboxRelay, OutboxWriter } from '../../ports/outbox.ts';
import { pgCall } from './errors.ts';
import { createPostgresFences } from './leases.ts';
import { claimBatch } from './outbox/claim-batch.ts';
import { readDeadRow, releaseDeadRow } from './outbox/dead-rows.ts';
import { insertEvents } from './outbox/insert-events.ts';
import { readBacklog } from './outbox/read-backlog.ts';
import { reinstateRows } from './outbox/reinstate-rows.ts';
import { isLockTimeout, shareRelayLock, takeRelayLockAlone } from './outbox/relay-lock.ts';

export const createPostgresOutboxWriter = (sql: postgres.TransactionSql): OutboxWriter => ({
  insert: (events) => insertEvents(sql, events),
});

/**
 * The shared relay lock and the scope's fences (rows locked FOR SHARE: a take of those leases waits
 * for this transaction), sent together in one round trip.
 */
const joinRelays = async (tx: postgres.TransactionSql, scope: ClaimScope | undefined): Promise<boolean> => {
  const shared = shareRelayLock(tx);
  const fenced = scope ? createPostgresFences(tx).assertHeld(scope.fences) : Promise.resolve();
  fenced.catch(() => {}); // surfaces below unless the lock was refused
  if (!(await shared)) return false;
  await fenced;
  return true;
};

export const createPostgresOutboxRelay = (sql: postgres.Sql): OutboxRelay => ({
  withRelayTransaction: (work, scope) =>
    pgCall(
      () =>
        sql.begin((tx) => {
          let joined: Promise<boolean> | undefined;
          return work({
            joinRelays: () => {
              joined ??= joinRelays(tx, scope);
              return joined;
            },
            claimBatch: ({ limit }) => claimBatch(tx, limit, scope),
            reinstate: (rows) => reinstateRows(tx, rows),
          });
        }) as Promise<never>,
    ),

  withRelaysPaused: (work, { waitMs }) =>
    pgCall(async () => {
      let waiting = true;
      try {
        return (await sql.begin(async (tx) => {
          await takeRelayLockAlone(tx, waitMs);
          waiting = false;
          return { value: await work() };
        })) as never;
      } catch (error) {
        // A failed statement ends the transaction: the lock wait is told apart here, outside it.
        if (waiting && isLockTimeout(error)) return undefined;
        throw error;
      }
    }),

  backlog: (options = {}) => pgCall(() => readBacklog(sql, options.topic)),

  deadRow: (ref) => pgCall(() => readDeadRow(sql, ref)),

  releaseDeadRow: (ref) => pgCall(() => releaseDeadRow(sql, ref)),

  watch: async (onInsert) => {
    const listener = await pgCall(() => sql.listen('mm_outbox', () => onInsert()));
    return () => listener.unlisten();
  },
});
