// Local mode beyond the contracts: several processes on one SQLite file (migrations, wake-ups, relays
// taking turns), both drivers on the same file, store and shim sharing a transaction, injected faults.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { readMigrations } from '../src/adapters/migration-files.ts';
import { openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { openSqliteStore } from '../src/adapters/sqlite/store/store.ts';
import { TransientError } from '../src/core/errors.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { silentLogger } from '../src/core/logger.ts';
import { drainOutbox } from '../src/relay/drain-outbox.ts';
import { eventually } from './helpers/eventually.ts';

const childScript = fileURLToPath(new URL('./helpers/sqlite-child.ts', import.meta.url));
const deno = fileURLToPath(new URL('../node_modules/.bin/deno', import.meta.url));

type Child = { process: ChildProcess; lines: unknown[]; exited: Promise<number | null> };

const children = new Set<ChildProcess>();

const startChild = (args: string[], runtime: 'node' | 'deno' = 'node'): Child => {
  const child =
    runtime === 'node'
      ? spawn(process.execPath, ['--import', 'tsx', childScript, ...args], {
          stdio: ['ignore', 'pipe', 'pipe'],
        })
      : spawn(deno, ['run', '-A', '--quiet', childScript, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const lines: unknown[] = [];
  let buffered = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const line of parts) if (line.trim()) lines.push(JSON.parse(line));
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      if (code !== 0 && code !== null) process.stderr.write(stderr);
      resolve(code);
    }),
  );
  return { process: child, lines, exited };
};

const runChild = async (args: string[], runtime: 'node' | 'deno' = 'node'): Promise<unknown[]> => {
  const child = startChild(args, runtime);
  assert.equal(await child.exited, 0, `child ${args.join(' ')} failed`);
  return child.lines;
};

const newEvent = (n: number) => ({
  eventId: uuidv7(),
  topic: 'identity',
  eventType: 'user.created',
  aggregateType: 'user',
  aggregateId: `parent-${n}`,
  payload: { n },
});

