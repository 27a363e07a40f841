// `mm-dlq export` end to end: a real dead letter from a Redis + Postgres run (a payload the built-in
// handler rejects) is copied into a new local file and applied there, offline, by a fixed handler.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import type { JsonValue } from '../src/core/envelope.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { assertNoBinariesLeft, runBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';
import { useTestDatabase } from './helpers/postgres.ts';
import { useTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const fixHandler = fileURLToPath(new URL('../fixtures/handlers/fix-legacy-user-id.mjs', import.meta.url));
// The offline replay must not need the servers: point their URLs at closed ports.
const offlineEnv = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' };

const asFields = (flat: string[]): Record<string, string> => {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
};

const caseEntries = (file: string, stream: string): Array<Record<string, string>> => {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db
      .prepare(
        'SELECT e.fields FROM bus_entries e JOIN bus_streams s ON s.id = e.stream_id WHERE s.name = ? ORDER BY e.ms, e.seq',
      )
      .all(stream) as { fields: string }[];
    return rows.map((row) => JSON.parse(row.fields) as Record<string, string>);
  } finally {
    db.close();
  }
};

const caseRows = (file: string, sql: string, ...params: string[]): Array<Record<string, unknown>> => {
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare(sql).all(...params) as Array<Record<string, unknown>>;
  } finally {
    db.close();
  }
};

describe('mm-dlq export: a production dead letter replayed offline', {
  skip: await skipUnless('postgres', 'redis'),
}, () => {
  const db = useTestDatabase();
  const redis = useTestRedis();
  let dir: string;
  let production: string[];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-export-'));
    production = ['--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix];
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  afterEach(() => assertNoBinariesLeft());

  /** Runs relay and consumer against Postgres and Redis until the event is dead-lettered. */
  const deadLetterOf = async (payload: {
    [key: string]: JsonValue;
  }): Promise<{ id: string; fields: Record<string, string> }> => {
    const eventId = uuidv7();
    await db.store.withTransaction((tx) =>
      tx.outbox.insert([
        {
          eventId,
          topic: 'identity',
          eventType: 'user.created',
          aggregateType: 'user',
          aggregateId: uuidv7(),
          payload,
        },
      ]),
    );
    const relay = await startBinary('mm-relay', ['run', ...production]);
    const consumer = await startBinary('mm-consumer', ['run', ...production, '--max-deliveries', '1']);
    try {
      return await eventually(async () => {
        const entries = await redis.client.xrange(`${redis.prefix}identity.dlq`, '-', '+');
        const found = entries
          .map(([id, flat]) => ({ id, fields: asFields(flat) }))
          .find((e) => e.fields.event_id === eventId);
        return found;
      }, 20_000);
    } finally {
      assert.equal(await relay.stop(), 0);
      assert.equal(await consumer.stop(), 0);
    }
  };

  it('copies the dead letter and its event into a new file, where a fixed handler applies it', async () => {
    const userId = uuidv7();
    const dead = await deadLetterOf({ user_id: userId, email: 'legacy@example.com', display_name: 'Legacy' });
    assert.equal(dead.fields.dlq_stage, 'consumer');
    assert.match(dead.fields.dlq_error_message ?? '', /payload\.id is missing/);

    const caseFile = join(dir, 'case.db');
    const exported = await runBinary('mm-dlq', [
      'export',
      ...production,
      '--stream',
      'identity.dlq',
      '--id',
      dead.id,
      '--to',
      caseFile,
    ]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, new RegExp(`exported dead letter ${dead.id} .*to ${caseFile}`));
    assert.match(
      exported.stdout,
      /mm-consumer run --local .*case\.db --group markdown-lint-consumer --handler/,
    );
    assert.deepEqual(
      caseEntries(caseFile, 'identity.dlq'),
      [dead.fields],
      'the dead letter, every field as it was',
    );
    const original = Object.fromEntries(
      Object.entries(dead.fields).filter(([name]) => !name.startsWith('dlq_')),
    );
    assert.deepEqual(
      caseEntries(caseFile, 'identity'),
      [original],
      'the original event on its origin stream',
    );

    const offline = await startBinary(
      'mm-consumer',
      ['run', '--local', caseFile, '--handler', fixHandler, '--group', 'markdown-lint-consumer'],
      { env: offlineEnv },
    );
    try {
      await eventually(async () => {
        const metrics = (await (await fetch(`${offline.url}/metrics`)).json()) as Record<string, unknown>;
        return metrics.events_processed_success === 1 && metrics.events_processed_failure === 0;
      }, 15_000);
      await offline.waitForLog(
        new RegExp(
          `applied user.created ${dead.fields.event_id}: lint profile of user ${userId} \\(legacy user_id payload\\)`,
        ),
      );
    } finally {
      assert.equal(await offline.stop(), 0);
    }
    assert.deepEqual(caseRows(caseFile, 'SELECT event_id, consumer_group, result FROM event_ledger'), [
      { event_id: dead.fields.event_id, consumer_group: 'markdown-lint-consumer', result: 'applied' },
    ]);
    assert.deepEqual(caseRows(caseFile, 'SELECT user_id, email, status, version FROM lint_profiles'), [
      { user_id: userId, email: 'legacy@example.com', status: 'active', version: 1 },
    ]);
    // Production keeps its dead letter: the export only read it.
    assert.equal(await redis.client.xlen(`${redis.prefix}identity.dlq`), 1);
  });

  it('refuses to overwrite --to and names a missing dead letter, writing nothing', async () => {
    const exportMissingTo = (file: string) =>
      runBinary('mm-dlq', ['export', ...production, '--stream', 'identity.dlq', '--id', '1-0', '--to', file]);
    const existing = join(dir, 'existing.db');
    writeFileSync(existing, 'keep me');
    const refused = await exportMissingTo(existing);
    assert.equal(refused.code, 64, refused.stderr);
    assert.match(refused.stderr, /existing\.db already exists/);
    assert.equal(readFileSync(existing, 'utf8'), 'keep me');

    const fresh = join(dir, 'fresh.db');
    const missing = await exportMissingTo(fresh);
    assert.equal(missing.code, 66, missing.stderr);
    assert.match(missing.stderr, /no dead letter 1-0/);
    assert.equal(existsSync(fresh), false);

    const usage = await runBinary('mm-dlq', ['export', '--stream', 'identity.dlq', '--id', '1-0']);
    assert.equal(usage.code, 64);
    assert.match(usage.stderr, /--to is required/);
  });
});
