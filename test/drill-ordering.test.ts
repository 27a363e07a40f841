// `mm-backend drill ordering`: a dead letter halts its aggregate while others flow, mm-dlq shows what
// waits, resolve and reprocess release it in order. Run from the built bundle on a local file and on
// Postgres + Redis, and through runDrills with per-aggregate order turned off, where it must say FAIL
// and exit 1.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { createLogger } from '../src/core/logger.ts';
import { runDrills } from '../src/drills/run-drills.ts';
import { runBinary } from './helpers/binaries.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { createTestRedis, type TestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

/** The claims the drill makes, in the order it makes them. */
const CLAIMS = [
  /PASS {2}all 5 users applied by markdown-lint-consumer/,
  /PASS {2}user A's imported event moved to identity\.dlq at once \(ValidationError, 1 delivery\), user B's first rename after 3 deliveries \(TypeError\)/,
  /PASS {2}other aggregates flow: 3 of 3 other users' renames applied; 6 events parked, 3 behind A's dead letter and 3 behind B's, none applied/,
  /PASS {2}mm-dlq list shows 3 waiting behind each of the two dead letters/,
  /PASS {2}mm-dlq inspect says "3 events wait behind this dead letter"/,
  /PASS {2}mm-dlq report: 2 halted aggregates, 6 events waiting/,
  /PASS {2}mm-dlq resolve released aggregate user\/[0-9a-f-]{36}: 3 waiting events follow in order/,
  /PASS {2}A's 3 parked events applied in outbox order; the imported event never was/,
  /PASS {2}its lint profile equals its user row \(email, display name "Ann 3", status\)/,
  /PASS {2}mm-dlq reprocess published B's event again, 3 events still waiting behind it/,
  /PASS {2}B's reprocessed event applied first, then its 3 parked events, in outbox order/,
  /PASS {2}its lint profile equals its user row \(email, display name "Bob 3", status\)/,
  /PASS {2}no halted aggregates and no parked events are left/,
];

/** Each claim present, after the previous one. */
const assertClaimsInOrder = (out: string): void => {
  let from = 0;
  for (const claim of CLAIMS) {
    const found = claim.exec(out.slice(from));
    assert.ok(found, `${claim} after offset ${from}:\n${out.slice(from, from + 2_000)}`);
    from += found.index + found[0].length;
  }
  assert.doesNotMatch(out, /FAIL/);
  assert.match(out, /^Halted Aggregate: PASS \(13 checks passed, 0 failed\)$/m);
};

describe('mm-backend drill ordering', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-drill-ordering-'));
    file = join(dir, 'drill.db');
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('on a local file: the halted sequence, what mm-dlq shows, release by resolve and by reprocess', async () => {
    const run = await runBinary('mm-backend', ['drill', 'ordering', '--local', file], { timeoutMs: 90_000 });
    assert.equal(run.code, 0, run.stdout.slice(-3_000) + run.stderr);
    assertClaimsInOrder(run.stdout);
    assert.match(run.stdout, /\$ mm-dlq list --stream identity\.dlq --local /);
    assert.match(run.stdout, /WAITING/, 'the list as evidence');
    assert.match(run.stdout, /Halted aggregate \(later events of the aggregate wait behind it\)/);
    assert.match(run.stdout, /halted {12}2 aggregates: 6 events wait behind 2 dead letters/);
    assert.match(
      run.stdout.trimEnd().split('\n').at(-1) ?? '',
      /^drill ordering: PASS: 1 of 1 drills passed \(13 checks passed, 0 failed\)$/,
    );
  });

  it('says FAIL and exits 1 when a dead letter does not halt its aggregate', async () => {
    const lines: string[] = [];
    const logger = createLogger({ sink: (line) => void lines.push(line) });
    const busFault = { unavailable: false };
    const ports = await openLocalPorts({ file, logger, faults: busFault });
    let out = '';
    try {
      const code = await runDrills(
        { drills: ['ordering'], label: 'ordering', deployment: { kind: 'local', file }, waitMs: 3_000 },
        {
          store: ports.store,
          bus: ports.bus,
          busFault,
          logger,
          logLines: () => lines,
          out: (text) => {
            out += text;
          },
          // Later events of a dead-lettered aggregate go on: the order the drill shows is broken.
          consumer: { onDeadLetter: 'continue' },
        },
      );
      assert.equal(code, 1, out.slice(-3_000));
    } finally {
      await ports.close();
    }
    assert.match(out, /PASS {2}user A's imported event moved to identity\.dlq at once/);
    assert.match(
      out,
      /FAIL {2}other aggregates flow: .*: 3 others applied, parked A 0 B 0 \(want 3 each\), 3 halted events applied/,
    );
    assert.match(out, /drill ordering: FAIL: 0 of 1 drills passed/);
  });
});

describe('mm-backend drill ordering on Postgres and Redis', {
  skip: await skipUnless('postgres', 'redis'),
}, () => {
  let db: TestDatabase | undefined;
  let redis: TestRedis | undefined;

  afterEach(async () => {
    await redis?.cleanup();
    await db?.drop();
  });

  it('migrates the fresh database, then shows the same halted sequence and releases', async () => {
    db = await createTestDatabase({ migrate: false });
    redis = await createTestRedis();
    const run = await runBinary(
      'mm-backend',
      ['drill', 'ordering', '--database-url', db.url, '--redis-url', redis.url, '--key-prefix', redis.prefix],
      { timeoutMs: 90_000 },
    );
    assert.equal(run.code, 0, run.stdout.slice(-3_000) + run.stderr);
    assert.match(
      run.stdout,
      new RegExp(
        `^mm-backend drill ordering on Postgres database ${db.name} and Redis 127\\.0\\.0\\.1:6379 db 0, key prefix "${redis.prefix}"$`,
        'm',
      ),
    );
    assertClaimsInOrder(run.stdout);
    // The commands point where the drill ran.
    assert.match(
      run.stdout,
      new RegExp(
        `\\$ mm-dlq list --stream identity\\.dlq --database-url \\S+/${db.name} --redis-url \\S+ --key-prefix ${redis.prefix}`,
      ),
    );
    assert.match(
      run.stdout,
      /\$ psql \S+ -c "SELECT seq, event_id, outbox_id, display_name FROM drill_apply_log/,
    );
    // What it left behind is in the database and under the prefix.
    const [applied] = await db.sql<{ n: string }[]>`select count(*) as n from drill_apply_log`;
    assert.equal(Number(applied?.n), 10, 'Ann 3, Bob 4 and one rename of each of 3 others');
    assert.equal(await redis.client.exists(`${redis.prefix}identity.dlq.audit`), 1);
  });
});
