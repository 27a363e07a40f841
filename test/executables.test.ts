// The single executables as users get them: each copied alone into an empty directory and run with
// no node on PATH (env -i PATH=/nonexistent HOME=<empty>), in local and production mode.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cachedFilePath, sha256Hex } from '../src/core/asset-cache.ts';
import { DLQ, reportAfterRelayDeadLetter } from './dlq-fixtures.ts';
import { assertNoBinariesLeft, type BinaryName, runBinary, startBinary } from './helpers/binaries.ts';
import {
  createSandbox,
  ensureExecutables,
  expectWriteToReachConsumer,
  packageVersion,
  type Sandbox,
  sqliteAddonFile,
} from './helpers/executables.ts';
import { createTestDatabase } from './helpers/postgres.ts';
import { createTestRedis } from './helpers/redis.ts';
import { skipUnless } from './helpers/services.ts';

const productionSkip = await skipUnless('postgres', 'redis');
const roles: BinaryName[] = ['mm-backend', 'mm-relay', 'mm-consumer', 'mm-dlq'];
const addonSha = sha256Hex(readFileSync(sqliteAddonFile));

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));

/** Every file of the addon cache under `root`, relative to it. */
const cachedFiles = (root: string): string[] => filesUnder(root).map((file) => relative(root, file));

const expectedCacheFile = (root: string): string =>
  cachedFilePath(join(root, 'mm'), 'better_sqlite3.node', packageVersion(), addonSha);

