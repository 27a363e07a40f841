// `mm-consumer replay` as an operator types it, and the CLI's exit codes for bad input.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { assertNoBinariesLeft, runBinary, startBinary } from './helpers/binaries.ts';
import { addEntries, userEvent } from './helpers/consumer-events.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { recordPartitions, useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const GROUP = 'markdown-lint-consumer';

describe('mm-consumer replay and CLI errors', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let dir: string;
  let conn: string[];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mm-consumer-cli-'));
    conn = ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix];
    await recordPartitions(redis.client, redis.prefix);
  });
  afterEach(() => assertNoBinariesLeft());
  after(() => rmSync(dir, { recursive: true, force: true }));

  const lastDelivered = async (): Promise<string> => {
    const groups = (await redis.client.xinfo('GROUPS', `${redis.prefix}identity`)) as unknown[][];
    const flat = groups[0] ?? [];
    return String(flat[flat.indexOf('last-delivered-id') + 1]);
  };

  it('dry-runs, then replays from a stream id; the ledger skips what was applied', async () => {
    const events = Array.from({ length: 20 }, () => userEvent());
    const ids = await addEntries(
      redis.client,
      `${redis.prefix}identity`,
      events.map((e) => e.fields),
    );
    let consumer = await startBinary('mm-consumer', ['run', ...conn, '--block-ms', '200']);
    await eventually(async () => {
      const [row] = await db.sql`select count(*)::int as n from event_ledger`;
      return row?.n === 20;
    }, 10_000);
    // The metric follows the acknowledgement, which comes just after the ledger's commit.
    const lastProcessed = async (): Promise<string> =>
      String(
        ((await (await fetch(`${consumer.url}/metrics`)).json()) as Record<string, unknown>)
          .last_processed_event_id,
      );
    await eventually(async () => (await lastProcessed()) === ids.at(-1), 5_000).catch(() => {});
    const lastId = await lastProcessed();
    assert.equal(lastId, ids.at(-1));
    assert.equal(await consumer.stop(), 0);
    const position = await lastDelivered();

    const dry = await runBinary('mm-consumer', [
      'replay',
      ...conn,
      '--group',
      GROUP,
      '--topic',
      'identity',
      '--from',
      'start',
      '--dry-run',
    ]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /20 entries would be re-delivered; 20 of them are already in the ledger and would be skipped/,
    );
    assert.match(dry.stdout, /dry run: nothing changed/);
    assert.equal(await lastDelivered(), position, 'a dry run moves nothing');

    const byTime = await runBinary('mm-consumer', [
      'replay',
      ...conn,
      '--from',
      '2020-01-01T00:00:00Z',
      '--dry-run',
    ]);
    assert.match(byTime.stdout, /20 entries would be re-delivered/);
    const fromLast = await runBinary('mm-consumer', ['replay', ...conn, '--from', lastId, '--dry-run']);
    assert.match(
      fromLast.stdout,
      /1 entries would be re-delivered/,
      'replay --from last_processed_event_id includes it',
    );
    const toEnd = await runBinary('mm-consumer', ['replay', ...conn, '--from', 'end', '--dry-run']);
    assert.match(toEnd.stdout, /0 entries would be re-delivered/);

    const from = ids[10] as string;
    const real = await runBinary('mm-consumer', ['replay', ...conn, '--from', from]);
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /10 entries will be re-delivered; 10 of them are already in the ledger/);
    assert.notEqual(await lastDelivered(), position);

    consumer = await startBinary('mm-consumer', ['run', ...conn, '--block-ms', '200']);
    await eventually(async () => {
      const m = (await (await fetch(`${consumer.url}/metrics`)).json()) as Record<string, unknown>;
      return (m.events_skipped_total as { duplicate: number }).duplicate === 10;
    }, 10_000);
    const [row] = await db.sql`
      select count(*)::int as ledger, max(version)::int as max_version from lint_profiles
      join event_ledger on event_ledger.event_id = lint_profiles.last_event_id`;
    assert.deepEqual({ ...row }, { ledger: 20, max_version: 1 });
    assert.equal(await consumer.stop(), 0);
  });

  it('exits 64 on a bad --from, 66 on an unknown group, 78 on bad configuration', async () => {
    const bad = await runBinary('mm-consumer', ['replay', ...conn, '--from', 'yesterday']);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /--from must be a stream id/);
    const future = await runBinary('mm-consumer', ['replay', ...conn, '--from', '9999999999999-0']);
    assert.equal(future.code, 64);
    assert.match(future.stderr, /after the newest entry/);
    const unknown = await runBinary('mm-consumer', [
      'replay',
      ...conn,
      '--group',
      'nobody',
      '--from',
      'start',
    ]);
    assert.equal(unknown.code, 66);
    assert.match(unknown.stderr, /consumer group nobody does not exist on stream identity/);
    const missing = await runBinary('mm-consumer', ['replay', ...conn]);
    assert.equal(missing.code, 64, 'commander: required option');

    const config = await runBinary('mm-consumer', [
      'run',
      '--redis-url',
      'http://x',
      '--batch-size',
      '0',
      '--max-deliveries',
      'many',
    ]);
    assert.equal(config.code, 78);
    for (const text of ['--database-url', '--redis-url', '--batch-size', '--max-deliveries'])
      assert.ok(config.stderr.includes(text), text);

    const notAModule = join(dir, 'broken.mjs');
    writeFileSync(notAModule, 'export const handlers = { "user.created": 42, "NotAType": () => {} };');
    const handler = await runBinary('mm-consumer', ['run', ...conn, '--handler', notAModule]);
    assert.equal(handler.code, 78);
    assert.match(handler.stderr, /handler for user\.created must be a function/);
    assert.match(handler.stderr, /"NotAType" is not an event type/);
    const absent = await runBinary('mm-consumer', ['run', ...conn, '--handler', join(dir, 'absent.mjs')]);
    assert.equal(absent.code, 78);
    assert.match(absent.stderr, /cannot load/);
  });
});

