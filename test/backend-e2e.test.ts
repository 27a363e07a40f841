// The built mm-backend bundle as an operator runs it: migrate (twice, and from two processes at
// once), serve, write users, read health and metrics; config errors and secrets handled.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readMigrations } from '../src/adapters/migration-files.ts';
import { bodyOf } from './helpers/backend.ts';
import { runBinary, startBinary } from './helpers/binaries.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { checkMetrics, skipUnlessPromtool } from './helpers/promtool.ts';
import { randomPrefix } from './helpers/redis.ts';
import { REDIS_URL, skipUnless } from './helpers/services.ts';

const json = { 'content-type': 'application/json' };

describe('mm-backend bundle', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase({ migrate: false });
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-backend-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('migrates once, idempotently, also from two processes at once', async () => {
    const [first, second] = await Promise.all([
      runBinary('mm-backend', ['migrate', '--database-url', db.url]),
      runBinary('mm-backend', ['migrate', '--database-url', db.url]),
    ]);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    const applied = [first.stdout, second.stdout].map((out) => /migrations: (\d+) applied/.exec(out)?.[1]);
    const total = readMigrations('postgres').length;
    assert.deepEqual(applied.sort(), ['0', String(total)]);
    const again = await runBinary('mm-backend', ['migrate', '--database-url', db.url]);
    assert.match(again.stdout, new RegExp(`migrations: 0 applied, ${total} already applied`));
    const recorded = await db.sql`select name from mm_migrations order by name`;
    assert.equal(recorded.length, total);
    assert.deepEqual((await db.sql`select cleanup_event_ledger() as removed`)[0], { removed: '0' });
  });

  it('serves the users API: 201 then 409 for one email, one user row and one outbox row', async () => {
    const logFile = join(dir, 'backend.log');
    // trust auth ignores the password, which must never show up anywhere.
    const secretUrl = db.url.replace('root@', 'root:s3cret-pw@');
    const backend = await startBinary('mm-backend', [
      'serve',
      '--database-url',
      secretUrl,
      '--redis-url',
      REDIS_URL,
      '--key-prefix',
      randomPrefix(),
      '--log-file',
      logFile,
    ]);
    try {
      const body = JSON.stringify({ email: 'e2e@example.com', display_name: 'E2E' });
      const first = await fetch(`${backend.url}/api/users`, { method: 'POST', headers: json, body });
      const second = await fetch(`${backend.url}/api/users`, { method: 'POST', headers: json, body });
      assert.deepEqual([first.status, second.status], [201, 409]);
      const [counts] = await db.sql`
        select (select count(*)::int from users) as users, (select count(*)::int from outbox) as outbox`;
      assert.deepEqual(counts, { users: 1, outbox: 1 });

      const detailed = await (await fetch(`${backend.url}/health/detailed`)).text();
      assert.match(detailed, /"status":"healthy"/);
      const metrics = await bodyOf(await fetch(`${backend.url}/monitoring/metrics`));
      assert.deepEqual(metrics.outbox_rows_written_total, { identity: 1 });
      assert.doesNotMatch(detailed + JSON.stringify(metrics), /s3cret-pw/);
    } finally {
      assert.equal(await backend.stop('SIGTERM'), 0, 'SIGTERM drains and exits 0');
    }
    const logged = readFileSync(logFile, 'utf8');
    assert.match(logged, /mm-backend listening on/);
    assert.match(logged, /mm-backend stopped/);
    assert.equal(
      logged,
      backend
        .output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .join('\n') + '\n',
    );
    assert.doesNotMatch(backend.output(), /s3cret-pw/);
  });

  it('exposes Prometheus text that promtool accepts', { skip: skipUnlessPromtool() }, async () => {
    const backend = await startBinary('mm-backend', [
      '--database-url',
      db.url,
      '--redis-url',
      REDIS_URL,
      '--key-prefix',
      randomPrefix(),
    ]);
    try {
      await fetch(`${backend.url}/health`);
      const text = await (await fetch(`${backend.url}/metrics/prometheus`)).text();
      const lint = checkMetrics(text);
      assert.equal(lint.parses, true, lint.lintNotes.join('\n'));
      assert.deepEqual(lint.lintNotes, []);
      assert.match(text, /^outbox_rows_written_total\{topic="identity"\} 0$/m);
      assert.match(text, /^http_requests_total\{route="\/health",method="GET",status="200"\} \d+$/m);
    } finally {
      await backend.stop();
    }
  });

  it('reports every configuration problem at once and exits 78', async () => {
    const result = await runBinary('mm-backend', [
      'serve',
      '--database-url',
      'mysql://nope',
      '--port',
      'eighty',
      '--log-level',
      'loud',
    ]);
    assert.equal(result.code, 78);
    assert.match(result.stderr, /--database-url must be a postgres:\/\/ URL/);
    assert.match(result.stderr, /--port must be an integer/);
    assert.match(result.stderr, /--log-level must be one of/);
  });

  it('exits 64 on an unknown flag and 69 when the database is unreachable', async () => {
    const unknown = await runBinary('mm-backend', ['serve', '--no-such-flag']);
    assert.equal(unknown.code, 64);
    const down = await runBinary('mm-backend', [
      'migrate',
      '--database-url',
      'postgres://root:pw@127.0.0.1:1/none',
    ]);
    assert.equal(down.code, 69);
    assert.match(down.stderr, /database unavailable/);
    assert.doesNotMatch(down.stderr, /:pw@/);
  });

  it('prints its version, commit, build date and runtime', async () => {
    const result = await runBinary('mm-backend', ['--version']);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^mm-backend \d+\.\d+\.\d+ \(commit \w+, built \d{4}-\d\d-\d\d, node v\d+/);
  });
});
