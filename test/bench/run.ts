// npm run bench [-- --quick]: throughput, latency and memory of the real services beside raw
// baselines measured in the same run; prints a table and writes bench-results.json.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { openLocalPorts } from '../../src/adapters/sqlite/local-ports.ts';
import { silentLogger } from '../../src/core/logger.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { randomPrefix } from '../helpers/redis.ts';
import { REDIS_URL } from '../helpers/services.ts';
import { fillOutbox, rawConsume, rawDrain, rawXadd } from './baselines.ts';
import { machineInfo } from './machine.ts';
import { type Result, renderTable, result, writeResults } from './results.ts';
import { consumerApply, latencyAtRate, pipelineSustained, relayDrain, type Target } from './scenarios.ts';
import { BINARIES, helpStartupMs } from './startup.ts';
import { round } from './stats.ts';

const quick = process.argv.includes('--quick');
const size = quick
  ? { baseline: 20_000, relay: 30_000, consumer: 30_000, pipeline: 30_000, latencyS: 4, local: 10_000 }
  : { baseline: 100_000, relay: 100_000, consumer: 100_000, pipeline: 100_000, latencyS: 10, local: 30_000 };

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** A fresh database and key prefix for one measurement, gone afterwards. */
const withProduction = async <T>(
  run: (target: Target & { redis: Redis; streamKey: string; sql: postgres.Sql }) => Promise<T>,
): Promise<T> => {
  const db: TestDatabase = await createTestDatabase();
  const redis = new Redis(REDIS_URL);
  const prefix = randomPrefix();
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  try {
    return await run({
      store: db.store,
      flags: ['--database-url', db.url, '--redis-url', REDIS_URL, '--key-prefix', prefix],
      redis,
      streamKey: `${prefix}identity`,
      sql,
    });
  } finally {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
    await sql.end();
    await db.drop();
  }
};

const withLocal = async <T>(run: (target: Target) => Promise<T>): Promise<T> => {
  const dir = mkdtempSync(join(tmpdir(), 'mm-bench-'));
  const file = join(dir, 'bench.db');
  const local = await openLocalPorts({ file, logger: silentLogger });
  try {
    return await run({ store: local.store, flags: ['--local', file] });
  } finally {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  }
};

const main = async (): Promise<void> => {
  const machine = machineInfo();
  const results: Result[] = [];
  log(
    `mm benchmark (${quick ? 'quick' : 'full'}) on ${machine.cpus} cores, load ${machine.load_average_at_start.join(' ')}`,
  );

  log('raw baselines ...');
  const xadd = await withProduction(({ redis, streamKey }) => rawXadd(redis, streamKey, size.baseline));
  const drain = await withProduction(async ({ store, sql, redis, streamKey }) => {
    await fillOutbox(store, size.baseline);
    return rawDrain(sql, redis, streamKey);
  });
  const consume = await withProduction(({ sql, redis, streamKey }) =>
    rawConsume(sql, redis, streamKey, size.baseline),
  );
  results.push(result('baseline: pipelined XADD (500 a batch)', round(xadd), 'events/s'));
  results.push(result('baseline: outbox drain (DELETE..RETURNING + XADD)', round(drain), 'events/s'));
  results.push(result('baseline: XREADGROUP + ledger tx per batch', round(consume), 'events/s'));

  log(`relay draining ${size.relay} events ...`);
  const relay = await withProduction((t) => relayDrain(t, size.relay));
  results.push(
    result('relay: drain pre-filled outbox', round(relay), 'events/s', {
      baseline: drain,
      target: { op: '>=', value: 50_000 },
    }),
  );
  results.push(
    result('relay: share of raw drain', round(relay / drain, 2), 'x', { target: { op: '>=', value: 0.7 } }),
  );

  log(`consumer applying ${size.consumer} events ...`);
  const consumer = await withProduction((t) => consumerApply(t, size.consumer));
  results.push(
    result('consumer: ledger + built-in handler', round(consumer), 'events/s', {
      baseline: consume,
      target: { op: '>=', value: 30_000 },
    }),
  );
  results.push(
    result('consumer: share of raw batched baseline', round(consumer / consume, 2), 'x', {
      target: { op: '>=', value: 0.5 },
    }),
  );

  log(`pipeline with ${size.pipeline} events ...`);
  const pipeline = await withProduction((t) => pipelineSustained(t, size.pipeline));
  results.push(
    result('pipeline: commit to ledger, sustained', round(pipeline.eventsPerS), 'events/s', {
      baseline: drain,
      target: { op: '>=', value: 25_000 },
    }),
  );
  results.push(
    result('relay: peak RSS under load', round(pipeline.relayRssMb, 1), 'MB', {
      target: { op: '<=', value: 150 },
    }),
  );
  results.push(
    result('consumer: peak RSS under load', round(pipeline.consumerRssMb, 1), 'MB', {
      target: { op: '<=', value: 150 },
    }),
  );

  for (const [perSecond, p99Target] of [
    [1_000, 30],
    [5_000, 200],
  ] as const) {
    log(`latency at ${perSecond} events/s for ${size.latencyS} s ...`);
    const latency = await withProduction((t) => latencyAtRate(t, perSecond, size.latencyS));
    results.push(result(`latency @${perSecond}/s: p50`, round(latency.p50, 1), 'ms'));
    results.push(
      result(`latency @${perSecond}/s: p99`, round(latency.p99, 1), 'ms', {
        target: { op: '<=', value: p99Target },
      }),
    );
    results.push(result(`latency @${perSecond}/s: max`, round(latency.max, 1), 'ms'));
  }

  log(`local mode pipeline with ${size.local} events ...`);
  const local = await withLocal((t) => pipelineSustained(t, size.local));
  results.push(
    result('local mode: pipeline, sustained', round(local.eventsPerS), 'events/s', {
      baseline: pipeline.eventsPerS,
      target: { op: '>=', value: 5_000 },
    }),
  );
  log(`local mode latency at 1000 events/s for ${size.latencyS} s ...`);
  const localLatency = await withLocal((t) => latencyAtRate(t, 1_000, size.latencyS));
  results.push(result('local mode latency @1000/s: p99', round(localLatency.p99, 1), 'ms'));

  for (const binary of BINARIES) {
    results.push(
      result(`start-up: ${binary}.mjs --help`, round(helpStartupMs(binary)), 'ms', {
        target: { op: '<=', value: 300 },
      }),
    );
  }

  const table = renderTable(results);
  process.stdout.write(`${table}\n`);
  writeResults(new URL('../../bench-results.json', import.meta.url).pathname, machine, results);
  const missed = results.filter((r) => r.met === false);
  process.stdout.write(
    missed.length === 0 ? 'all targets met\n' : `targets missed: ${missed.map((r) => r.name).join('; ')}\n`,
  );
};

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