// Issue-level behaviour of the replay (both modes, in-process) is in consumer-replay-dead-letters;
// here the CLI an operator types, end to end with the binaries.
describe('mm-consumer replay and dead letters (CLI)', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  afterEach(() => assertNoBinariesLeft());

  it('holds back a dead-lettered event, says so in its dry run, and delivers it with --include-dead-letters', async () => {
    const conn = ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix];
    await recordPartitions(redis.client, redis.prefix);
    const stream = `${redis.prefix}identity`;
    const dlqLength = (): Promise<number> => redis.client.xlen(`${redis.prefix}identity.dlq`);
    const ledgerRows = async (): Promise<number> =>
      (await db.sql`select count(*)::int as n from event_ledger`)[0]?.n ?? 0;
    const events = [userEvent(), userEvent({ payload: { broken: true } }), userEvent()];
    await addEntries(
      redis.client,
      stream,
      events.map((e) => e.fields),
    );
    const run = ['run', ...conn, '--block-ms', '200', '--max-deliveries', '1'];
    let consumer = await startBinary('mm-consumer', run);
    await eventually(async () => (await ledgerRows()) === 2 && (await dlqLength()) === 1, 10_000);
    assert.equal(await consumer.stop(), 0);

    const replay = (...extra: string[]) =>
      runBinary('mm-consumer', ['replay', ...conn, '--from', 'start', ...extra]);
    const dry = await replay('--dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /3 entries would be re-delivered; 2 of them are already in the ledger/);
    assert.match(
      dry.stdout,
      /1 of them were dead-lettered for markdown-lint-consumer \(1 open, 0 closed\): they would be held back/,
    );
    const real = await replay();
    assert.equal(real.code, 0, real.stderr);
    assert.match(real.stdout, /they will be held back/);

    consumer = await startBinary('mm-consumer', run);
    await eventually(async () => {
      const pending = (await redis.client.xpending(stream, GROUP)) as [number, ...unknown[]];
      const m = (await (await fetch(`${consumer.url}/metrics`)).json()) as Record<string, unknown>;
      return pending[0] === 0 && (m.events_skipped_total as { duplicate: number }).duplicate === 3;
    }, 10_000);
    assert.equal(await dlqLength(), 1, 'the held-back event is not dead-lettered again');
    assert.equal(await ledgerRows(), 2, 'nor applied');
    assert.equal(await consumer.stop(), 0);

    const including = await replay('--include-dead-letters', '--dry-run');
    assert.equal(including.code, 0, including.stderr);
    assert.match(
      including.stdout,
      /1 of them were dead-lettered .*: they would be delivered again \(--include-dead-letters\)/,
    );
  });
});
