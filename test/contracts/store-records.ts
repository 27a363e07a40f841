// Store contract cases: the ledger, users, lint profiles, migrations.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConflictError, NotFoundError, TransientError, ValidationError } from '../../src/core/errors.ts';
import { uuidv7 } from '../../src/core/ids.ts';
import { isoUtcMs, ledgerEntry, Rollback, type StoreKit } from './store-kit.ts';

export const storeRecordsCases = (t: StoreKit): void => {
  const { newUser } = t;

  describe('ledger', () => {
    it('records each (event, group) once and reports which entries were new', async () => {
      const [e1, e2] = [uuidv7(), uuidv7()];
      const first = await t.store.withTransaction((tx) =>
        tx.ledger.claim([ledgerEntry(e1), ledgerEntry(e2)]),
      );
      assert.deepEqual(first, new Set([e1, e2]));
      const again = await t.store.withTransaction((tx) =>
        tx.ledger.claim([ledgerEntry(e1), ledgerEntry(e1, 'audit-consumer')]),
      );
      assert.deepEqual(again, new Set([e1]));
      const rows = await t.store.ledger.find(e1);
      assert.deepEqual(
        rows.map((r) => [r.eventId, r.consumerGroup, r.eventType, r.streamId, r.result]),
        [
          [e1, 'audit-consumer', 'user.created', '1700000000000-0', 'applied'],
          [e1, 'markdown-lint-consumer', 'user.created', '1700000000000-0', 'applied'],
        ],
      );
      for (const row of rows) assert.match(row.processedAt, isoUtcMs);
      assert.deepEqual(await t.store.ledger.find(uuidv7()), []);
      assert.deepEqual(await t.store.withTransaction((tx) => tx.ledger.claim([])), new Set());
    });

    it('takes the ledger row away with a rolled back transaction', async () => {
      const id = uuidv7();
      await assert.rejects(
        t.store.withTransaction(async (tx) => {
          await tx.ledger.claim([ledgerEntry(id)]);
          throw new Rollback('handler failed');
        }),
        Rollback,
      );
      assert.deepEqual(await t.store.ledger.find(id), []);
    });

    it('skips entries a replay holds back for the group, not other groups or other stream ids', async () => {
      const [held, free] = [uuidv7(), uuidv7()];
      const hold = { consumerGroup: 'markdown-lint-consumer', eventId: held, streamId: '1700000000000-0' };
      assert.equal(await t.store.ledger.hold([hold, hold]), 1);
      assert.equal(await t.store.ledger.hold([hold]), 0);
      const claimed = await t.store.withTransaction((tx) =>
        tx.ledger.claim([ledgerEntry(held), ledgerEntry(free), ledgerEntry(held, 'audit-consumer')]),
      );
      assert.deepEqual(claimed, new Set([free, held]));
      assert.deepEqual(
        (await t.store.ledger.find(held)).map((r) => r.consumerGroup),
        ['audit-consumer'],
      );
      // A reprocessed copy of the event has another stream id: it is claimed.
      const copy = { ...ledgerEntry(held), streamId: '1700000000999-0' };
      assert.deepEqual(await t.store.withTransaction((tx) => tx.ledger.claim([copy])), new Set([held]));
      const other = uuidv7();
      await t.store.ledger.hold([{ ...hold, eventId: other }]);
      assert.equal(await t.store.ledger.release([{ ...hold, eventId: other }, hold]), 2);
      assert.deepEqual(
        await t.store.withTransaction((tx) => tx.ledger.claim([ledgerEntry(other)])),
        new Set([other]),
      );
    });

    it('answers which events a group already recorded', async () => {
      const [a, b, c] = [uuidv7(), uuidv7(), uuidv7()];
      await t.store.withTransaction((tx) => tx.ledger.claim([ledgerEntry(a), ledgerEntry(b, 'other-group')]));
      assert.deepEqual(await t.store.ledger.recorded('markdown-lint-consumer', [a, b, c]), new Set([a]));
      assert.deepEqual(await t.store.ledger.recorded('markdown-lint-consumer', []), new Set());
    });

    it('accepts the default schema by name and refuses an invalid one', async () => {
      const id = uuidv7();
      const claimed = await t.store.withTransaction((tx) =>
        tx.ledger.claim([ledgerEntry(id)], { schema: 'public' }),
      );
      assert.deepEqual(claimed, new Set([id]));
      await assert.rejects(
        t.store.withTransaction((tx) =>
          tx.ledger.claim([ledgerEntry(uuidv7())], { schema: 'bad-name; drop' }),
        ),
        ValidationError,
      );
    });

    it('cleans up only rows older than the retention', async () => {
      const [old, fresh] = [uuidv7(), uuidv7()];
      await t.store.withTransaction((tx) => tx.ledger.claim([ledgerEntry(old), ledgerEntry(fresh)]));
      const longAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000).toISOString();
      await t.store.withTransaction((tx) =>
        tx.query('update event_ledger set processed_at = $1 where event_id = $2', [longAgo, old]),
      );
      assert.equal(await t.store.ledger.cleanup(3600), 1);
      assert.deepEqual(await t.store.ledger.find(old), []);
      assert.equal((await t.store.ledger.find(fresh)).length, 1);
      assert.equal(await t.store.ledger.cleanup(), 0);
    });
  });

  describe('users', () => {
    it('inserts and reads a user', async () => {
      const id = uuidv7();
      const user = await t.store.withTransaction((tx) =>
        tx.users.insert({ id, email: 'ada@example.com', displayName: 'Ada' }),
      );
      assert.equal(user.id, id);
      assert.equal(user.email, 'ada@example.com');
      assert.equal(user.displayName, 'Ada');
      assert.equal(user.status, 'active');
      assert.match(user.createdAt, isoUtcMs);
      assert.match(user.updatedAt, isoUtcMs);
      assert.deepEqual(await t.store.withTransaction((tx) => tx.users.get(id)), user);
      assert.equal(await t.store.withTransaction((tx) => tx.users.get(uuidv7())), undefined);
    });

    it('refuses an email taken in any letter case', async () => {
      await t.store.withTransaction((tx) => newUser(tx, 'Taken@Example.com'));
      await assert.rejects(
        t.store.withTransaction((tx) => newUser(tx, 'taken@example.COM')),
        (error: unknown) => error instanceof ConflictError && /taken@example\.COM/.test(error.message),
      );
    });

    it('updates email and display name, refusing a taken email and an unknown id', async () => {
      const [ada, bob] = await t.store.withTransaction(async (tx) => [
        await newUser(tx, 'ada@example.com'),
        await newUser(tx, 'bob@example.com'),
      ]);
      const renamed = await t.store.withTransaction((tx) =>
        tx.users.update(ada.id, { displayName: 'Countess' }),
      );
      assert.equal(renamed.displayName, 'Countess');
      assert.equal(renamed.email, 'ada@example.com');
      assert.ok(renamed.updatedAt >= ada.updatedAt);
      const moved = await t.store.withTransaction((tx) =>
        tx.users.update(ada.id, { email: 'ada@lovelace.org' }),
      );
      assert.equal(moved.email, 'ada@lovelace.org');
      assert.equal(moved.displayName, 'Countess');
      await assert.rejects(
        t.store.withTransaction((tx) => tx.users.update(ada.id, { email: 'BOB@example.com' })),
        ConflictError,
      );
      await assert.rejects(
        t.store.withTransaction((tx) => tx.users.update(uuidv7(), { displayName: 'x' })),
        NotFoundError,
      );
      assert.equal((await t.store.withTransaction((tx) => tx.users.get(bob.id)))?.email, 'bob@example.com');
    });

    it('disables a user once; again is a conflict, an unknown id not found', async () => {
      const user = await t.store.withTransaction((tx) => newUser(tx));
      const disabled = await t.store.withTransaction((tx) => tx.users.disable(user.id));
      assert.equal(disabled.status, 'disabled');
      await assert.rejects(
        t.store.withTransaction((tx) => tx.users.disable(user.id)),
        ConflictError,
      );
      await assert.rejects(
        t.store.withTransaction((tx) => tx.users.disable(uuidv7())),
        NotFoundError,
      );
    });
  });

  describe('lint profiles', () => {
    it('creates a profile at version 1 and counts every later change', async () => {
      const userId = uuidv7();
      const change = (email: string, status: 'active' | 'disabled' = 'active') => ({
        userId,
        email,
        displayName: email.split('@')[0] as string,
        status,
        lastEventId: uuidv7(),
      });
      const created = change('ada@example.com');
      await t.store.withTransaction((tx) => tx.lintProfiles.apply([created]));
      assert.deepEqual(await t.store.withTransaction((tx) => tx.lintProfiles.get(userId)), {
        ...created,
        lastOutboxId: null,
        version: 1,
      });
      const batch = [change('b@example.com'), change('c@example.com'), change('d@example.com', 'disabled')];
      await t.store.withTransaction((tx) => tx.lintProfiles.apply(batch));
      assert.deepEqual(await t.store.withTransaction((tx) => tx.lintProfiles.get(userId)), {
        ...batch[2],
        lastOutboxId: null,
        version: 4,
      });
      assert.equal(await t.store.withTransaction((tx) => tx.lintProfiles.get(uuidv7())), undefined);
      await t.store.withTransaction((tx) => tx.lintProfiles.apply([]));
    });

    it('never moves a profile backwards: an older outbox id is ignored, in a batch and across', async () => {
      const userId = uuidv7();
      const other = uuidv7();
      const change = (email: string, lastOutboxId: number | null, id = userId) => ({
        userId: id,
        email,
        displayName: 'Ada',
        status: 'active' as const,
        lastEventId: uuidv7(),
        lastOutboxId,
      });
      const get = (id = userId) => t.store.withTransaction((tx) => tx.lintProfiles.get(id));
      await t.store.withTransaction((tx) => tx.lintProfiles.apply([change('v10@example.com', 10)]));
      // Older, and equal (the same position again), change nothing.
      await t.store.withTransaction((tx) =>
        tx.lintProfiles.apply([change('v7@example.com', 7), change('again@example.com', 10)]),
      );
      assert.deepEqual(
        [(await get())?.email, (await get())?.lastOutboxId, (await get())?.version],
        ['v10@example.com', 10, 1],
      );
      // In one batch: a later change wins even when an older one follows it; other users still apply.
      await t.store.withTransaction((tx) =>
        tx.lintProfiles.apply([
          change('v12@example.com', 12),
          change('other@example.com', 3, other),
          change('v11@example.com', 11),
        ]),
      );
      assert.deepEqual(
        [(await get())?.email, (await get())?.lastOutboxId, (await get())?.version],
        ['v12@example.com', 12, 2],
      );
      assert.equal((await get(other))?.lastOutboxId, 3);
      // A change without a position always applies and keeps the known position.
      await t.store.withTransaction((tx) => tx.lintProfiles.apply([change('free@example.com', null)]));
      assert.deepEqual(
        [(await get())?.email, (await get())?.lastOutboxId, (await get())?.version],
        ['free@example.com', 12, 3],
      );
      await t.store.withTransaction((tx) => tx.lintProfiles.apply([change('v11@example.com', 11)]));
      assert.equal((await get())?.email, 'free@example.com');
    });
  });

  describe('lifecycle', () => {
    it('migrates again without applying anything twice', async () => {
      const report = await t.store.migrate();
      assert.deepEqual(report.applied, []);
      assert.ok(report.alreadyApplied.length >= 4);
      assert.deepEqual(await t.store.migrate(), report);
    });

    it('answers ping while open, and refuses it once closed', async () => {
      const another = await t.fixture.another();
      assert.equal(await t.store.ping(), undefined);
      assert.equal(await another.ping(), undefined);
      await another.close();
      await assert.rejects(another.ping(), TransientError);
      assert.equal(await t.store.ping(), undefined, 'closing one store leaves the others answering');
    });
  });
};
