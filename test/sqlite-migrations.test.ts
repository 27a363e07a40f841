// SQLite migrations over an existing file: the outbox rebuild that adds partition_hash keeps every row,
// its id and the AUTOINCREMENT position, on both drivers' connections (better-sqlite3 here).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readMigrations } from '../src/adapters/migration-files.ts';
import { acquireConnection } from '../src/adapters/sqlite/driver/connection.ts';
import { migrateSqlite } from '../src/adapters/sqlite/driver/migrate.ts';
import { openSqliteStore } from '../src/adapters/sqlite/store/store.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { partitionHash } from '../src/core/partitions.ts';

describe('SQLite migrations on a file with data', () => {
  it('adds outbox.partition_hash keeping rows, ids and the id sequence', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-migrate-'));
    const file = join(dir, 'local.db');
    try {
      const before = readMigrations('sqlite').filter((m) => m.name < '010');
      const connection = await acquireConnection({ file });
      await migrateSqlite(connection, before);
      const ids = ['user-1', 'Ünïcødé', '😀', 'user-4', 'user-5'];
      await connection.write((db) => {
        const insert =
          db.prepare(`INSERT INTO outbox (event_id, topic, event_type, aggregate_type, aggregate_id, payload)
          VALUES (?, 'identity', 'user.updated', 'user', ?, '{}')`);
        for (const id of ids) insert.run(uuidv7(), id);
        // The newest rows were relayed: the sequence is ahead of every remaining id.
        db.prepare('DELETE FROM outbox WHERE id > 3').run();
        db.prepare("UPDATE outbox SET attempts = 2, last_error = 'boom' WHERE id = 2").run();
      }, 'database');
      await connection.release();

      const store = await openSqliteStore({ file });
      try {
        const rows = await store.withTransaction((tx) =>
          tx.query<{ id: number; aggregate_id: string; partition_hash: number; attempts: number }>(
            'SELECT id, aggregate_id, partition_hash, attempts FROM outbox ORDER BY id',
          ),
        );
        assert.deepEqual(
          rows.map((r) => [r.id, r.aggregate_id, r.partition_hash, r.attempts]),
          ids.slice(0, 3).map((id, n) => [n + 1, id, partitionHash(id), n === 1 ? 2 : 0]),
        );
        await store.withTransaction((tx) =>
          tx.outbox.insert([
            {
              eventId: uuidv7(),
              topic: 'identity',
              eventType: 'user.updated',
              aggregateType: 'user',
              aggregateId: 'user-6',
              payload: {},
            },
          ]),
        );
        const [next] = await store.withTransaction((tx) =>
          tx.query<{ id: number }>("SELECT id FROM outbox WHERE aggregate_id = 'user-6'"),
        );
        assert.equal(next?.id, 6, 'ids never go back after the rebuild');
        const indexes = await store.withTransaction((tx) =>
          tx.query<{ name: string }>(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' AND sql IS NOT NULL ORDER BY name",
          ),
        );
        // The rebuild keeps the retry index and adds the partition one; 030 adds the dead-row one.
        assert.deepEqual(
          indexes.map((i) => i.name),
          ['outbox_dead_idx', 'outbox_partition_idx', 'outbox_retry_idx'],
        );
      } finally {
        await store.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
