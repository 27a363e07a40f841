// `mm-backend drill`: the runbook's recovery drills offline, in one process on a local file. They pass
// on a working build, say FAIL (exit 1) when the pipeline does not recover, and read like the runbook.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import type { HandlerMap } from '../src/consumer/handler.ts';
import { createLogger } from '../src/core/logger.ts';
import { runDrills } from '../src/drills/run-drills.ts';
import { runBinary } from './helpers/binaries.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { createTestRedis, type TestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describe('mm-backend drill', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-drills-'));
    file = join(dir, 'drill.db');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('runs all five drills on the given file, every step with evidence, and exits 0', async () => {
    const run = await runBinary('mm-backend', ['drill', 'all', '--local', file], { timeoutMs: 120_000 });
    assert.equal(run.code, 0, run.stdout.slice(-3_000) + run.stderr);
    const out = run.stdout;
    assert.doesNotMatch(out, /FAIL/);
    for (const title of [
      'Redis Failure Recovery',
      'Event Replay Testing',
      'Idempotency Testing',
      'DLQ Spike',
      'Halted Aggregate',
    ])
      assert.match(out, new RegExp(`^${title}: PASS \\(\\d+ checks passed, 0 failed\\)$`, 'm'));
    assert.match(
      out.trimEnd().split('\n').at(-1) ?? '',
      /^drill all: PASS: 5 of 5 drills passed \(\d+ checks/,
    );
    // The runbook's own steps and commands, with mm-dlq in place of the python tool.
    for (const line of [
      '# Stop Redis',
      '$ docker compose stop redis',
      '# Verify relay retries and consumers wait',
      "$ curl http://127.0.0.1:\\d+/metrics \\| jq '.last_processed_event_id'",
      '# Reprocess same event multiple times',
      '\\$ mm-dlq reprocess --stream identity.dlq --id [0-9a-f-]{36} --local',
      "SELECT \\* FROM public.event_ledger WHERE event_id = '[0-9a-f-]{36}'",
      '# 1. Identify error patterns using DLQ report',
      '# 4. Reprocess failed messages',
      '# The dead letter holding back the most events, and what waits behind it',
      '\\$ mm-dlq resolve --stream identity.dlq --id \\d+-\\d+ --note',
    ])
      assert.match(out, new RegExp(line.startsWith('$ ') ? `\\${line}` : line));
    assert.match(out, /"status": "unhealthy"/, 'health JSON as evidence');
    assert.match(out, /By error fingerprint/, 'the DLQ report as evidence');
    // The file is the operator's: it stays, with what the drills did in it, and nothing beside it.
    assert.deepEqual(readdirSync(dir), ['drill.db']);
    const db = new Database(file, { readonly: true });
    try {
      const rows = db
        .prepare('SELECT count(*) AS n, count(DISTINCT event_id) AS d FROM event_ledger')
        .get() as {
        n: number;
        d: number;
      };
      assert.ok(rows.n >= 43 && rows.n === rows.d, `one ledger row per event (${rows.n})`);
    } finally {
      db.close();
    }
  });

  it('runs one drill on a fresh temporary file and removes it after', async () => {
    const run = await runBinary('mm-backend', ['drill', 'idempotency']);
    assert.equal(run.code, 0, run.stdout.slice(-3_000) + run.stderr);
    const used = /^mm-backend drill idempotency on (.+)$/m.exec(run.stdout)?.[1];
    assert.ok(used?.endsWith('drill.db'), run.stdout.slice(0, 300));
    assert.equal(existsSync(used ?? ''), false, 'the temporary file is gone');
    assert.match(run.stdout, /drill idempotency: PASS: 1 of 1 drills passed/);
  });

  it('rejects an unknown drill with a usage error', async () => {
    const run = await runBinary('mm-backend', ['drill', 'flood']);
    assert.equal(run.code, 64);
    assert.match(
      run.stderr,
      /unknown drill "flood": choose redis-failure, replay, idempotency, dlq-spike, ordering or all/,
    );
  });

  it('says FAIL and exits 1 when the consumer never applies anything', async () => {
    const lines: string[] = [];
    const logger = createLogger({ sink: (line) => void lines.push(line) });
    const busFault = { unavailable: false };
    const ports = await openLocalPorts({ file, logger, faults: busFault });
    const broken = (): never => {
      throw new Error('handler broken in this build');
    };
    const handlers: HandlerMap = { 'user.created': broken };
    let out = '';
    try {
      const code = await runDrills(
        // Long enough for the consumer's backoff after the outage and its first failed deliveries.
        {
          drills: ['redis-failure'],
          label: 'redis-failure',
          deployment: { kind: 'local', file },
          waitMs: 6_000,
        },
        {
          store: ports.store,
          bus: ports.bus,
          busFault,
          logger,
          logLines: () => lines,
          out: (text) => {
            out += text;
          },
          handlers,
        },
      );
      assert.equal(code, 1);
    } finally {
      await ports.close();
    }
    assert.match(out, /PASS {2}relay \/health\/detailed is unhealthy/, 'the outage itself is seen');
    assert.match(out, /FAIL {2}every one of the 20 events arrived and was applied once/);
    assert.match(
      out,
      /(Failed to process|Moved) event .*: Error: handler broken in this build/,
      'the log lines that explain it',
    );
    assert.match(out, /drill redis-failure: FAIL: 0 of 1 drills passed/);
  });
});

describe('mm-backend drill on Postgres and Redis', { skip: await skipUnless('postgres', 'redis') }, () => {
  let db: TestDatabase | undefined;
  let redis: TestRedis | undefined;

  afterEach(async () => {
    await redis?.cleanup();
    await db?.drop();
  });

  it('runs all five drills on the given database and key prefix, Redis "stopped" by the fault, and exits 0', async () => {
    db = await createTestDatabase();
    redis = await createTestRedis();
    const run = await runBinary(
      'mm-backend',
      ['drill', 'all', '--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix],
      { timeoutMs: 180_000 },
    );
    assert.equal(run.code, 0, run.stdout.slice(-3_000) + run.stderr);
    assert.doesNotMatch(run.stdout, /FAIL/);
    assert.match(
      run.stdout,
      /"reason": "Stream store unavailable for \d+ s, retrying \(\d+ failures\): stream store unavailable \(fault injected\)"/,
    );
    assert.match(run.stdout, /PASS {2}relay reports the stream store \("redis"\) and its loop healthy again/);
    assert.match(
      run.stdout,
      /\$ mm-consumer replay --group markdown-lint-consumer --topic identity --from \d+-\d+ --database-url /,
    );
    assert.match(run.stdout.trimEnd().split('\n').at(-1) ?? '', /^drill all: PASS: 5 of 5 drills passed/);
    const [ledger] = await db.sql<{ n: string; d: string }[]>`
      select count(*) as n, count(distinct event_id) as d from event_ledger`;
    assert.ok(Number(ledger?.n) >= 50 && ledger?.n === ledger?.d, `one ledger row per event (${ledger?.n})`);
  });
});
