// The ESM bundles under Deno (`deno run -A dist/mm-X.mjs`): every --help, production mode over
// Postgres and Redis, and local mode through node:sqlite with no node_modules to fall back on.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { toStreamFields } from '../src/core/envelope.ts';
import { createLogger } from '../src/core/logger.ts';
import { DLQ, relayDeadLetter, userEvent } from './dlq-fixtures.ts';
import {
  assertNoBinariesLeft,
  type BinaryName,
  bundlePath,
  type Launch,
  runBinary,
  startBinary,
} from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { createTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const productionSkip = await skipUnless('postgres', 'redis');
const roles: BinaryName[] = ['mm-backend', 'mm-relay', 'mm-consumer', 'mm-dlq'];
const deno: Launch = { via: 'deno' };
const silent = createLogger({ level: 'error', sink: () => {} });

type Report = { totals: { open: number }; streams: Array<{ stream: string; open: number }> };

const postUser = (url: string, email: string): Promise<Response> =>
  fetch(`${url}/api/users`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
  });

describe('bundles under Deno', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-deno-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    assertNoBinariesLeft();
  });

  it('print every binary’s --help and a --version that names Deno', async () => {
    for (const name of roles) {
      const help = await runBinary(name, ['--help'], deno);
      assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: ${name} `));
      const version = await runBinary(name, ['--version'], deno);
      assert.match(
        version.stdout,
        new RegExp(`^${name} \\S+ \\(commit \\S+, built \\S+, deno \\d+\\.\\d+\\.\\d+\\)`),
      );
    }
  });

  it('run local mode through node:sqlite, with no better-sqlite3 to fall back on', async () => {
    // Copies of the bundles outside the checkout: an import of better-sqlite3 could not resolve.
    const local = mkdtempSync(join(dir, 'local-'));
    const copies: Record<string, string> = {};
    for (const name of ['mm-backend', 'mm-consumer', 'mm-dlq'] as const) {
      copies[name] = join(local, `${name}.mjs`);
      copyFileSync(bundlePath(name), copies[name]);
    }
    const run = (name: BinaryName): Launch => ({ via: 'deno', cwd: local, bundle: copies[name] ?? '' });
    const file = join(local, 'f.db');
    const migrate = await runBinary('mm-backend', ['migrate', '--local', file], run('mm-backend'));
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /migrations: 0 applied, \d+ already applied/);

    const backend = await startBinary('mm-backend', ['serve', '--local', file], run('mm-backend'));
    const consumer = await startBinary('mm-consumer', ['--local', file], run('mm-consumer'));
    assert.equal((await postUser(backend.url, 'deno@example.com')).status, 201);
    for (const service of [backend, consumer]) {
      const health = (await (await fetch(`${service.url}/health/detailed`)).json()) as {
        checks: { database: { status: string; kind: string } };
      };
      assert.deepEqual(health.checks.database, {
        ...health.checks.database,
        status: 'healthy',
        kind: 'sqlite',
      });
      assert.match(await (await fetch(`${service.url}/metrics/prometheus`)).text(), /^# HELP /m);
    }
    assert.equal(await consumer.stop(), 0);
    assert.equal(await backend.stop(), 0);

    const ports = await openLocalPorts({ file, logger: silent });
    await relayDeadLetter(ports.bus);
    await ports.close();
    const report = await runBinary('mm-dlq', ['report', '--json', '--local', file], run('mm-dlq'));
    assert.equal(report.code, 0, report.stderr);
    const parsed = JSON.parse(report.stdout) as Report;
    assert.equal(parsed.totals.open, 1);
  });

  describe('in production mode', { skip: productionSkip }, () => {
    it('serve the API, consume an event and report dead letters over Postgres and Redis', async () => {
      const db = await createTestDatabase({ migrate: false });
      const redis = await createTestRedis();
      try {
        const production = ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix];
        const migrate = await runBinary('mm-backend', ['migrate', '--database-url', db.url], deno);
        assert.equal(migrate.code, 0, migrate.stderr);
        const backend = await startBinary('mm-backend', ['serve', ...production], deno);
        assert.equal((await postUser(backend.url, 'deno-pg@example.com')).status, 201);
        const health = (await (await fetch(`${backend.url}/health/detailed`)).json()) as { status: string };
        assert.equal(health.status, 'healthy');
        assert.equal(await backend.stop(), 0);
        const [outbox] = await db.sql`select count(*)::int as n from outbox`;
        assert.equal(outbox?.n, 1);

        // A consumer under Deno: a blocking read on Redis, then the ledger row in Postgres.
        const consumer = await startBinary('mm-consumer', ['--block-ms', '200', ...production], deno);
        const event = userEvent();
        await redis.client.xadd(
          `${redis.prefix}identity`,
          '*',
          ...Object.entries(toStreamFields(event)).flat(),
        );
        await eventually(
          async () =>
            (await db.sql`select 1 from event_ledger where event_id = ${event.eventId}`).length === 1,
          10_000,
          { message: 'the event in event_ledger' },
        );
        assert.equal(await consumer.stop(), 0);

        const bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
        await relayDeadLetter(bus);
        await bus.close();
        const report = await runBinary(
          'mm-dlq',
          ['report', '--json', '--redis-url', redis.url, '--key-prefix', redis.prefix],
          deno,
        );
        assert.equal(report.code, 0, report.stderr);
        const parsed = JSON.parse(report.stdout) as Report;
        assert.equal(parsed.totals.open, 1);
        assert.equal(parsed.streams[0]?.stream, DLQ);
      } finally {
        await Promise.allSettled([db.drop(), redis.cleanup()]);
      }
    });
  });
});
