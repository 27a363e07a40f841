// mm-dlq looks before it acts and never floods the terminal: inspect shows at most 4 KiB of payload
// unless --full; reprocess --id X --dry-run says what it would publish and what each group's ledger
// holds, changing nothing; resolve --all needs --yes off a terminal, like purge.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import type { Bus } from '../src/ports/bus.ts';
import { AUDIT, consumerDeadLetter, DLQ, GROUP, mmDlq, TOPIC, userEvent } from './dlq-fixtures.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

describe('mm-dlq operator safety', { skip: await skipUnless('postgres', 'redis') }, () => {
  const db = useTestDatabase({ migrate: true });
  const redis = useTestRedis({ perTest: true });
  let run: ReturnType<typeof mmDlq>;

  const setUp = async (): Promise<Bus> => {
    run = mmDlq({ redisUrl: redis.url, prefix: redis.prefix, databaseUrl: db.url });
    const prefixed = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
    await prefixed.ensureStream(DLQ);
    await prefixed.createGroup(TOPIC, GROUP);
    return prefixed;
  };

  it('inspect shows the first 4 KiB of a 1 MB payload and says so; --full shows it all', async () => {
    const b = await setUp();
    try {
      const blob = 'x'.repeat(1_000_000);
      const dead = await consumerDeadLetter(b, { event: userEvent({ payload: { blob } }) });
      const text = await run(`inspect --stream identity.dlq --id ${dead.id}`);
      assert.equal(text.code, 0, text.stderr);
      assert.ok(text.stdout.length < 12_000, `inspect printed ${text.stdout.length} characters`);
      assert.match(text.stdout, /payload is 1000\d+ bytes; the first 4096 are shown \(--full shows it all\)/);
      const full = await run(`inspect --stream identity.dlq --id ${dead.id} --full`);
      assert.ok(full.stdout.includes(blob));
      const json = JSON.parse((await run(`inspect --stream identity.dlq --id ${dead.id} --json`)).stdout);
      assert.equal(json.payload_truncated, true);
      assert.ok(json.payload_bytes > 1_000_000);
      assert.ok(Buffer.byteLength(json.payload) <= 4096);
      assert.equal(json.fields.payload, json.payload);
      const small = await consumerDeadLetter(b);
      const whole = JSON.parse((await run(`inspect --stream identity.dlq --id ${small.id} --json`)).stdout);
      assert.deepEqual([whole.payload_truncated, whole.payload], [false, small.event.payload]);
    } finally {
      await b.close();
    }
  });

  it('reprocess --id X --dry-run says what would be published and the ledger state, and changes nothing', async () => {
    const b = await setUp();
    try {
      const dead = await consumerDeadLetter(b);
      const before = [await b.len(TOPIC), await b.len(DLQ), await b.len(AUDIT)];
      const dry = await run(`reprocess --stream identity.dlq --id ${dead.id} --dry-run`);
      assert.equal(dry.code, 0, dry.stderr);
      assert.match(
        dry.stdout,
        new RegExp(
          `^dry run: reprocess of ${dead.id} \\(event ${dead.event.eventId}\\) in identity.dlq, open`,
        ),
      );
      assert.match(
        dry.stdout,
        /would publish to identity: event_type user\.created, event_id [0-9a-f-]{36}, reprocess_count 1/,
      );
      assert.match(dry.stdout, new RegExp(`ledger: group ${GROUP} has not applied it: it would apply it`));
      assert.match(dry.stdout, /nothing was changed$/m);
      const json = JSON.parse(
        (await run(`reprocess --stream identity.dlq --id ${dead.id} --dry-run --json`)).stdout,
      );
      assert.deepEqual(
        [json.dry_run, json.state, json.would_publish.stream, json.ledger.checked],
        [true, 'open', TOPIC, true],
      );
      assert.deepEqual([await b.len(TOPIC), await b.len(DLQ), await b.len(AUDIT)], before);
      assert.equal((await run(`reprocess --stream identity.dlq --id ${dead.id}`)).code, 0);
      const closed = await run(`reprocess --stream identity.dlq --id ${dead.id} --dry-run`);
      assert.match(
        closed.stdout,
        /already closed \(reprocessed .*\): nothing would be published \(--force publishes again\)/,
      );
    } finally {
      await b.close();
    }
  });

  it('resolve --all needs --yes when not on a terminal, and then resolves', async () => {
    const b = await setUp();
    try {
      await consumerDeadLetter(b);
      await consumerDeadLetter(b);
      const refused = await run('resolve --stream identity.dlq --all');
      assert.equal(refused.code, 64);
      assert.match(refused.stderr, /resolve --all needs --yes when not run on a terminal/);
      assert.equal(await b.len(DLQ), 2);
      assert.equal((await run('resolve --stream identity.dlq --all --dry-run')).code, 0);
      assert.equal(await b.len(DLQ), 2);
      const done = await run('resolve --stream identity.dlq --all --yes');
      assert.equal(done.code, 0, done.stderr);
      assert.equal(await b.len(DLQ), 0);
      assert.equal((await run('resolve --stream identity.dlq --event-type user.created')).code, 0);
    } finally {
      await b.close();
    }
  });
});
