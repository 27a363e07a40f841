// SQLite side of the ledger port (mirrors adapters/postgres/ledger.ts).
import { ValidationError } from '../../../core/errors.ts';
import type { LedgerReader, LedgerResult, LedgerRow, LedgerWriter } from '../../../ports/ledger.ts';
import type { SqliteConnection } from '../driver/connection.ts';
import { assertSqliteSchema, nowIso, type TxScope, uuidParam } from './scope.ts';

const defaultRetentionSeconds = 30 * 24 * 60 * 60;

const claimSql = `INSERT INTO event_ledger (event_id, consumer_group, event_type, stream_id, result, processed_at)
  VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
// The consumer's own ledger (no schema given) skips entries a replay holds back.
const claimUnlessHeldSql = `INSERT INTO event_ledger (event_id, consumer_group, event_type, stream_id, result, processed_at)
  SELECT ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM replay_holds
    WHERE consumer_group = ? AND event_id = ? AND stream_id = ?)
  ON CONFLICT DO NOTHING`;

export const createSqliteLedgerWriter = (scope: TxScope): LedgerWriter => ({
  claim: async (entries, options) => {
    assertSqliteSchema(options?.schema);
    if (entries.length === 0) return new Set();
    return scope.run((db) => {
      const held = options?.schema === undefined;
      const statement = db.prepare(held ? claimUnlessHeldSql : claimSql);
      const at = nowIso();
      const inserted = new Set<string>();
      for (const e of entries) {
        const eventId = uuidParam(e.eventId, 'event_id');
        const row = [eventId, e.consumerGroup, e.eventType, e.streamId, e.result, at];
        const { changes } = statement.run(...(held ? [...row, e.consumerGroup, eventId, e.streamId] : row));
        if (changes > 0) inserted.add(eventId);
      }
      return inserted;
    });
  },
});

type LedgerRecord = {
  event_id: string;
  consumer_group: string;
  event_type: string;
  stream_id: string;
  result: LedgerResult;
  processed_at: string;
};

export const createSqliteLedgerReader = (connection: SqliteConnection): LedgerReader => ({
  find: async (eventId) => {
    const id = uuidParam(eventId, 'event_id');
    const rows = await connection.read(
      (db) =>
        db
          .prepare(`SELECT event_id, consumer_group, event_type, stream_id, result, processed_at
            FROM event_ledger WHERE event_id = ? ORDER BY consumer_group`)
          .all<LedgerRecord>(id),
      'database',
    );
    return rows.map(
      (row): LedgerRow => ({
        eventId: row.event_id,
        consumerGroup: row.consumer_group,
        eventType: row.event_type,
        streamId: row.stream_id,
        result: row.result,
        processedAt: row.processed_at,
      }),
    );
  },

  recorded: async (consumerGroup, eventIds) => {
    if (eventIds.length === 0) return new Set<string>();
    const ids = JSON.stringify(eventIds.map((id) => uuidParam(id, 'event_id')));
    const rows = await connection.read(
      (db) =>
        db
          .prepare(`SELECT event_id FROM event_ledger
            WHERE consumer_group = ? AND event_id IN (SELECT value FROM json_each(?))`)
          .all<{ event_id: string }>(consumerGroup, ids),
      'database',
    );
    return new Set(rows.map((row) => row.event_id));
  },

  hold: (holds) =>
    holds.length === 0
      ? Promise.resolve(0)
      : connection.write((db) => {
          const statement = db.prepare(
            'INSERT INTO replay_holds (consumer_group, event_id, stream_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
          );
          let added = 0;
          for (const h of holds)
            added += statement.run(h.consumerGroup, uuidParam(h.eventId, 'event_id'), h.streamId).changes;
          return added;
        }, 'database'),

  held: (holds) =>
    holds.length === 0
      ? Promise.resolve([])
      : connection.read((db) => {
          const statement = db.prepare(
            'SELECT 1 AS found FROM replay_holds WHERE consumer_group = ? AND event_id = ? AND stream_id = ?',
          );
          return holds.filter(
            (h) => statement.get(h.consumerGroup, uuidParam(h.eventId, 'event_id'), h.streamId) !== undefined,
          );
        }, 'database'),

  release: (holds) =>
    holds.length === 0
      ? Promise.resolve(0)
      : connection.write((db) => {
          const statement = db.prepare(
            'DELETE FROM replay_holds WHERE consumer_group = ? AND event_id = ? AND stream_id = ?',
          );
          let removed = 0;
          for (const h of holds)
            removed += statement.run(h.consumerGroup, uuidParam(h.eventId, 'event_id'), h.streamId).changes;
          return removed;
        }, 'database'),

  cleanup: (retentionSeconds = defaultRetentionSeconds) => {
    if (!Number.isFinite(retentionSeconds) || retentionSeconds < 0) {
      return Promise.reject(
        new ValidationError(`retention must be a number of seconds >= 0, got ${retentionSeconds}`),
      );
    }
    const cutoff = new Date(Date.now() - retentionSeconds * 1000).toISOString();
    return connection.write((db) => {
      db.prepare('DELETE FROM replay_holds WHERE held_at < ?').run(cutoff);
      return db.prepare('DELETE FROM event_ledger WHERE processed_at < ?').run(cutoff).changes;
    }, 'database');
  },
});
