// Local mode end to end as operators run it: mm-backend, mm-relay, mm-consumer and mm-dlq as four
// separate processes (the built bundles) on one SQLite file, no Postgres or Redis. 5,000 users go
// in over HTTP; exactly 5,000 ledger rows and profiles come out, also across kill -9 and a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { assertNoBinariesLeft, type RunningBinary, runBinary, startBinary } from './helpers/binaries.ts';
import { eventually } from './helpers/eventually.ts';

const USERS = 5_000;
const CONCURRENCY = 16;
// Closed ports: local mode must not touch them even when they are configured.
const env = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none', REDIS_URL: 'redis://127.0.0.1:1' };

/** POSTs JSON over a keep-alive connection (lighter than fetch: the client shares the 2 cores). */
const postJson = (
  agent: Agent,
  url: string,
  body: unknown,
): Promise<{ status: number; eventId: string; text: string }> =>
  new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, eventId: String(res.headers['mm-event-id'] ?? ''), text }),
        );
      },
    );
    req.once('error', reject);
    req.end(payload);
  });

/** Creates users over HTTP, `CONCURRENCY` at a time; returns the event id of each (mm-event-id). */
const createUsers = async (
  backendUrl: string,
  count: number,
  tag: string,
  onProgress: (done: number) => Promise<void> = async () => {},
): Promise<string[]> => {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const eventIds: string[] = [];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const n = next++;
      const answer = await postJson(agent, `${backendUrl}/api/users`, {
        email: `user${n}.${tag}@example.com`,
        display_name: `User ${n}`,
      });
      assert.equal(answer.status, 201, answer.text);
      eventIds.push(answer.eventId);
      await onProgress(eventIds.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    agent.destroy();
  }
  return eventIds;
};

type Tally = { rows: number; distinct: number; applied: number; profiles: number; onceApplied: number };

const tally = (file: string): Tally => {
  const db = new Database(file, { readonly: true });
  try {
    const ledger = db
      .prepare(
        "SELECT count(*) AS rows, count(DISTINCT event_id) AS distinct_ids, sum(result = 'applied') AS applied FROM event_ledger WHERE consumer_group = 'markdown-lint-consumer'",
      )
      .get() as { rows: number; distinct_ids: number; applied: number };
    const profiles = db
      .prepare('SELECT count(*) AS n, sum(version = 1) AS once FROM lint_profiles')
      .get() as { n: number; once: number };
    return {
      rows: ledger.rows,
      distinct: ledger.distinct_ids,
      applied: ledger.applied ?? 0,
      profiles: profiles.n,
      onceApplied: profiles.once ?? 0,
    };
  } finally {
    db.close();
  }
};

const ledgerEventIds = (file: string): Set<string> => {
  const db = new Database(file, { readonly: true });
  try {
    const rows = db.prepare('SELECT event_id FROM event_ledger').all() as { event_id: string }[];
    return new Set(rows.map((r) => r.event_id));
  } finally {
    db.close();
  }
};

const count = (file: string, sql: string): number => {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(sql).get() as { n: number }).n;
  } finally {
    db.close();
  }
};

describe('local mode: backend, relay, consumer and mm-dlq as four processes on one file', () => {
  let dir: string;
  let file: string;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mm-local-pipeline-'));
    file = join(dir, 'mm.db');
    const migrated = await runBinary('mm-backend', ['migrate', '--local', file], { env });
    assert.equal(migrated.code, 0, migrated.stderr);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    assertNoBinariesLeft();
  });

  const relay = (): Promise<RunningBinary> => startBinary('mm-relay', ['run', '--local', file], { env });
  // A fixed name, as a unit file gives it: a restarted consumer takes its own pending entries back.
  const consumer = (): Promise<RunningBinary> =>
    startBinary('mm-consumer', ['run', '--local', file, '--name', 'local-1', '--claim-idle-ms', '2000'], {
      env,
    });

  const dlqReport = async (): Promise<{ new: number; closed: number; open: number }> => {
    const report = await runBinary('mm-dlq', ['report', '--local', file, '--hours', '1', '--json'], { env });
    assert.equal(report.code, 0, report.stderr);
    const parsed = JSON.parse(report.stdout) as { totals: { new: number; closed: number; open: number } };
    return parsed.totals;
  };

  const assertExactlyOnce = async (eventIds: readonly string[]): Promise<void> => {
    assert.equal(new Set(eventIds).size, USERS, 'the backend answered with one event id per user');
    await eventually(() => tally(file).rows >= USERS, 60_000, { message: `${USERS} ledger rows` });
    assert.deepEqual(tally(file), {
      rows: USERS,
      distinct: USERS,
      applied: USERS,
      profiles: USERS,
      onceApplied: USERS,
    });
    const recorded = ledgerEventIds(file);
    assert.equal(
      eventIds.filter((id) => !recorded.has(id)).length,
      0,
      'every event the backend wrote is in the ledger',
    );
    assert.equal(count(file, 'SELECT count(*) AS n FROM users'), USERS);
    assert.equal(count(file, 'SELECT count(*) AS n FROM outbox'), 0, 'the outbox drained');
    assert.deepEqual(await dlqReport(), { new: 0, closed: 0, open: 0 }, 'nothing was dead-lettered');
  };

  it('5,000 users created over HTTP become 5,000 ledger rows and profiles, none twice, none lost', async () => {
    const backend = await startBinary('mm-backend', ['serve', '--local', file], { env });
    const processes = [backend, await relay(), await consumer()];
    try {
      let reported = false;
      const eventIds = await createUsers(backend.url, USERS, 'a', async (done) => {
        // mm-dlq, the fourth process, reads the same file while the others write it.
        if (done === USERS / 2 && !reported) {
          reported = true;
          assert.equal((await dlqReport()).open, 0);
        }
      });
      await assertExactlyOnce(eventIds);
    } finally {
      for (const p of processes) assert.equal(await p.stop(), 0, p.output().slice(-1_000));
    }
  });

  it('loses nothing and applies nothing twice when relay and consumer are killed -9 mid-run', async () => {
    const backend = await startBinary('mm-backend', ['serve', '--local', file], { env });
    let running = [await relay(), await consumer()];
    try {
      const eventIds = await createUsers(backend.url, USERS, 'b', async (done) => {
        if (done === 2_000) {
          // Mid-run: events are in the outbox, on the stream, pending and being applied.
          await Promise.all(running.map((p) => p.stop('SIGKILL')));
          running = [];
        }
        if (done === 3_000) running = [await relay(), await consumer()];
      });
      await assertExactlyOnce(eventIds);
      const published = count(
        file,
        "SELECT count(DISTINCT json_extract(e.fields, '$.event_id')) AS n FROM bus_entries e JOIN bus_streams s ON s.id = e.stream_id WHERE s.name = 'identity'",
      );
      assert.equal(
        published,
        USERS,
        'every event is on the stream (a re-publish after the kill may repeat one)',
      );
    } finally {
      for (const p of [backend, ...running]) assert.equal(await p.stop(), 0, p.output().slice(-1_000));
    }
  });
});
