// Batches travel to Postgres as array literals; they must survive any text and work as the very
// first query of a fresh pool (where postgres.js's own array typing fell back to `a,b`).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import postgres from 'postgres';
import { pgArray } from '../src/adapters/postgres/arrays.ts';
import { createPostgresStore } from '../src/adapters/postgres/store.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { skipUnless } from './helpers/services.ts';

describe('Postgres array literals', { skip: await skipUnless('postgres') }, () => {
  const db = useTestDatabase();

  it('round-trips awkward text exactly', async () => {
    const values = [
      'plain',
      'with "quotes"',
      'back\\slash',
      'comma, brace } {',
      '',
      'NULL',
      'ünïcödé 🎉',
      '{"a":[1,"x"]}',
    ];
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const [row] = await sql<{ values: string[] }[]>`select ${pgArray(values)}::text[] as values`;
      assert.deepEqual(row?.values, values);
      const [nulls] = await sql<{ second: boolean; quoted: boolean }[]>`
        select (${pgArray(['a', null, 'NULL'])}::text[])[2] is null as second,
               (${pgArray(['a', null, 'NULL'])}::text[])[3] = 'NULL' as quoted`;
      assert.deepEqual({ ...nulls }, { second: true, quoted: true });
    } finally {
      await sql.end();
    }
  });

  it('works as the first query of a new pool', async () => {
    const store = createPostgresStore({ url: db.url, maxConnections: 1 });
    try {
      const recorded = await store.ledger.recorded('g', [uuidv7(), uuidv7()]);
      assert.equal(recorded.size, 0);
    } finally {
      await store.close();
    }
  });
});