describe('single executables', () => {
  const sandboxes: Sandbox[] = [];
  const sandbox = (names: readonly BinaryName[]): Sandbox => {
    const made = createSandbox(names);
    sandboxes.push(made);
    return made;
  };

  before(ensureExecutables);
  after(() => {
    for (const made of sandboxes) made.remove();
    assertNoBinariesLeft();
  });

  it('print --help and --version from a directory holding only the executable, without node', async () => {
    for (const name of roles) {
      const box = sandbox([name]);
      assert.deepEqual(readdirSync(box.dir), [name]);
      const help = await runBinary(name, ['--help'], box.launch(name));
      assert.equal(help.code, 0, `${name} --help: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: ${name} `));
      const version = await runBinary(name, ['--version'], box.launch(name));
      assert.equal(version.code, 0, `${name} --version: ${version.stderr}`);
      assert.match(
        version.stdout.trim(),
        new RegExp(
          `^${name} ${packageVersion().replaceAll('.', '\\.')} \\(commit (?:[0-9a-f]{12}|unknown), built \\d{4}-\\d\\d-\\d\\d, node v\\d+\\.\\d+\\.\\d+, single executable\\)$`,
        ),
      );
    }
  });

  it('run every runbook drill in local mode from an empty directory', async () => {
    const box = sandbox(['mm-backend']);
    const drill = await runBinary('mm-backend', ['drill', 'all', '--local', './d.db'], {
      ...box.launch('mm-backend'),
      timeoutMs: 120_000,
    });
    assert.equal(drill.code, 0, `drill all: ${drill.stdout.slice(-500)} ${drill.stderr.slice(-500)}`);
    assert.match(drill.stdout, /^drill all: PASS: 5 of 5 drills passed/m);
    assert.deepEqual(cachedFiles(box.home), [
      relative(box.home, expectedCacheFile(join(box.home, '.cache'))),
    ]);
  });

  it('run backend, relay and consumer on one local file, started together: a write reaches the consumer', async () => {
    const box = sandbox(['mm-backend', 'mm-relay', 'mm-consumer']);
    const [backend, relay, consumer] = await Promise.all(
      (['mm-backend', 'mm-relay', 'mm-consumer'] as const).map((name) =>
        startBinary(
          name,
          ['--local', './d.db', ...(name === 'mm-consumer' ? ['--block-ms', '200'] : [])],
          box.launch(name),
        ),
      ),
    );
    assert.ok(backend && relay && consumer);
    await expectWriteToReachConsumer(backend.url, consumer.url, 'pipeline@example.com');
    for (const service of [backend, relay, consumer]) assert.equal(await service.stop(), 0);
    assert.deepEqual(cachedFiles(box.home), [
      relative(box.home, expectedCacheFile(join(box.home, '.cache'))),
    ]);
  });

  it('load a --handler module at run time', async () => {
    const box = sandbox(['mm-consumer']);
    writeFileSync(
      join(box.dir, 'handlers.mjs'),
      "export const handlers = { 'user.created': async () => {} };\n",
    );
    const consumer = await startBinary(
      'mm-consumer',
      ['--local', './d.db', '--block-ms', '200', '--handler', './handlers.mjs'],
      box.launch('mm-consumer'),
    );
    assert.equal(await consumer.stop(), 0);
    assert.doesNotMatch(consumer.output(), /Warning/);
  });

  it('start two consumers at the same instant on a fresh cache: both load SQLite, one file stays', async () => {
    const box = sandbox(['mm-consumer']);
    const [one, two] = await Promise.all(
      ['./one.db', './two.db'].map((file) =>
        startBinary('mm-consumer', ['--local', file, '--block-ms', '200'], box.launch('mm-consumer')),
      ),
    );
    assert.ok(one && two);
    for (const consumer of [one, two]) {
      const health = (await (await fetch(`${consumer.url}/health/detailed`)).json()) as {
        checks: { database: { status: string; kind: string } };
      };
      assert.deepEqual(health.checks.database.status, 'healthy');
      assert.equal(await consumer.stop(), 0);
    }
    const cache = expectedCacheFile(join(box.home, '.cache'));
    assert.deepEqual(cachedFiles(box.home), [relative(box.home, cache)]);
    assert.equal(sha256Hex(readFileSync(cache)), addonSha);
  });

  it('replace a corrupted cache file, and honour XDG_CACHE_HOME and the temp directory', async () => {
    const box = sandbox(['mm-backend']);
    const cache = expectedCacheFile(join(box.home, '.cache'));
    const first = await runBinary('mm-backend', ['migrate', '--local', './d.db'], box.launch('mm-backend'));
    assert.equal(first.code, 0, first.stderr);
    writeFileSync(cache, readFileSync(cache).subarray(0, 4096)); // truncated, as by a full disk
    const again = await runBinary('mm-backend', ['migrate', '--local', './d.db'], box.launch('mm-backend'));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /replaced a corrupted SQLite addon/);
    assert.equal(sha256Hex(readFileSync(cache)), addonSha);

    const xdg = join(box.home, 'xdg');
    const withXdg = await runBinary('mm-backend', ['migrate', '--local', './x.db'], {
      ...box.launch('mm-backend', { XDG_CACHE_HOME: xdg }),
    });
    assert.equal(withXdg.code, 0, withXdg.stderr);
    assert.equal(sha256Hex(readFileSync(expectedCacheFile(xdg))), addonSha);

    const temp = join(box.home, 'tmp');
    const noHome = await runBinary('mm-backend', ['migrate', '--local', './t.db'], {
      ...box.launch('mm-backend'),
      env: { PATH: '/nonexistent', TMPDIR: temp },
    });
    assert.equal(noHome.code, 0, noHome.stderr);
    const inTemp = join(temp, `mm-${process.getuid?.() ?? 'user'}`);
    const tempFile = cachedFilePath(inTemp, 'better_sqlite3.node', packageVersion(), addonSha);
    assert.equal(sha256Hex(readFileSync(tempFile)), addonSha);
  });

  describe('in production mode', { skip: productionSkip }, () => {
    it('migrate Postgres and report dead letters from Redis', async () => {
      const box = sandbox(['mm-backend', 'mm-dlq']);
      const db = await createTestDatabase({ migrate: false });
      const redis = await createTestRedis();
      try {
        const migrate = await runBinary(
          'mm-backend',
          ['migrate', '--database-url', db.url],
          box.launch('mm-backend'),
        );
        assert.equal(migrate.code, 0, migrate.stderr);
        assert.match(migrate.stdout, /applied 001_outbox\.sql/);
        const [outbox] = await db.sql`select to_regclass('public.outbox') is not null as present`;
        assert.equal(outbox?.present, true);

        const parsed = await reportAfterRelayDeadLetter(redis, box.launch('mm-dlq'));
        assert.equal(parsed.totals.open, 1);
        assert.equal(parsed.streams[0]?.stream, DLQ);
      } finally {
        await Promise.allSettled([db.drop(), redis.cleanup()]);
      }
    });
  });
});
