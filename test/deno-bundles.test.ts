// The ESM bundles under Deno (`deno run -A dist/mm-X.mjs`): every --help, production mode over
// Postgres and Redis, and local mode through node:sqlite with no node_modules to fall back on.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { createLogger } from '../src/core/logger.ts';
import { DLQ, type DlqReportJson, relayDeadLetter, reportAfterRelayDeadLetter } from './dlq-fixtures.ts';
import {
  assertNoBinariesLeft,
  type BinaryName,
  bundlePath,
  type Launch,
  runBinary,
  startBinary,
} from './helpers/binaries.ts';
import { expectWriteToReachConsumer } from './helpers/executables.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { createTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const productionSkip = await skipUnless('postgres', 'redis');
const roles: BinaryName[] = ['mm-backend', 'mm-relay', 'mm-consumer', 'mm-dlq'];
const deno: Launch = { via: 'deno' };
const silent = createLogger({ level: 'error', sink: () => {} });

describe('bundles under Deno', () => {
  let dir: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-deno-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    assertNoBinariesLeft();
  });

  it('print every binary’s --help, and a --version that names the runtime', async () => {
    for (const name of roles) {
      const help = await runBinary(name, ['--help'], deno);
      assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: ${name} `));
      const version = await runBinary(name, ['--version'], deno);
      assert.match(
        version.stdout,
        new RegExp(`^${name} \\S+ \\(commit \\S+, built \\S+, deno \\d+\\.\\d+\\.\\d+\\)`),
      );
      // The same bundle on Node names Node, and is no single executable.
      const onNode = await runBinary(name, ['--version']);
      assert.match(
        onNode.stdout,
        new RegExp(`^${name} \\S+ \\(commit \\S+, built \\S+, node v[\\d.]+\\)\\n$`),
      );
    }
  });

  it('run local mode through node:sqlite, with no better-sqlite3 to fall back on', async () => {
    // Copies of the bundles outside the checkout: an import of better-sqlite3 could not resolve.
    const local = mkdtempSync(join(dir, 'local-'));
    const copies: Record<string, string> = {};
    for (const name of ['mm-backend', 'mm-relay', 'mm-consumer', 'mm-dlq'] as const) {
      copies[name] = join(local, `${name}.mjs`);
      copyFileSync(bundlePath(name), copies[name]);
    }
    const run = (name: BinaryName): Launch => ({ via: 'deno', cwd: local, bundle: copies[name] ?? '' });
    const file = join(local, 'f.db');
    const migrate = await runBinary('mm-backend', ['migrate', '--local', file], run('mm-backend'));
    assert.equal(migrate.code, 0, migrate.stderr);
    assert.match(migrate.stdout, /migrations: 0 applied, \d+ already applied/);

    const [backend, relay, consumer] = await Promise.all([
      startBinary('mm-backend', ['serve', '--local', file], run('mm-backend')),
      startBinary('mm-relay', ['--local', file], run('mm-relay')),
      startBinary('mm-consumer', ['--local', file, '--block-ms', '200'], run('mm-consumer')),
    ]);
    await expectWriteToReachConsumer(backend.url, consumer.url, 'deno@example.com');
    for (const service of [backend, relay, consumer]) {
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
    for (const service of [backend, relay, consumer]) assert.equal(await service.stop(), 0);

    const ports = await openLocalPorts({ file, logger: silent });
    await relayDeadLetter(ports.bus);
    await ports.close();
    const report = await runBinary('mm-dlq', ['report', '--json', '--local', file], run('mm-dlq'));
    assert.equal(report.code, 0, report.stderr);
    const parsed = JSON.parse(report.stdout) as DlqReportJson;
    assert.equal(parsed.totals.open, 1);
  });

  describe('in production mode', { skip: productionSkip }, () => {
    it('run backend, relay and consumer over Postgres and Redis, and report dead letters', async () => {
      const db = await createTestDatabase({ migrate: false });
      const redis = await createTestRedis();
      try {
        const production = ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix];
        const migrate = await runBinary('mm-backend', ['migrate', '--database-url', db.url], deno);
        assert.equal(migrate.code, 0, migrate.stderr);
        const [backend, relay, consumer] = await Promise.all([
          startBinary('mm-backend', ['serve', ...production], deno),
          startBinary('mm-relay', production, deno),
          startBinary('mm-consumer', ['--block-ms', '200', ...production], deno),
        ]);
        await expectWriteToReachConsumer(backend.url, consumer.url, 'deno-pg@example.com');
        const health = (await (await fetch(`${backend.url}/health/detailed`)).json()) as { status: string };
        assert.equal(health.status, 'healthy');
        for (const service of [backend, relay, consumer]) assert.equal(await service.stop(), 0);
        const [ledger] = await db.sql`select count(*)::int as n from event_ledger`;
        assert.equal(ledger?.n, 1);
        const [waiting] = await db.sql`select count(*)::int as n from outbox`;
        assert.equal(waiting?.n, 0); // the relay deletes what it published

        const parsed = await reportAfterRelayDeadLetter(redis, deno);
        assert.equal(parsed.totals.open, 1);
        assert.equal(parsed.streams[0]?.stream, DLQ);
      } finally {
        await Promise.allSettled([db.drop(), redis.cleanup()]);
      }
    });
  });
});
