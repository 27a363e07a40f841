// The Store contract: every behaviour of src/ports/store.ts (and its parts) the services rely on, run
// unchanged against Postgres and SQLite.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ConflictError, NotFoundError, ValidationError } from '../../src/core/errors.ts';
import { uuidv7 } from '../../src/core/ids.ts';
import type { LedgerEntry } from '../../src/ports/ledger.ts';
import type { NewOutboxEvent, OutboxRow } from '../../src/ports/outbox.ts';
import type { Store, Tx } from '../../src/ports/store.ts';
import { eventually } from '../helpers/eventually.ts';

export type StoreFixture = {
  /** A migrated store on a database of its own. */
  readonly store: Store;
  /** Another store on the same database, as another process would open it. */
  another(): Promise<Store>;
  /** Closes what the fixture opened and removes the database. */
  cleanup(): Promise<void>;
};

export type StoreFactory = () => Promise<StoreFixture>;

const isoUtcMs = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const event = (aggregateId: string, n: number, extra: Partial<NewOutboxEvent> = {}): NewOutboxEvent => ({
  eventId: uuidv7(),
  topic: 'identity',
  eventType: 'user.updated',
  aggregateType: 'user',
  aggregateId,
  payload: { n, nested: { list: [1, 'two', null], flag: true } },
  headers: { correlation_id: `c-${n}` },
  ...extra,
});

const ledgerEntry = (eventId: string, consumerGroup = 'markdown-lint-consumer'): LedgerEntry => ({
  eventId,
  consumerGroup,
  eventType: 'user.created',
  streamId: '1700000000000-0',
  result: 'applied',
});

class Rollback extends Error {}

/** A promise and the function that resolves it, to hold a callback open. */
const gate = (): { wait: Promise<void>; open(): void } => {
  let open = (): void => {};
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
};

