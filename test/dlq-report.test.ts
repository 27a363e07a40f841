// `mm-dlq report --json` against a hand count: new, closed by action, open backlog and breakdowns;
// purge closes old entries into the audit; resolved entries leave the backlog and count as closed.
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
  relayDeadLetter,
  userEvent,
} from './dlq-fixtures.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const DAY_MS = 86_400_000;

describe('mm-dlq report and purge', { skip: await skipUnless('redis') }, () => {
  const redis = useTestRedis();
  let bus: Bus;
  let run: ReturnType<typeof mmDlq>;
  const relays: MadeDeadLetter[] = [];
  const updates: MadeDeadLetter[] = [];
  const timeouts: MadeDeadLetter[] = [];
  const old: string[] = [];

  before(async () => {
    bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
    run = mmDlq({ redisUrl: redis.url, prefix: redis.prefix });
    // Two dead letters from 40 and 35 days ago (explicit old ids, as if they had waited that long).
    for (const daysAgo of [40, 35]) {
      const event = userEvent();
      const fields = deadLetterFields(toStreamFields(event), {
        stage: 'relay',
        originStream: 'identity',
        error: new Error('old failure'),
        attempts: 2,
        firstFailedAt: new Date(Date.now() - daysAgo * DAY_MS).toISOString(),
        failedAt: new Date(Date.now() - daysAgo * DAY_MS).toISOString(),
      });
      const id = `${Date.now() - daysAgo * DAY_MS}-0`;
      await redis.client.xadd(`${redis.prefix}${DLQ}`, id, ...Object.entries(fields).flat());
      old.push(id);
    }
    for (let i = 0; i < 3; i++) relays.push(await relayDeadLetter(bus));
    for (let i = 0; i < 4; i++)
      updates.push(
        await consumerDeadLetter(bus, {
          event: userEvent({ eventType: 'user.updated', payload: { broken: i } }),
        }),
      );
    for (let i = 0; i < 2; i++)
      timeouts.push(
        await consumerDeadLetter(bus, {
          group: 'audit-consumer',
          errorClass: 'TimeoutError',
          message: `handler timed out after ${30 + i} s`,
        }),
      );
    await relayDeadLetter(bus, { event: userEvent({ topic: 'billing', eventType: 'invoice.created' }) });
  });
  after(() => bus.close());

  it('purge needs --yes when not on a terminal, and changes nothing without it', async () => {
    const result = await run('purge --stream identity.dlq --older-than 30d');
    assert.equal(result.code, 64);
    assert.equal(
      result.stderr,
      'mm-dlq: purge needs --yes when not run on a terminal (or --dry-run to count first)\n',
    );
    assert.equal(await bus.len(DLQ), 11);
  });

  it('purge --dry-run counts, purge --yes closes the old entries as purged into the audit', async () => {
    const dry = await run('purge --stream identity.dlq --older-than 30d --dry-run');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /^dry run: 2 dead letters in identity.dlq would be purged \(before \S+\); nothing was changed\n$/,
    );
    const result = await run('purge --stream identity.dlq --older-than 30d --yes --note retention');
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /^purged 2 of 2 dead letters in identity.dlq in .*; 0 already closed, 0 failed\n$/,
    );
    assert.equal(await bus.len(DLQ), 9);
    const purged = (await auditRecords(bus)).filter((r) => r.action === 'purged');
    assert.deepEqual(
      purged.map((r) => [r.dlq_id, r.note, r.dlq_error_message]),
      old.map((id) => [id, 'retention', 'old failure']),
    );
  });

  it('report --hours 24 --json matches a hand count', async () => {
    for (const dead of updates.slice(0, 2))
      assert.equal((await run(`resolve --stream identity.dlq --id ${dead.id}`)).code, 0);
    assert.equal((await run(`reprocess --stream identity.dlq --id ${relays[0]?.id}`)).code, 0);

    const result = await run('report --stream identity.dlq --hours 24 --json');
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.hours, 24);
    assert.deepEqual(report.totals, { new: 9, closed: 5, open: 6 });
    const [stream] = report.streams;
    assert.equal(report.streams.length, 1);
    assert.equal(stream.stream, 'identity.dlq');
    assert.equal(stream.new, 9, 'the two purged ones are older than the window');
    assert.deepEqual(stream.closed, { total: 5, reprocessed: 1, resolved: 2, purged: 2 });
    assert.equal(stream.open.count, 6);
    assert.equal(stream.open.oldest_id, relays[1]?.id);
    assert.deepEqual(stream.by_event_type, [
      { event_type: 'user.created', count: 5, open: 4 },
      { event_type: 'user.updated', count: 4, open: 2 },
    ]);
    assert.deepEqual(stream.by_stage, [
      { stage: 'consumer', consumer_group: GROUP, count: 4, open: 2 },
      { stage: 'relay', consumer_group: null, count: 3, open: 2 },
      { stage: 'consumer', consumer_group: 'audit-consumer', count: 2, open: 2 },
    ]);
    assert.deepEqual(
      stream.by_fingerprint.map((f: { count: number; open: number; error_class: string }) => [
        f.error_class,
        f.count,
        f.open,
      ]),
      [
        ['ValidationError', 4, 2],
        ['PermanentError', 3, 2],
        ['TimeoutError', 2, 2],
      ],
    );
    const timeout = stream.by_fingerprint[2];
    assert.equal(timeout.sample_id, timeouts[1]?.id);
    assert.equal(timeout.first_seen <= timeout.last_seen, true);
    assert.equal(
      stream.hourly.reduce((sum: number, h: { count: number }) => sum + h.count, 0),
      9,
    );
    assert.equal(stream.hourly.length, 25);
  });

  it('report without --stream covers every *.dlq stream', async () => {
    const result = await run('report --hours 24 --json');
    const report = JSON.parse(result.stdout);
    assert.deepEqual(
      report.streams.map((s: { stream: string; new: number; open: { count: number } }) => [
        s.stream,
        s.new,
        s.open.count,
      ]),
      [
        ['billing.dlq', 1, 1],
        ['identity.dlq', 9, 6],
      ],
    );
    assert.deepEqual(report.totals, { new: 10, closed: 5, open: 7 });
    const text = await run('report --hours 24');
    assert.match(
      text.stdout,
      /DLQ report for billing\.dlq[\s\S]*DLQ report for identity\.dlq[\s\S]*\nAll dead-letter streams: 10 new, 5 closed, 7 open\n$/,
    );
  });
});
