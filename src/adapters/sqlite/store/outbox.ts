// SQLite side of the outbox port (mirrors adapters/postgres/outbox.ts): batched inserts, serialised
// drains under the file's write lock, the relay lock against other relays, and file polling for watch.
import { MmError } from '../../../core/errors.ts';
import type { DrainOutcome, OutboxRelay, OutboxRow, OutboxWriter } from '../../../ports/outbox.ts';
import { reinstatedHistory } from '../../reinstated-row.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import type { SqliteDriver } from '../driver/driver.ts';
import type { RelayLock } from './relay-lock.ts';
import { nowIso, type TxScope, uuidParam } from './scope.ts';

type ClaimedRecord = {
  id: number;
  event_id: string;
  topic: string;
  event_type: string;
  aggregate_type: string;
  aggregate_id: string;
  payload: string;
  headers: string;
  occurred_at: string;
  attempts: number;
  first_failed_at: string | null;
  last_error: string | null;
};

const toRow = (record: ClaimedRecord): OutboxRow => ({
  id: String(record.id),
  eventId: record.event_id,
  topic: record.topic,
  eventType: record.event_type,
  aggregateType: record.aggregate_type,
  aggregateId: record.aggregate_id,
  payloadJson: record.payload,
  headersJson: record.headers,
  occurredAt: record.occurred_at,
  attempts: record.attempts,
  firstFailedAt: record.first_failed_at,
  lastError: record.last_error,
});

const insertSql = `INSERT INTO outbox (event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers, occurred_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`;

export const createSqliteOutboxWriter = (scope: TxScope): OutboxWriter => ({
  insert: async (events) => {
    if (events.length === 0) return;
    await scope.run((db) => {
      const statement = db.prepare(insertSql);
      const at = nowIso();
      for (const e of events) {
        statement.run(
          uuidParam(e.eventId, 'event_id'),
          e.topic,
          e.eventType,
          e.aggregateType,
          e.aggregateId,
          JSON.stringify(e.payload),
          JSON.stringify(e.headers ?? {}),
          at,
        );
      }
    });
    scope.touch('outbox');
  },
});

// Claim and delete in one statement; a rollback (publish failed, crash) puts every row back.
const claimSql = `DELETE FROM outbox WHERE id IN (
    SELECT o.id FROM outbox o
    WHERE o.next_attempt_at <= ?
      AND NOT EXISTS (
        SELECT 1 FROM outbox held
        WHERE held.attempts > 0 AND held.next_attempt_at > ?
          AND held.aggregate_type = o.aggregate_type AND held.aggregate_id = o.aggregate_id
          AND held.id < o.id)
    ORDER BY o.id
    LIMIT ?)
  RETURNING id, event_id, topic, event_type, aggregate_type, aggregate_id, payload, headers, occurred_at,
            attempts, first_failed_at, last_error`;

const reinstateSql = `INSERT INTO outbox (id, event_id, topic, event_type, aggregate_type, aggregate_id, payload,
    headers, occurred_at, attempts, next_attempt_at, first_failed_at, last_error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

/** Puts rows the relay could not publish back, same id, with the failure recorded. */
const reinstate = (
  db: SqliteDriver,
  rows: ReadonlyMap<string, ClaimedRecord>,
  retry: DrainOutcome['retry'],
): void => {
  const now = nowIso();
  const statement = db.prepare(reinstateSql);
  for (const failure of retry) {
    const row = rows.get(failure.id);
    if (!row) throw new MmError('INTERNAL', `drain outcome retries row ${failure.id}, which was not claimed`);
    const history = reinstatedHistory(
      { attempts: row.attempts, firstFailedAt: row.first_failed_at, lastError: row.last_error },
      failure,
      now,
    );
    statement.run(
      row.id,
      row.event_id,
      row.topic,
      row.event_type,
      row.aggregate_type,
      row.aggregate_id,
      row.payload,
      row.headers,
      row.occurred_at,
      history.attempts,
      failure.nextAttemptAt.toISOString(),
      history.firstFailedAt,
      history.lastError,
    );
  }
};

const anythingDue = (db: SqliteDriver): boolean =>
  db.prepare('SELECT 1 AS due FROM outbox WHERE next_attempt_at <= ? LIMIT 1').get(nowIso()) !== undefined;

/** How often `watch` looks for commits by other processes. */
export const watchIntervalMs = 10;

const outboxSequence = (db: SqliteDriver): number =>
  db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").get<{ seq: number }>()?.seq ?? 0;

export const createSqliteOutboxRelay = (
  connection: SqliteConnection,
  lock: RelayLock,
  watchers: Set<() => void>,
): OutboxRelay => ({
  drain: async ({ limit, maxBatches = 1, beforeLook }, handle) => {
    if (!(await lock.tryAcquire())) return { leader: false, claimed: 0, batches: 0 };
    try {
      beforeLook?.();
      // An idle relay polls often; looking first keeps it from taking the file's write lock for nothing.
      if (!(await connection.read(anythingDue, 'database'))) return { leader: true, claimed: 0, batches: 0 };
      return await connection.transaction(async (db) => {
        let total = 0;
        let batches = 0;
        while (batches < maxBatches) {
          const now = nowIso();
          const claimed = db.prepare(claimSql).all<ClaimedRecord>(now, now, limit);
          if (claimed.length === 0) break;
          batches += 1;
          total += claimed.length;
          claimed.sort((a, b) => a.id - b.id);
          const outcome = await handle(claimed.map(toRow));
          if (outcome.retry.length > 0) {
            reinstate(db, new Map(claimed.map((r) => [String(r.id), r])), outcome.retry);
          }
          if (claimed.length < limit) break;
        }
        return { leader: true, claimed: total, batches };
      }, 'database');
    } finally {
      lock.release();
    }
  },

  backlog: () =>
    connection.read((db) => {
      const row = db
        .prepare('SELECT count(*) AS count, min(occurred_at) AS oldest FROM outbox')
        .get<{ count: number; oldest: string | null }>();
      const oldest = row?.oldest ? Date.parse(row.oldest) : Number.NaN;
      return {
        count: row?.count ?? 0,
        oldestAgeSeconds: Number.isNaN(oldest) ? 0 : Math.max(0, (Date.now() - oldest) / 1000),
      };
    }, 'database'),

  // Local inserts announce themselves; other processes' are seen through the outbox id sequence,
  // checked whenever the file's data_version moves.
  watch: async (onInsert) => {
    let seen = await connection.read(outboxSequence, 'database');
    let mark = connection.feed.mark();
    const look = (): void => {
      if (!connection.feed.changedSince(mark, 'outbox')) return;
      mark = connection.feed.mark();
      connection
        .read(outboxSequence, 'database')
        .then((sequence) => {
          if (sequence > seen) {
            seen = sequence;
            onInsert();
          }
        })
        .catch(() => {}); // closing: the next look (if any) meets the same error
    };
    const offLocal = connection.feed.onLocal('outbox', look);
    const timer = setInterval(look, watchIntervalMs);
    timer.unref();
    const stop = (): void => {
      clearInterval(timer);
      offLocal();
      watchers.delete(stop);
    };
    watchers.add(stop);
    return async () => stop();
  },
});
