// Bulk reprocess and resolve: 1,000 entries at --rate 200, --dry-run against the ledger, filters and
// --limit, and the early stop when reprocessed events come back to the DLQ.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { deadLetterFields } from '../src/core/dead-letter.ts';
import { toStreamFields } from '../src/core/envelope.ts';
import type { Bus } from '../src/ports/bus.ts';
import {
  auditRecords,
  consumerDeadLetter,
  DLQ,
  GROUP,
  type MadeDeadLetter,
  mmDlq,
  recordTopic,
  relayDeadLetter,
  TOPIC,
  userEvent,
} from './dlq-fixtures.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const at = new Date().toISOString();
const relayFields = () =>
  deadLetterFields(toStreamFields(userEvent()), {
    stage: 'relay',
    originStream: TOPIC,
    error: new Error('event is over the size limit'),
    attempts: 2,
    firstFailedAt: at,
    failedAt: at,
  });

describe('mm-dlq bulk operations', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let bus: Bus;
  let run: ReturnType<typeof mmDlq>;

  before(async () => {
    bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
    await recordTopic(bus);
    run = mmDlq({ redisUrl: redis.url, prefix: redis.prefix, databaseUrl: db.url });
  });
  after(() => bus.close());

  it('reprocess --all --rate 200 puts 1,000 dead letters back, each with its audit record', async () => {
    const entries = Array.from({ length: 1000 }, () => ({ stream: DLQ, fields: relayFields() }));
    const ids = (await bus.addBatch(entries)).map((outcome) => ('id' in outcome ? outcome.id : ''));
    const eventIds = new Set(entries.map((e) => e.fields.event_id));
    const started = Date.now();
    const result = await run('reprocess --stream identity.dlq --all --rate 200 --json');
    const elapsed = Date.now() - started;
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(result.stdout);
    assert.deepEqual(
      [summary.selected, summary.done, summary.already_closed, summary.failed],
      [1000, 1000, 0, []],
    );
    process.stdout.write(
      `# 1,000 reprocessed at --rate 200 in ${elapsed} ms (the tool measured ${summary.elapsed_ms} ms)\n`,
    );

    const published = await bus.range(TOPIC);
    assert.equal(published.length, 1000);
    assert.deepEqual(new Set(published.map((e) => e.fields.event_id)), eventIds);
    assert.equal(await bus.len(DLQ), 0);
    const audits = await auditRecords(bus);
    assert.equal(audits.length, 1000);
    assert.deepEqual(new Set(audits.map((a) => a.dlq_id)), new Set(ids));
    const byId = new Map(published.map((e) => [e.id, e]));
    for (const audit of audits) {
      assert.equal(audit.action, 'reprocessed');
      const entry = byId.get(audit.new_stream_id ?? '');
      assert.equal(entry?.fields.event_id, audit.event_id, 'new_stream_id names the republished event');
      assert.equal(JSON.parse(entry?.fields.headers ?? '{}').reprocessed_from, audit.dlq_id);
    }
  });

  it('--dry-run shows per group what would be applied and what the ledger already has, and changes nothing', async () => {
    await bus.createGroup(TOPIC, GROUP);
    await bus.createGroup(TOPIC, 'search-indexer');
    const made: MadeDeadLetter[] = [];
    for (let i = 0; i < 10; i++)
      made.push(await consumerDeadLetter(bus, { event: userEvent({ eventType: 'user.disabled' }) }));
    await db.store.withTransaction((tx) =>
      tx.ledger.claim(
        made.slice(0, 4).map((dead) => ({
          eventId: dead.event.eventId,
          consumerGroup: GROUP,
          eventType: 'user.disabled',
          streamId: dead.originId ?? '',
          result: 'applied' as const,
        })),
      ),
    );
    const before = [await bus.len(TOPIC), await bus.len(DLQ)];
    const json = await run('reprocess --stream identity.dlq --event-type user.disabled --dry-run --json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), {
      dry_run: true,
      action: 'reprocessed',
      stream: 'identity.dlq',
      selected: 10,
      ledger_checked: true,
      groups: [
        { origin_stream: 'identity', group: GROUP, would_apply: 6, already_applied: 4 },
        { origin_stream: 'identity', group: 'search-indexer', would_apply: 10, already_applied: 0 },
      ],
    });
    const text = await run('reprocess --stream identity.dlq --event-type user.disabled --dry-run');
    assert.equal(
      text.stdout,
      [
        'dry run: 10 dead letters in identity.dlq would be reprocessed',
        '  ORIGIN    GROUP                   WOULD APPLY  ALREADY APPLIED',
        `  identity  ${GROUP}            6                4`,
        '  identity  search-indexer                   10                0',
        'nothing was changed',
        '',
      ].join('\n'),
    );
    assert.deepEqual([await bus.len(TOPIC), await bus.len(DLQ)], before);
  });

  it('resolve with filters and --limit closes only what they select, oldest first', async () => {
    const other = await relayDeadLetter(bus, { event: userEvent({ eventType: 'user.updated' }) });
    const limited = await run([
      'resolve',
      '--stream',
      'identity.dlq',
      '--event-type',
      'user.disabled',
      '--limit',
      '3',
      '--note',
      'known bad batch',
    ]);
    assert.equal(limited.code, 0, limited.stderr);
    assert.match(limited.stdout, /^resolved 3 of 3 dead letters in identity.dlq/);
    assert.equal(await bus.len(DLQ), 8);
    const rest = await run(['resolve', '--stream', 'identity.dlq', '--error', 'is missing']);
    assert.equal(rest.code, 0, rest.stderr);
    assert.match(rest.stdout, /^resolved 7 of 7 /);
    const open = await bus.range(DLQ);
    assert.deepEqual(
      open.map((e) => e.id),
      [other.id],
    );
    const none = await run('resolve --stream identity.dlq --event-type user.disabled');
    assert.equal(none.code, 0);
    assert.match(
      none.stdout,
      /^no open dead letters in identity.dlq match event type user.disabled; nothing resolved\n$/,
    );
  });

  it('concurrent runs close each dead letter once: parallel reprocess of one id, two bulk runs at once', async () => {
    await bus.del(
      DLQ,
      (await bus.range(DLQ)).map((e) => e.id),
    );
    const one = await relayDeadLetter(bus);
    const before = await bus.len(TOPIC);
    const runs = await Promise.all(
      Array.from({ length: 4 }, () => run(`reprocess --stream identity.dlq --id ${one.id} --json`)),
    );
    assert.deepEqual(
      runs.map((r) => r.code),
      [0, 0, 0, 0],
    );
    const outcomes = runs.map((r) => JSON.parse(r.stdout).outcome).sort();
    assert.deepEqual(outcomes, ['already_closed', 'already_closed', 'already_closed', 'done']);
    assert.equal(await bus.len(TOPIC), before + 1);

    const ids = (
      await bus.addBatch(Array.from({ length: 200 }, () => ({ stream: DLQ, fields: relayFields() })))
    ).map((o) => ('id' in o ? o.id : ''));
    const audited = (await auditRecords(bus)).length;
    const [a, b] = await Promise.all([
      run('reprocess --stream identity.dlq --all --rate 400 --json'),
      run('reprocess --stream identity.dlq --all --rate 400 --json'),
    ]);
    const [sa, sb] = [JSON.parse(a?.stdout ?? '{}'), JSON.parse(b?.stdout ?? '{}')];
    assert.equal(sa.done + sb.done, 200, `${a?.stdout} ${b?.stdout}`);
    assert.equal(await bus.len(TOPIC), before + 201);
    const audits = (await auditRecords(bus)).slice(audited);
    assert.equal(audits.length, 200);
    assert.deepEqual(new Set(audits.map((r) => r.dlq_id)), new Set(ids));
  });

  it('stops early (--max-failures) when reprocessed events come back to the DLQ', async () => {
    await bus.del(
      DLQ,
      (await bus.range(DLQ)).map((e) => e.id),
    );
    await bus.addBatch(Array.from({ length: 60 }, () => ({ stream: DLQ, fields: relayFields() })));
    // A consumer whose handler still fails: every reprocessed event goes straight back to the DLQ.
    let cursor = (await bus.range(TOPIC, { reverse: true, count: 1 }))[0]?.id ?? '0-0';
    let stop = false;
    const failing = (async () => {
      while (!stop) {
        for (const entry of await bus.range(TOPIC, { start: `(${cursor}`, count: 100 })) {
          cursor = entry.id;
          await bus.add(
            DLQ,
            deadLetterFields(entry.fields, {
              stage: 'consumer',
              originStream: TOPIC,
              originId: entry.id,
              consumerGroup: GROUP,
              error: new Error('still broken'),
              attempts: 5,
              firstFailedAt: at,
              failedAt: at,
            }),
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    const result = await run('reprocess --stream identity.dlq --all --rate 20 --max-failures 3');
    stop = true;
    await failing;
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(
      result.stderr,
      /^mm-dlq: stopped early: \d+ reprocessed events came back to identity.dlq \(--max-failures 3\)\n$/,
    );
    const summary = /^reprocessed (\d+) of 60 /.exec(result.stdout);
    assert.ok(summary && Number(summary[1]) < 60, result.stdout);
  });
});
