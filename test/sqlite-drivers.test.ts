// The SQLite drivers: the contract suites run on better-sqlite3 in bus-contract.test.ts and
// store-contract.test.ts (Node 20); here they run on node:sqlite under Deno, both drivers bind `$n`
// from numbered values, and better-sqlite3 loads its addon from where a single executable would put it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openSqlite } from '../src/adapters/sqlite/driver/driver.ts';
import { describeSqliteBinding } from './helpers/sqlite-binding.ts';

const deno = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url));
const suite = fileURLToPath(new URL('./helpers/node-sqlite-contracts.ts', import.meta.url));
const addon = fileURLToPath(
  new URL('../node_modules/better-sqlite3/build/Release/better_sqlite3.node', import.meta.url),
);

describe('SQLite drivers', () => {
  it('pass the Bus and Store contracts and bind $n on node:sqlite (Deno)', {
    skip: existsSync(deno) ? false : 'deno is not installed',
    timeout: 120_000,
  }, async () => {
    const child = spawn(deno, ['test', '-A', '--no-check', suite], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 0, output.slice(-4000));
    assert.match(output, /ok \| 3 passed \(\d+ steps\) \| 0 failed/);
  });

  it('load better-sqlite3 with its native addon given as a path or as the loaded module', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-driver-'));
    try {
      for (const nativeBinding of [addon, createRequire(import.meta.url)(addon) as object]) {
        const db = await openSqlite({ file: join(dir, 'a.db'), driver: 'better-sqlite3', nativeBinding });
        try {
          assert.equal(db.name, 'better-sqlite3');
          assert.equal(
            db.prepare('PRAGMA journal_mode').get<{ journal_mode: string }>()?.journal_mode,
            'wal',
          );
          db.exec('CREATE TABLE IF NOT EXISTS t (a INTEGER)');
          db.prepare('INSERT INTO t VALUES (?)').run(1);
        } finally {
          db.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describeSqliteBinding('better-sqlite3');
