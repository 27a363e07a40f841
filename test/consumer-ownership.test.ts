// Partition ownership by lease, against both stores: members share the partitions, joins and leaves
// move them, a lease taken by someone else is lost, and nothing is ever owned twice.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createPostgresStore } from '../src/adapters/postgres/store.ts';
import { openSqliteStore } from '../src/adapters/sqlite/store/store.ts';
import { silentLogger } from '../src/core/logger.ts';
import { partitionResources } from '../src/core/partition-assignment.ts';
import { createOwnership, type Ownership } from '../src/core/partition-ownership.ts';
import type { Store } from '../src/ports/store.ts';
import { createTestDatabase, type TestDatabase } from './helpers/postgres.ts';
import { skipUnless } from './helpers/services.ts';

const group = 'markdown-lint-consumer';
const resources = partitionResources(['identity'], new Map([['identity', 6]]));

const ownershipOf = (store: Store, name: string, leaseMs = 60_000): Ownership =>
  createOwnership({ leases: store.leases, group, name, leaseMs, now: Date.now, logger: silentLogger });

/** One round as the consumer loop does it: tick, take over what was taken, release the unwanted. */
const round = async (members: readonly Ownership[]): Promise<void> => {
  for (const o of members) {
    await o.tick(resources);
    for (const p of o.changes().taken) o.activate(p.stream);
    for (const stream of o.unwanted()) await o.release(stream);
  }
};

const owners = (members: readonly Ownership[]): string[][] =>
  members.map((o) =>
    o
      .partitions()
      .map((p) => p.stream)
      .sort(),
  );

const assertExclusive = (members: readonly Ownership[]): void => {
  const all = owners(members).flat();
  assert.equal(
    new Set(all).size,
    all.length,
    `a partition is owned twice: ${JSON.stringify(owners(members))}`,
  );
};

const cases = (open: () => Promise<{ store: Store; close(): Promise<void> }>): void => {
  it('shares the partitions among members, and moves them on a join and a leave', async () => {
    const { store, close } = await open();
    try {
      const [c1, c2, c3] = ['c1', 'c2', 'c3'].map((name) => ownershipOf(store, name)) as [
        Ownership,
        Ownership,
        Ownership,
      ];
      await round([c1]);
      assert.deepEqual(owners([c1]), [[...resources].sort()]);
      for (let i = 0; i < 3; i += 1) {
        await round([c1, c2, c3]);
        assertExclusive([c1, c2, c3]);
      }
      assert.deepEqual(owners([c1, c2, c3]), [
        ['identity:0', 'identity:3'],
        ['identity:1', 'identity:4'],
        ['identity:2', 'identity:5'],
      ]);
      await c3.leave();
      for (let i = 0; i < 3; i += 1) {
        await round([c1, c2]);
        assertExclusive([c1, c2]);
      }
      assert.deepEqual(owners([c1, c2]), [
        ['identity:0', 'identity:2', 'identity:4'],
        ['identity:1', 'identity:3', 'identity:5'],
      ]);
      assert.deepEqual(c1.members(), ['c1', 'c2']);
    } finally {
      await close();
    }
  });

  it('loses a partition whose lease another consumer took, and reports it once', async () => {
    const { store, close } = await open();
    try {
      const c1 = ownershipOf(store, 'c1', 300);
      await c1.tick(['identity']);
      const [taken] = c1.changes().taken;
      assert.equal(taken?.stream, 'identity');
      c1.activate('identity');
      assert.deepEqual(c1.readable(Date.now() + 10_000), [], 'no reads on a lease about to run out');
      // The short lease runs out; another consumer takes it.
      let other: Awaited<ReturnType<Store['leases']['acquire']>>;
      do other = await store.leases.acquire(group, 'identity', 'c2', 60_000);
      while (!other);
      await c1.tick(['identity']);
      assert.deepEqual(c1.changes().lost, ['identity']);
      assert.deepEqual(c1.partitions(), []);
      assert.equal(c1.fence('identity'), undefined);
    } finally {
      await close();
    }
  });
};

let database: TestDatabase | undefined;
after(() => database?.drop());

describe('partition ownership on postgres', { skip: await skipUnless('postgres') }, () => {
  cases(async () => {
    database ??= await createTestDatabase();
    await database.sql`truncate leases, lease_members`;
    const store = createPostgresStore({ url: database.url, maxConnections: 2 });
    return { store, close: () => store.close() };
  });
});

describe('partition ownership on a local file', () => {
  cases(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mm-ownership-'));
    const store = await openSqliteStore({ file: join(dir, 'local.db') });
    return {
      store,
      close: async () => {
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