export const describeStoreContract = (
  name: string,
  factory: StoreFactory,
  options: { skip?: string | false } = {},
): void => {
  describe(`Store contract: ${name}`, { skip: options.skip ?? false }, () => {
    let fixture: StoreFixture;
    let store: Store;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture.cleanup();
    });

    const insert = (...events: NewOutboxEvent[]) => store.withTransaction((tx) => tx.outbox.insert(events));

    /** Drains everything claimable now and returns the rows handed to the relay. */
    const drainAll = async (target = store): Promise<OutboxRow[]> => {
      const seen: OutboxRow[] = [];
      await target.outbox.drain({ limit: 1000 }, async (rows) => {
        seen.push(...rows);
        return { retry: [] };
      });
      return seen;
    };

    const newUser = (tx: Tx, email = `${uuidv7()}@example.com`) =>
      tx.users.insert({ id: uuidv7(), email, displayName: 'Ada' });

    describe('transactions', () => {
      it('commits when the callback resolves and returns its value', async () => {
        const { user, answer } = await store.withTransaction(async (tx) => ({
          user: await newUser(tx),
          answer: 42,
        }));
        assert.equal(answer, 42);
        assert.deepEqual(await store.withTransaction((tx) => tx.users.get(user.id)), user);
      });

      it('rolls back everything when the callback throws, and rethrows', async () => {
        const id = uuidv7();
        await assert.rejects(
          store.withTransaction(async (tx) => {
            await tx.users.insert({ id, email: 'gone@example.com', displayName: 'Gone' });
            await tx.outbox.insert([event(id, 1)]);
            throw new Rollback('changed my mind');
          }),
          Rollback,
        );
        assert.equal(await store.withTransaction((tx) => tx.users.get(id)), undefined);
        assert.equal((await store.outbox.backlog()).count, 0);
      });

      it('shows nothing to others before the commit', async () => {
        const held = gate();
        const entered = gate();
        const writing = store.withTransaction(async (tx) => {
          await tx.outbox.insert([event('a', 1)]);
          entered.open();
          await held.wait;
        });
        await entered.wait;
        assert.equal((await store.outbox.backlog()).count, 0);
        held.open();
        await writing;
        assert.equal((await store.outbox.backlog()).count, 1);
      });

      it('undoes only a failed savepoint, which rethrows', async () => {
        const kept = uuidv7();
        const undone = uuidv7();
        await store.withTransaction(async (tx) => {
          await tx.users.insert({ id: kept, email: 'kept@example.com', displayName: 'Kept' });
          await assert.rejects(
            tx.savepoint(async (inner) => {
              await inner.users.insert({ id: undone, email: 'undone@example.com', displayName: 'Undone' });
              throw new Rollback('inner');
            }),
            Rollback,
          );
          const nested = await tx.savepoint(async (inner) => {
            await inner.outbox.insert([event(kept, 1)]);
            return inner.savepoint(async (deeper) => (await deeper.users.get(kept))?.email);
          });
          assert.equal(nested, 'kept@example.com');
        });
        const [keptUser, undoneUser] = await store.withTransaction(async (tx) => [
          await tx.users.get(kept),
          await tx.users.get(undone),
        ]);
        assert.equal(keptUser?.email, 'kept@example.com');
        assert.equal(undoneUser, undefined);
        assert.equal((await store.outbox.backlog()).count, 1);
      });

      it('runs raw SQL with $n parameters in any order', async () => {
        const user = await store.withTransaction((tx) => newUser(tx, 'raw@example.com'));
        const rows = await store.withTransaction((tx) =>
          tx.query<{ email: string; display_name: string }>(
            'select email, display_name from users where display_name = $2 and email = $1',
            ['raw@example.com', 'Ada'],
          ),
        );
        assert.deepEqual(
          rows.map((r) => ({ ...r })),
          [{ email: 'raw@example.com', display_name: 'Ada' }],
        );
        const written = await store.withTransaction((tx) =>
          tx.query('update users set display_name = $1 where id = $2', ['Grace', user.id]),
        );
        assert.equal(written.length, 0);
        assert.equal((await store.withTransaction((tx) => tx.users.get(user.id)))?.displayName, 'Grace');
      });

      it('translates a unique violation in raw SQL into ConflictError', async () => {
        const id = uuidv7();
        const sql = 'insert into users (id, email, display_name) values ($1, $2, $3)';
        await store.withTransaction((tx) => tx.query(sql, [id, 'one@example.com', 'One']));
        await assert.rejects(
          store.withTransaction((tx) => tx.query(sql, [id, 'two@example.com', 'Two'])),
          ConflictError,
        );
      });
    });

    describe('outbox', () => {
      it('hands rows to the relay in insertion order with everything the stream needs', async () => {
        const aggregate = uuidv7();
        const events = [event(aggregate, 1), event(aggregate, 2, { headers: undefined }), event('b', 3)];
        await insert(events[0] as NewOutboxEvent);
        await insert(events[1] as NewOutboxEvent, events[2] as NewOutboxEvent);
        const rows = await drainAll();
        assert.deepEqual(
          rows.map((r) => r.eventId),
          events.map((e) => e.eventId),
        );
        for (const [i, row] of rows.entries()) {
          const source = events[i] as NewOutboxEvent;
          assert.match(row.id, /^\d+$/);
          if (i > 0) assert.ok(BigInt(row.id) > BigInt((rows[i - 1] as OutboxRow).id));
          assert.equal(row.topic, 'identity');
          assert.equal(row.eventType, source.eventType);
          assert.equal(row.aggregateType, 'user');
          assert.equal(row.aggregateId, source.aggregateId);
          assert.deepEqual(JSON.parse(row.payloadJson), source.payload);
          assert.deepEqual(JSON.parse(row.headersJson), source.headers ?? {});
          assert.match(row.occurredAt, isoUtcMs);
          assert.equal(row.attempts, 0);
          assert.equal(row.firstFailedAt, null);
          assert.equal(row.lastError, null);
        }
        assert.equal((await store.outbox.backlog()).count, 0);
      });

      it('claims at most limit rows per drain, oldest first', async () => {
        const events = Array.from({ length: 5 }, (_, i) => event('a', i));
        await insert(...events);
        const seen: string[][] = [];
        const first = await store.outbox.drain({ limit: 3 }, async (rows) => {
          seen.push(rows.map((r) => r.eventId));
          return { retry: [] };
        });
        assert.deepEqual(first, { leader: true, claimed: 3 });
        const second = await store.outbox.drain({ limit: 3 }, async (rows) => {
          seen.push(rows.map((r) => r.eventId));
          return { retry: [] };
        });
        assert.deepEqual(second, { leader: true, claimed: 2 });
        assert.deepEqual(seen, [
          events.slice(0, 3).map((e) => e.eventId),
          events.slice(3).map((e) => e.eventId),
        ]);
        assert.deepEqual(await store.outbox.drain({ limit: 3 }, async () => ({ retry: [] })), {
          leader: true,
          claimed: 0,
        });
      });

      it('keeps every claimed row when the relay fails, ids unchanged', async () => {
        await insert(event('a', 1), event('b', 2));
        const before = (await store.outbox.backlog()).count;
        let ids: string[] = [];
        await assert.rejects(
          store.outbox.drain({ limit: 10 }, async (rows) => {
            ids = rows.map((r) => r.id);
            throw new Error('publish failed');
          }),
          /publish failed/,
        );
        assert.equal((await store.outbox.backlog()).count, before);
        assert.deepEqual(
          (await drainAll()).map((r) => r.id),
          ids,
        );
      });

      it('puts retried rows back (attempts + 1, error, first failure) and others leave', async () => {
        await insert(event('a', 1), event('b', 2));
        const firstFailure = await store.outbox.drain({ limit: 10 }, async (rows) => ({
          retry: [{ id: (rows[0] as OutboxRow).id, error: 'boom', nextAttemptAt: new Date(Date.now() - 1) }],
        }));
        assert.deepEqual(firstFailure, { leader: true, claimed: 2 });
        const [again] = await store.outbox
          .drain({ limit: 10 }, async (rows) => ({
            retry: [
              { id: (rows[0] as OutboxRow).id, error: 'boom twice', nextAttemptAt: new Date(Date.now() - 1) },
            ],
          }))
          .then(async () => drainAll());
        assert.ok(again);
        assert.equal(again.attempts, 2);
        assert.equal(again.lastError, 'boom twice');
        assert.match(again.firstFailedAt ?? '', isoUtcMs);
        assert.equal((await store.outbox.backlog()).count, 0);
      });

      it('claims a retried row only once its next attempt is due', async () => {
        const retried = event('a', 1);
        await insert(retried);
        await store.outbox.drain({ limit: 10 }, async (rows) => ({
          retry: [
            { id: (rows[0] as OutboxRow).id, error: 'later', nextAttemptAt: new Date(Date.now() + 300) },
          ],
        }));
        assert.deepEqual(await drainAll(), []);
        assert.equal((await store.outbox.backlog()).count, 1);
        const rows = await eventually(async () => {
          const claimed = await drainAll();
          return claimed.length > 0 ? claimed : undefined;
        }, 5_000);
        assert.equal(rows?.[0]?.eventId, retried.eventId);
        assert.equal(rows?.[0]?.attempts, 1);
      });

      it('holds back later events of an aggregate whose earlier event waits for a retry', async () => {
        const a1 = event('agg-a', 1);
        const a2 = event('agg-a', 2);
        const b1 = event('agg-b', 1);
        await insert(a1, a2, b1);
        await store.outbox.drain({ limit: 1 }, async (rows) => ({
          retry: [
            { id: (rows[0] as OutboxRow).id, error: 'wait', nextAttemptAt: new Date(Date.now() + 60_000) },
          ],
        }));
        assert.deepEqual(
          (await drainAll()).map((r) => r.eventId),
          [b1.eventId],
        );
        assert.equal((await store.outbox.backlog()).count, 2);
      });

      it('lets one relay drain at a time: a concurrent drain gets leader: false', async () => {
        await insert(event('a', 1), event('a', 2));
        const other = await fixture.another();
        const held = gate();
        const entered = gate();
        const first = store.outbox.drain({ limit: 10 }, async () => {
          entered.open();
          await held.wait;
          return { retry: [] };
        });
        await entered.wait;
        try {
          const same = await store.outbox.drain({ limit: 10 }, async () => assert.fail('claimed twice'));
          const elsewhere = await other.outbox.drain({ limit: 10 }, async () => assert.fail('claimed twice'));
          assert.deepEqual(same, { leader: false, claimed: 0 });
          assert.deepEqual(elsewhere, { leader: false, claimed: 0 });
          held.open();
          assert.deepEqual(await first, { leader: true, claimed: 2 });
          await insert(event('a', 3));
          assert.deepEqual(await other.outbox.drain({ limit: 10 }, async () => ({ retry: [] })), {
            leader: true,
            claimed: 1,
          });
        } finally {
          held.open();
          await other.close();
        }
      });

      it('reports the backlog: how many rows and the age of the oldest', async () => {
        assert.deepEqual(await store.outbox.backlog(), { count: 0, oldestAgeSeconds: 0 });
        await insert(event('a', 1), event('b', 2));
        const backlog = await store.outbox.backlog();
        assert.equal(backlog.count, 2);
        assert.ok(backlog.oldestAgeSeconds >= 0 && backlog.oldestAgeSeconds < 60);
        await eventually(async () => (await store.outbox.backlog()).oldestAgeSeconds >= 0.05, 5_000);
      });

      it('gives ids that keep growing after the newest rows were drained', async () => {
        await insert(event('a', 1));
        const [first] = await drainAll();
        await insert(event('a', 2));
        const [second] = await drainAll();
        assert.ok(BigInt(second?.id ?? 0) > BigInt(first?.id ?? 0));
      });

      it('refuses a second row with the same event id', async () => {
        const once = event('a', 1);
        await insert(once);
        await assert.rejects(insert({ ...once, aggregateId: 'b' }), ConflictError);
      });

      it('calls a watcher soon after rows are committed, until it unsubscribes', async () => {
        let calls = 0;
        const unwatch = await store.outbox.watch?.(() => {
          calls += 1;
        });
        assert.ok(unwatch, 'the store can watch the outbox');
        const other = await fixture.another();
        try {
          await other.withTransaction((tx) => tx.outbox.insert([event('a', 1)]));
          await eventually(() => calls > 0, 5_000);
          await unwatch();
          const after = calls;
          await insert(event('a', 2));
          await new Promise((resolve) => setTimeout(resolve, 100));
          assert.equal(calls, after);
        } finally {
          await other.close();
        }
      });
    });

    describe('ledger', () => {
      it('records each (event, group) once and reports which entries were new', async () => {
        const [e1, e2] = [uuidv7(), uuidv7()];
        const first = await store.withTransaction((tx) =>
          tx.ledger.claim([ledgerEntry(e1), ledgerEntry(e2)]),
        );
        assert.deepEqual(first, new Set([e1, e2]));
        const again = await store.withTransaction((tx) =>
          tx.ledger.claim([ledgerEntry(e1), ledgerEntry(e1, 'audit-consumer')]),
        );
        assert.deepEqual(again, new Set([e1]));
        const rows = await store.ledger.find(e1);
        assert.deepEqual(
          rows.map((r) => [r.eventId, r.consumerGroup, r.eventType, r.streamId, r.result]),
          [
            [e1, 'audit-consumer', 'user.created', '1700000000000-0', 'applied'],
            [e1, 'markdown-lint-consumer', 'user.created', '1700000000000-0', 'applied'],
          ],
        );
        for (const row of rows) assert.match(row.processedAt, isoUtcMs);
        assert.deepEqual(await store.ledger.find(uuidv7()), []);
        assert.deepEqual(await store.withTransaction((tx) => tx.ledger.claim([])), new Set());
      });

      it('takes the ledger row away with a rolled back transaction', async () => {
        const id = uuidv7();
        await assert.rejects(
          store.withTransaction(async (tx) => {
            await tx.ledger.claim([ledgerEntry(id)]);
            throw new Rollback('handler failed');
          }),
          Rollback,
        );
        assert.deepEqual(await store.ledger.find(id), []);
      });

      it('answers which events a group already recorded', async () => {
        const [a, b, c] = [uuidv7(), uuidv7(), uuidv7()];
        await store.withTransaction((tx) => tx.ledger.claim([ledgerEntry(a), ledgerEntry(b, 'other-group')]));
        assert.deepEqual(await store.ledger.recorded('markdown-lint-consumer', [a, b, c]), new Set([a]));
        assert.deepEqual(await store.ledger.recorded('markdown-lint-consumer', []), new Set());
      });

      it('accepts the default schema by name and refuses an invalid one', async () => {
        const id = uuidv7();
        const claimed = await store.withTransaction((tx) =>
          tx.ledger.claim([ledgerEntry(id)], { schema: 'public' }),
        );
        assert.deepEqual(claimed, new Set([id]));
        await assert.rejects(
          store.withTransaction((tx) =>
            tx.ledger.claim([ledgerEntry(uuidv7())], { schema: 'bad-name; drop' }),
          ),
          ValidationError,
        );
      });

      it('cleans up only rows older than the retention', async () => {
        const [old, fresh] = [uuidv7(), uuidv7()];
        await store.withTransaction((tx) => tx.ledger.claim([ledgerEntry(old), ledgerEntry(fresh)]));
        const longAgo = new Date(Date.now() - 40 * 24 * 3600 * 1000).toISOString();
        await store.withTransaction((tx) =>
          tx.query('update event_ledger set processed_at = $1 where event_id = $2', [longAgo, old]),
        );
        assert.equal(await store.ledger.cleanup(3600), 1);
        assert.deepEqual(await store.ledger.find(old), []);
        assert.equal((await store.ledger.find(fresh)).length, 1);
        assert.equal(await store.ledger.cleanup(), 0);
      });
    });

    describe('users', () => {
      it('inserts and reads a user', async () => {
        const id = uuidv7();
        const user = await store.withTransaction((tx) =>
          tx.users.insert({ id, email: 'ada@example.com', displayName: 'Ada' }),
        );
        assert.equal(user.id, id);
        assert.equal(user.email, 'ada@example.com');
        assert.equal(user.displayName, 'Ada');
        assert.equal(user.status, 'active');
        assert.match(user.createdAt, isoUtcMs);
        assert.match(user.updatedAt, isoUtcMs);
        assert.deepEqual(await store.withTransaction((tx) => tx.users.get(id)), user);
        assert.equal(await store.withTransaction((tx) => tx.users.get(uuidv7())), undefined);
      });

      it('refuses an email taken in any letter case', async () => {
        await store.withTransaction((tx) => newUser(tx, 'Taken@Example.com'));
        await assert.rejects(
          store.withTransaction((tx) => newUser(tx, 'taken@example.COM')),
          (error: unknown) => error instanceof ConflictError && /taken@example\.COM/.test(error.message),
        );
      });

      it('updates email and display name, refusing a taken email and an unknown id', async () => {
        const [ada, bob] = await store.withTransaction(async (tx) => [
          await newUser(tx, 'ada@example.com'),
          await newUser(tx, 'bob@example.com'),
        ]);
        const renamed = await store.withTransaction((tx) =>
          tx.users.update(ada.id, { displayName: 'Countess' }),
        );
        assert.equal(renamed.displayName, 'Countess');
        assert.equal(renamed.email, 'ada@example.com');
        assert.ok(renamed.updatedAt >= ada.updatedAt);
        const moved = await store.withTransaction((tx) =>
          tx.users.update(ada.id, { email: 'ada@lovelace.org' }),
        );
        assert.equal(moved.email, 'ada@lovelace.org');
        assert.equal(moved.displayName, 'Countess');
        await assert.rejects(
          store.withTransaction((tx) => tx.users.update(ada.id, { email: 'BOB@example.com' })),
          ConflictError,
        );
        await assert.rejects(
          store.withTransaction((tx) => tx.users.update(uuidv7(), { displayName: 'x' })),
          NotFoundError,
        );
        assert.equal((await store.withTransaction((tx) => tx.users.get(bob.id)))?.email, 'bob@example.com');
      });

      it('disables a user once; again is a conflict, an unknown id not found', async () => {
        const user = await store.withTransaction((tx) => newUser(tx));
        const disabled = await store.withTransaction((tx) => tx.users.disable(user.id));
        assert.equal(disabled.status, 'disabled');
        await assert.rejects(
          store.withTransaction((tx) => tx.users.disable(user.id)),
          ConflictError,
        );
        await assert.rejects(
          store.withTransaction((tx) => tx.users.disable(uuidv7())),
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
        await store.withTransaction((tx) => tx.lintProfiles.apply([created]));
        assert.deepEqual(await store.withTransaction((tx) => tx.lintProfiles.get(userId)), {
          ...created,
          version: 1,
        });
        const batch = [change('b@example.com'), change('c@example.com'), change('d@example.com', 'disabled')];
        await store.withTransaction((tx) => tx.lintProfiles.apply(batch));
        assert.deepEqual(await store.withTransaction((tx) => tx.lintProfiles.get(userId)), {
          ...batch[2],
          version: 4,
        });
        assert.equal(await store.withTransaction((tx) => tx.lintProfiles.get(uuidv7())), undefined);
        await store.withTransaction((tx) => tx.lintProfiles.apply([]));
      });
    });

    describe('lifecycle', () => {
      it('migrates again without applying anything twice', async () => {
        const report = await store.migrate();
        assert.deepEqual(report.applied, []);
        assert.ok(report.alreadyApplied.length >= 4);
        assert.deepEqual(await store.migrate(), report);
      });

      it('answers ping', async () => {
        await store.ping();
      });
    });
  });
};
