// Postgres side of the outbox port (mirrors adapters/sqlite/store/outbox.ts): the statement files of
// outbox/ handed out inside one transaction; the policy that strings them together is the relay's.
import type postgres from 'postgres';
import type { OutboxRelay, OutboxWriter } from '../../ports/outbox.ts';
import { pgCall } from './errors.ts';
import { claimBatch } from './outbox/claim-batch.ts';
import { readDeadRow, releaseDeadRow } from './outbox/dead-rows.ts';
import { insertEvents } from './outbox/insert-events.ts';
import { readBacklog } from './outbox/read-backlog.ts';
import { reinstateRows } from './outbox/reinstate-rows.ts';
import { takeRelayLock } from './outbox/relay-lock.ts';

export const createPostgresOutboxWriter = (sql: postgres.TransactionSql): OutboxWriter => ({
  insert: (events) => insertEvents(sql, events),
});

export const createPostgresOutboxRelay = (sql: postgres.Sql): OutboxRelay => ({
  withRelayTransaction: (work) =>
    pgCall(
      () =>
        sql.begin((tx) =>
          work({
            takeRelayLock: () => takeRelayLock(tx),
            claimBatch: ({ limit }) => claimBatch(tx, limit),
            reinstate: (rows) => reinstateRows(tx, rows),
          }),
        ) as Promise<never>,
    ),

  backlog: (options = {}) => pgCall(() => readBacklog(sql, options.topic)),

  deadRow: (ref) => pgCall(() => readDeadRow(sql, ref)),

  releaseDeadRow: (ref) => pgCall(() => releaseDeadRow(sql, ref)),

  watch: async (onInsert) => {
    const listener = await pgCall(() => sql.listen('mm_outbox', () => onInsert()));
    return () => listener.unlisten();
  },
});