describe('local mode on one SQLite file', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mm-local-'));
    file = join(dir, 'local.db');
  });

  afterEach(() => {
    const left = [...children];
    for (const child of left) child.kill('SIGKILL');
    children.clear();
    rmSync(dir, { recursive: true, force: true });
    assert.equal(left.length, 0, 'a started child process was left running');
  });

  describe('several processes', () => {
    it('open and migrate a fresh file at the same time, each migration applied once', async () => {
      const runs = Array.from({ length: 4 }, () => runChild(['migrate', file]));
      const reports = (await Promise.all(runs)).map(
        (lines) => lines.at(-1) as { applied: string[]; alreadyApplied: string[] },
      );
      const db = new Database(file, { readonly: true });
      try {
        const names = db.prepare('SELECT name FROM mm_migrations ORDER BY name').all() as { name: string }[];
        assert.deepEqual(
          names.map((n) => n.name),
          readMigrations('sqlite').map((m) => m.name),
        );
        for (const report of reports)
          assert.deepEqual(report, { applied: [], alreadyApplied: names.map((n) => n.name) });
      } finally {
        db.close();
      }
    });

    it('wake a blocking read in another process with an add', async () => {
      const local = await openLocalPorts({ file, logger: silentLogger });
      try {
        await local.bus.createGroup('identity', 'g');
        const read = local.bus.readGroup({
          group: 'g',
          consumer: 'c',
          streams: ['identity'],
          count: 10,
          blockMs: 20_000,
        });
        const [added] = (await runChild(['add', file, 'identity', '2'])) as string[][];
        const reads = await read;
        assert.deepEqual(
          reads[0]?.entries.map((e) => e.id),
          added,
        );
        assert.deepEqual(
          reads[0]?.entries.map((e) => e.fields.from),
          ['child', 'child'],
        );
      } finally {
        await local.close();
      }
    });

    it('tell an outbox watcher about rows another process commits', async () => {
      const store = await openSqliteStore({ file });
      let calls = 0;
      const unwatch = await store.outbox.watch?.(() => {
        calls += 1;
      });
      try {
        await runChild(['insert', file, '3']);
        await eventually(() => calls > 0, 5_000);
        assert.equal((await store.outbox.backlog()).count, 3);
      } finally {
        await unwatch?.();
        await store.close();
      }
    });

    it('make a second relay wait while one drains, so it finds the rows gone after', async () => {
      const store = await openSqliteStore({ file });
      try {
        await store.withTransaction((tx) => tx.outbox.insert([newEvent(1), newEvent(2)]));
        const relay = startChild(['hold-drain', file, '1500']);
        await eventually(() => relay.lines.length > 0, 10_000);
        assert.deepEqual(
          await drainOutbox(store.outbox, { limit: 10 }, async () => assert.fail('claimed twice')),
          { paused: false, claimed: 0, batches: 0 },
        );
        assert.equal(await relay.exited, 0);
        assert.deepEqual(relay.lines, [{ draining: 2 }, { paused: false, claimed: 2, batches: 1 }]);
        assert.deepEqual(await drainOutbox(store.outbox, { limit: 10 }, async () => ({ retry: [] })), {
          paused: false,
          claimed: 0,
          batches: 0,
        });
      } finally {
        await store.close();
      }
    });

    it('lose nothing and keep no lock when a relay is killed mid-drain', async () => {
      const store = await openSqliteStore({ file });
      try {
        const events = [newEvent(1), newEvent(2), newEvent(3)];
        await store.withTransaction((tx) => tx.outbox.insert(events));
        const relay = startChild(['hold-drain', file, '60000']);
        await eventually(() => relay.lines.length > 0, 10_000);
        relay.process.kill('SIGKILL');
        await relay.exited;
        const claimed: string[] = [];
        const result = await drainOutbox(store.outbox, { limit: 10 }, async (rows) => {
          claimed.push(...rows.map((r) => r.eventId));
          return { retry: [] };
        });
        assert.deepEqual(result, { paused: false, claimed: 3, batches: 1 });
        assert.deepEqual(
          claimed,
          events.map((e) => e.eventId),
        );
      } finally {
        await store.close();
      }
    });
  });

  it('works the same through node:sqlite (under Deno) and better-sqlite3 on one file', {
    skip: existsSync(deno) ? false : 'deno is not installed',
  }, async () => {
    await runChild(['add', file, 'identity', '2']);
    const [fromDeno] = (await runChild(['smoke', file], 'deno')) as Array<Record<string, unknown>>;
    assert.equal(fromDeno?.runtime, 'deno');
    assert.deepEqual(fromDeno?.entries, ['1', '2']);
    assert.equal(fromDeno?.delivered, 2);
    assert.equal(fromDeno?.duplicateEmail, 'ConflictError');
    assert.equal(fromDeno?.badResult, 'ValidationError');
    const local = await openLocalPorts({ file, logger: silentLogger, driver: 'better-sqlite3' });
    try {
      const entries = await local.bus.range('identity');
      assert.deepEqual(
        entries.map((e) => e.fields.n),
        ['1', '2', 'from-child'],
      );
      assert.equal(entries[2]?.id, fromDeno?.added);
      const [group] = await local.bus.groups('identity');
      assert.deepEqual([group?.name, group?.pending, group?.entriesRead, group?.lag], ['g', 2, 2, 1]);
    } finally {
      await local.close();
    }
  });

  describe('store and shim in one process', () => {
    it('share one database in memory too', async () => {
      const local = await openLocalPorts({ file: ':memory:', logger: silentLogger });
      try {
        await local.store.withTransaction((tx) => tx.outbox.insert([newEvent(1)]));
        const drained = await drainOutbox(local.store.outbox, { limit: 10 }, async (rows) => {
          await local.bus.addBatch(rows.map((r) => ({ stream: r.topic, fields: { event_id: r.eventId } })));
          return { retry: [] };
        });
        assert.deepEqual(drained, { paused: false, claimed: 1, batches: 1 });
        assert.equal(await local.bus.len('identity'), 1);
      } finally {
        await local.close();
      }
    });

    it('join a bus write to the open store transaction, so a rollback takes both back', async () => {
      const local = await openLocalPorts({ file, logger: silentLogger });
      try {
        await assert.rejects(
          local.store.withTransaction(async (tx) => {
            await tx.outbox.insert([newEvent(1)]);
            await local.bus.add('identity', { n: 'inside' });
            throw new Error('undo');
          }),
          /undo/,
        );
        assert.equal(await local.bus.len('identity'), 0);
        await local.store.withTransaction(async (tx) => {
          await tx.outbox.insert([newEvent(2)]);
          await local.bus.add('identity', { n: 'inside' });
        });
        assert.equal(await local.bus.len('identity'), 1);
      } finally {
        await local.close();
      }
    });

    it('queue work a finished transaction left behind instead of joining a later one', async () => {
      const local = await openLocalPorts({ file, logger: silentLogger });
      try {
        let late: Promise<string> | undefined;
        let startLate = (): void => {};
        const started = new Promise<void>((resolve) => {
          startLate = resolve;
        });
        await local.store.withTransaction(async () => {
          // Carries this transaction's async context, but runs after it committed.
          late = started.then(() => local.bus.add('identity', { n: 'late' }));
        });
        let entered = false;
        let release = (): void => {};
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        const other = local.store.withTransaction(async (tx) => {
          await tx.outbox.insert([newEvent(1)]);
          entered = true;
          await held;
          throw new Error('undo');
        });
        await eventually(() => entered, 5_000);
        startLate();
        release();
        await assert.rejects(other, /undo/);
        await late;
        assert.equal(await local.bus.len('identity'), 1);
      } finally {
        await local.close();
      }
    });

    it('keep a bus write from outside out of an open transaction until it commits', async () => {
      const local = await openLocalPorts({ file, logger: silentLogger });
      try {
        let release = (): void => {};
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        let entered = false;
        const tx = local.store.withTransaction(async (inner) => {
          await inner.outbox.insert([newEvent(1)]);
          entered = true;
          await held;
          throw new Error('undo');
        });
        await eventually(() => entered, 5_000);
        const outside = local.bus.add('identity', { n: 'outside' });
        release();
        await assert.rejects(tx, /undo/);
        await outside;
        assert.equal(await local.bus.len('identity'), 1);
        assert.equal((await local.store.outbox.backlog()).count, 0);
      } finally {
        await local.close();
      }
    });

    it('report a file busy in another connection as a transient failure', async () => {
      const store = await openSqliteStore({ file, busyTimeoutMs: 20 });
      const blocker = new Database(file);
      try {
        blocker.exec('BEGIN IMMEDIATE');
        await assert.rejects(
          store.withTransaction((tx) => tx.outbox.insert([newEvent(1)])),
          (error: unknown) => error instanceof TransientError && error.dependency === 'database',
        );
        blocker.exec('ROLLBACK');
        await store.withTransaction((tx) => tx.outbox.insert([newEvent(1)]));
      } finally {
        blocker.close();
        await store.close();
      }
    });

    it('make every shim operation fail as unavailable while the fault is injected', async () => {
      const faults = { unavailable: false };
      const local = await openLocalPorts({ file, logger: silentLogger, faults });
      try {
        await local.bus.createGroup('identity', 'g');
        const waiting = local.bus.readGroup({
          group: 'g',
          consumer: 'c',
          streams: ['identity'],
          count: 1,
          blockMs: 10_000,
        });
        faults.unavailable = true;
        const unavailable = (error: unknown) =>
          error instanceof TransientError &&
          error.dependency === 'bus' &&
          error.message.startsWith('stream store unavailable');
        await assert.rejects(waiting, unavailable);
        await assert.rejects(local.bus.add('identity', { n: '1' }), unavailable);
        await assert.rejects(local.bus.ping(), unavailable);
        await assert.rejects(local.bus.groups('identity'), unavailable);
        faults.unavailable = false;
        await local.bus.add('identity', { n: '1' });
        await local.bus.ping();
        assert.equal(await local.bus.len('identity'), 1);
      } finally {
        await local.close();
      }
    });
  });
});
