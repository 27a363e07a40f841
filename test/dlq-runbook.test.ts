// The runbook's five DLQ commands, typed as written (with mm-dlq), against dead letters of both stages,
// and its idempotency drill: reprocess the same entry twice.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import type { Bus } from '../src/ports/bus.ts';
import {
  AUDIT,
  auditRecords,
  consumerDeadLetter,
  DLQ,
  GROUP,
  type MadeDeadLetter,
  mmDlq,
  relayDeadLetter,
  TOPIC,
} from './dlq-fixtures.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const ESC = '\u001b';

describe('mm-dlq: the runbook commands as typed', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let bus: Bus;
  let run: ReturnType<typeof mmDlq>;
  let relay: MadeDeadLetter;
  let consumer: MadeDeadLetter;

  before(async () => {
    bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
    run = mmDlq({ redisUrl: redis.url, prefix: redis.prefix, databaseUrl: db.url });
    await bus.createGroup(TOPIC, GROUP);
    relay = await relayDeadLetter(bus);
    consumer = await consumerDeadLetter(bus);
  });
  after(() => bus.close());

  it('list --stream identity.dlq --count 20: newest first, plain text, with the events waiting behind each', async () => {
    const result = await run('list --stream identity.dlq --count 20');
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'identity.dlq: 2 open dead letters, the newest 2');
    assert.match(lines[1] ?? '', /^ID +AGE +EVENT TYPE +EVENT ID +STAGE\/GROUP +ATTEMPTS +WAITING +ERROR$/);
    assert.match(
      lines[2] ?? '',
      new RegExp(
        `^${consumer.id} .* user\\.created +${consumer.event.eventId} +consumer/${GROUP} +5 +0 +ValidationError: payload of`,
      ),
    );
    assert.match(
      lines[3] ?? '',
      new RegExp(`^${relay.id} .* ${relay.event.eventId} +relay +2 +0 +PermanentError: event`),
    );
    assert.ok(!result.stdout.includes(ESC), 'no escape codes when not on a terminal');
    for (const line of lines) assert.ok(line.length <= 160, `fits the width: ${line}`);
  });

  it('list --json prints an array with the dead letters', async () => {
    const result = await run('list --stream identity.dlq --count 20 --json');
    const items = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    assert.deepEqual(
      items.map((item) => [item.id, item.stage, item.consumer_group, item.origin_id]),
      [
        [consumer.id, 'consumer', GROUP, consumer.originId],
        [relay.id, 'relay', null, null],
      ],
    );
  });

  it('inspect --stream identity.dlq --id <id>: every field, payload, stack and the ledger per group', async () => {
    let result = await run(`inspect --stream identity.dlq --id ${consumer.id}`);
    assert.equal(result.code, 0, result.stderr);
    const text = result.stdout;
    assert.match(text, new RegExp(`^Dead letter ${consumer.id} in identity.dlq: OPEN`));
    for (const field of [
      'event_id',
      'event_type',
      'topic',
      'aggregate_type',
      'aggregate_id',
      'occurred_at',
      'outbox_id',
      'headers',
      'schema_version',
    ])
      assert.match(text, new RegExp(`\\n  ${field} +\\S`), field);
    assert.match(text, /Payload\n {2}\{\n {4}"broken": true\n {2}\}/);
    assert.match(text, /Stack\n {2}ValidationError: payload of .* is missing "id"\n {6}at /);
    assert.match(text, /attempts +5/);
    assert.match(text, new RegExp(`origin +identity ${consumer.originId}`));
    assert.match(
      text,
      new RegExp(`Ledger \\(event_id ${consumer.event.eventId}\\)\\n  ${GROUP} +not applied`),
    );

    await db.store.withTransaction((tx) =>
      tx.ledger.claim([
        {
          eventId: consumer.event.eventId,
          consumerGroup: GROUP,
          eventType: 'user.created',
          streamId: consumer.originId ?? '',
          result: 'applied',
        },
      ]),
    );
    result = await run(`inspect --stream identity.dlq --id ${consumer.id} --json`);
    const json = JSON.parse(result.stdout);
    assert.equal(json.state, 'open');
    assert.deepEqual(json.payload, { broken: true });
    assert.equal(json.failure.consumer_group, GROUP);
    assert.deepEqual(
      json.ledger.groups.map((g: { group: string; applied: boolean }) => [g.group, g.applied]),
      [[GROUP, true]],
    );
  });

  it('inspect without a database says the ledger was not checked', async () => {
    const noDb = mmDlq({ redisUrl: redis.url, prefix: redis.prefix });
    const result = await noDb(`inspect --stream identity.dlq --id ${relay.id}`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, new RegExp(`not checked: no --database-url given \\(groups: ${GROUP}\\)`));
  });

  it('reprocess twice: one publish, the second run says so and exits 0; --force publishes again', async () => {
    const before = await bus.len(TOPIC);
    const first = await run(`reprocess --stream identity.dlq --id ${relay.id}`);
    assert.equal(first.code, 0, first.stderr);
    assert.match(
      first.stdout,
      new RegExp(
        `^reprocessed ${relay.id} \\(event ${relay.event.eventId}\\): published to identity as \\d+-\\d+, reprocess_count 1`,
      ),
    );
    const second = await run(`reprocess --stream identity.dlq --id ${relay.id}`);
    assert.equal(second.code, 0, second.stderr);
    assert.match(
      second.stdout,
      new RegExp(
        `^${relay.id} was already reprocessed at \\S+ by \\S+ \\(published as \\d+-\\d+\\); nothing published`,
      ),
    );
    assert.equal(await bus.len(TOPIC), before + 1, 'the second run published nothing');

    const published = (await bus.range(TOPIC, { reverse: true, count: 1 }))[0];
    assert.equal(published?.fields.event_id, relay.event.eventId);
    assert.equal(published?.fields.outbox_id, relay.event.outboxId);
    assert.deepEqual(
      Object.keys(published?.fields ?? {}).filter((name) => name.startsWith('dlq_')),
      [],
    );
    assert.deepEqual(JSON.parse(published?.fields.headers ?? '{}'), {
      ...relay.event.headers,
      reprocessed_from: relay.id,
      reprocess_count: 1,
    });
    assert.equal(
      (await bus.range(DLQ, { start: relay.id, end: relay.id })).length,
      0,
      'closed: gone from the DLQ',
    );
    const [audit] = await auditRecords(bus);
    assert.equal(audit?.action, 'reprocessed');
    assert.equal(audit?.dlq_id, relay.id);
    assert.equal(audit?.new_stream_id, published?.id);
    assert.equal(audit?.event_id, relay.event.eventId);
    assert.equal(audit?.dlq_stage, 'relay');
    assert.ok(audit?.actor && audit.at);

    const forced = await run(`reprocess --stream identity.dlq --id ${relay.id} --force --actor ops-ana`);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /again \(--force\): identity as \d+-\d+, reprocess_count 2/);
    assert.equal(await bus.len(TOPIC), before + 2);
    const records = await auditRecords(bus);
    assert.equal(records.length, 2);
    assert.deepEqual([records[1]?.forced, records[1]?.actor], ['true', 'ops-ana']);
  });

  it('inspect shows a closed entry from the audit, saying how it was closed', async () => {
    const result = await run(`inspect --stream identity.dlq --id ${relay.id}`);
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      new RegExp(
        `^Dead letter ${relay.id} in identity.dlq: CLOSED, reprocessed \\S+ by \\S+, as \\d+-\\d+ on identity`,
      ),
    );
    assert.match(
      result.stdout,
      /\nAudit\n {2}\d+-\d+ {2}reprocessed .*\n {2}\d+-\d+ {2}published again \(--force\) .* by ops-ana/,
    );
    assert.match(result.stdout, new RegExp(relay.event.eventId));
  });

  it('resolve --stream identity.dlq --id <id>: closes without publishing; the backlog is empty', async () => {
    const before = await bus.len(TOPIC);
    const result = await run([
      'resolve',
      '--stream',
      'identity.dlq',
      '--id',
      consumer.id,
      '--note',
      'bad fixture',
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(
      result.stdout,
      `resolved ${consumer.id} (event ${consumer.event.eventId}); audit record in ${AUDIT}\n`,
    );
    assert.equal(await bus.len(TOPIC), before);
    assert.equal(await bus.len(DLQ), 0);
    const records = await auditRecords(bus);
    assert.deepEqual(
      [records.at(-1)?.action, records.at(-1)?.note, records.at(-1)?.dlq_consumer_group],
      ['resolved', 'bad fixture', GROUP],
    );
    const again = await run(`resolve --stream identity.dlq --id ${consumer.id}`);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /was already resolved at .*; nothing to do/);
    const list = await run('list --stream identity.dlq --count 20');
    assert.equal(list.stdout, 'identity.dlq: 0 open dead letters\n');
  });

  it('report --stream identity.dlq --hours 24: new, closed by action, open backlog, breakdowns, histogram', async () => {
    const result = await run('report --stream identity.dlq --hours 24');
    assert.equal(result.code, 0, result.stderr);
    const text = result.stdout;
    assert.match(text, /^DLQ report for identity.dlq: last 24 h \(\S+ \S+ to \S+ \S+\)\n/);
    assert.match(text, /\n {2}new dead letters {2}2\n/);
    assert.match(text, /\n {2}closed {12}2 \(reprocessed 1, resolved 1, purged 0\); 1 forced re-publishes\n/);
    assert.match(text, /\n {2}open backlog {6}0\n/);
    assert.match(text, /By event type\n {2}EVENT TYPE +NEW +STILL OPEN\n {2}user\.created +2 +0\n/);
    assert.match(text, new RegExp(`By stage/group\\n.*\\n  consumer/${GROUP} +1 +0\\n  relay +1 +0\\n`));
    assert.match(
      text,
      /By error fingerprint\n {2}FINGERPRINT +COUNT +OPEN +FIRST SEEN +LAST SEEN +SAMPLE ID +ERROR\n/,
    );
    assert.match(text, /New dead letters per hour \(UTC\)\n( {2}\d\d-\d\d \d\d:00 +\d+( █+)?\n){25}$/);
    assert.ok(!text.includes(ESC));
  });

  it('the idempotency drill by event id: reprocess --id <event-id> twice publishes once', async () => {
    const dead = await relayDeadLetter(bus);
    const before = await bus.len(TOPIC);
    const first = await run(`reprocess --stream identity.dlq --id ${dead.event.eventId}`);
    const second = await run(`reprocess --stream identity.dlq --id ${dead.event.eventId}`);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(second.code, 0, second.stderr);
    assert.match(first.stdout, new RegExp(`^reprocessed ${dead.id} `));
    assert.match(second.stdout, new RegExp(`^${dead.id} was already reprocessed`));
    assert.equal(await bus.len(TOPIC), before + 1);
  });
});
