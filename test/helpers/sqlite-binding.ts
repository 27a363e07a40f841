// What both SQLite drivers must do for raw SQL written with Postgres-style `$n` placeholders: SQLite
// reads `$1` as the parameter named `1`, and the driver binds it from the key `1` of one object.
// Run on better-sqlite3 by test/sqlite-drivers.test.ts and on node:sqlite (Deno) by
// test/helpers/node-sqlite-contracts.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DriverName, openSqlite, type SqliteDriver } from '../../src/adapters/sqlite/driver/driver.ts';
import { numberedValues } from '../../src/adapters/sqlite/driver/sql-values.ts';

export const describeSqliteBinding = (driver: DriverName): void => {
  describe(`$n placeholders bound from { n: value } on ${driver}`, () => {
    const withDb = async (work: (db: SqliteDriver) => void): Promise<void> => {
      const db = await openSqlite({ file: ':memory:', driver });
      try {
        work(db);
      } finally {
        db.close();
      }
    };
    const row = (db: SqliteDriver, sql: string, params: unknown[]): Record<string, unknown> => ({
      ...db.prepare(sql).all(numberedValues(params))[0],
    });

    it('binds each $n to the n-th value, in any order and as often as it appears', async () => {
      await withDb((db) => {
        assert.deepEqual(row(db, 'select $2 as b, $1 as a, $2 as again', ['x', 'y']), {
          b: 'y',
          a: 'x',
          again: 'y',
        });
        const ten = Array.from({ length: 10 }, (_, i) => i + 1);
        assert.deepEqual(row(db, 'select $10 as ten, $1 as one, $2+$3+$4+$5+$6+$7+$8+$9 as rest', ten), {
          ten: 10,
          one: 1,
          rest: 44,
        });
      });
    });

    it('leaves $n inside string literals, quoted names and comments alone', async () => {
      await withDb((db) => {
        assert.deepEqual(row(db, `select '$2' as lit, $1 as "col$3" /* $4 */ -- $5\n`, ['v']), {
          lit: '$2',
          col$3: 'v',
        });
      });
    });

    it('binds null, integers, reals, text and bytes as their SQLite types', async () => {
      await withDb((db) => {
        const sql =
          'select typeof($1) as a, typeof($2) as b, typeof($3) as c, typeof($4) as d, typeof($5) as e';
        assert.deepEqual(row(db, sql, [null, 42n, 1.5, 'text', new Uint8Array([1, 2])]), {
          a: 'null',
          b: 'integer',
          c: 'real',
          d: 'text',
          e: 'blob',
        });
      });
    });

    it('binds the values of a write the same way', async () => {
      await withDb((db) => {
        db.exec('create table t (a text, b integer)');
        assert.deepEqual(
          db.prepare('insert into t (b, a) values ($2, $1)').rows(numberedValues(['one', 1])),
          [],
        );
        assert.deepEqual(row(db, 'select a, b from t where b = $1', [1]), { a: 'one', b: 1 });
      });
    });
  });
};
