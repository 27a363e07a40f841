// The SQLite store and shim on both drivers: the contract suites run on better-sqlite3 in
// bus-contract.test.ts and store-contract.test.ts (Node 20); here they run on node:sqlite under Deno.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const deno = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url));
const suite = fileURLToPath(new URL('./helpers/node-sqlite-contracts.ts', import.meta.url));

describe('SQLite drivers', () => {
  it('pass the Bus and Store contracts on node:sqlite (Deno)', {
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
    assert.match(output, /ok \| 2 passed \(\d+ steps\) \| 0 failed/);
  });
});
