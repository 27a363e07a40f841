// Store contract cases: the outbox (claim order, retries, hold-back, concurrent claims, backlog, watch).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { ConflictError } from '../../src/core/errors.ts';
import { uuidv7 } from '../../src/core/ids.ts';
import type { NewOutboxEvent, OutboxRow } from '../../src/ports/outbox.ts';
import { drainOutbox } from '../../src/relay/drain-outbox.ts';
import { eventually } from '../helpers/eventually.ts';
import { event, gate, isoUtcMs, type StoreKit } from './store-kit.ts';

export const storeOutboxCases = (t: StoreKit): void => {
  const { insert, drainAll } = t;

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
      assert.equal((await t.store.outbox.backlog()).count, 0);
    });

    it('keeps any JSON value as a payload, null and scalars included', async () => {
      const payloads = [null, 'text', 42, [1, 'two'], { nested: { deep: [true, null] } }];
      const events = payloads.map((payload, i) => ({ ...event('a', i), payload }));
      await insert(...events);
      const rows = await drainAll();
      assert.deepEqual(
        rows.map((r) => JSON.parse(r.payloadJson)),
        payloads,
      );
    });

    it('claims at most limit rows per drain, oldest first', async () => {
      const events = Array.from({ length: 5 }, (_, i) => event('a', i));
      await insert(...events);
      const seen: string[][] = [];
      const first = await t.drain({ limit: 3 }, async (rows) => {
        seen.push(rows.map((r) => r.eventId));
        return { retry: [] };
      });
      assert.deepEqual(first, { paused: false, claimed: 3, batches: 1 });
      const second = await t.drain({ limit: 3 }, async (rows) => {
        seen.push(rows.map((r) => r.eventId));
        return { retry: [] };
      });
      assert.deepEqual(second, { paused: false, claimed: 2, batches: 1 });
      assert.deepEqual(seen, [
        events.slice(0, 3).map((e) => e.eventId),
        events.slice(3).map((e) => e.eventId),
      ]);
      assert.deepEqual(await t.drain({ limit: 3 }, async () => ({ retry: [] })), {
        paused: false,
        claimed: 0,
        batches: 0,
      });
    });

    it('claims several batches in one transaction, in order, stopping at a short one', async () => {
      const events = ['a', 'b', 'c', 'd', 'e'].map((agg, i) => event(agg, i + 1));
      await insert(...events);
      const seen: string[][] = [];
      const result = await t.drain({ limit: 2, maxBatches: 5 }, async (rows) => {
        seen.push(rows.map((r) => r.eventId));
        return { retry: [] };
      });
      assert.deepEqual(result, { paused: false, claimed: 5, batches: 3 });
      assert.deepEqual(seen, [
        events.slice(0, 2).map((e) => e.eventId),
        events.slice(2, 4).map((e) => e.eventId),
        events.slice(4).map((e) => e.eventId),
      ]);
      assert.equal((await t.store.outbox.backlog()).count, 0);
    });

    it('keeps every row of every batch when a later batch fails', async () => {
      await insert(event('a', 1), event('b', 2), event('c', 3), event('d', 4), event('e', 5));
      let batches = 0;
      await assert.rejects(
        t.drain({ limit: 2, maxBatches: 5 }, async () => {
          batches += 1;
          if (batches === 2) throw new Error('publish failed');
          return { retry: [] };
        }),
        /publish failed/,
      );
      assert.equal((await t.store.outbox.backlog()).count, 5);
      assert.equal((await drainAll()).length, 5);
    });

    it('keeps every claimed row when the relay fails, ids unchanged', async () => {
      await insert(event('a', 1), event('b', 2));
      const before = (await t.store.outbox.backlog()).count;
      let ids: string[] = [];
      await assert.rejects(
        t.drain({ limit: 10 }, async (rows) => {
          ids = rows.map((r) => r.id);
          throw new Error('publish failed');
        }),
        /publish failed/,
      );
      assert.equal((await t.store.outbox.backlog()).count, before);
      assert.deepEqual(
        (await drainAll()).map((r) => r.id),
        ids,
      );
    });

    it('puts retried rows back (attempts + 1, error, first failure) and others leave', async () => {
      await insert(event('a', 1), event('b', 2));
      const firstFailure = await t.drain({ limit: 10 }, async (rows) => ({
        retry: [{ id: (rows[0] as OutboxRow).id, error: 'boom', nextAttemptAt: new Date(Date.now() - 1) }],
      }));
      assert.deepEqual(firstFailure, { paused: false, claimed: 2, batches: 1 });
      const [again] = await t
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
      assert.equal((await t.store.outbox.backlog()).count, 0);
    });

    it('puts held rows back unchanged: no attempt, no error of their own', async () => {
      await insert(event('a', 1), event('a', 2));
      await t.drain({ limit: 10 }, async (rows) => {
        const [failed, held] = rows as [OutboxRow, OutboxRow];
        const due = new Date(Date.now() - 1);
        return {
          retry: [
            { id: failed.id, error: 'boom', nextAttemptAt: due },
            { id: held.id, error: 'held behind a failed event', nextAttemptAt: due, held: true },
          ],
        };
      });
      const [failed, held] = (await drainAll()) as [OutboxRow, OutboxRow];
      assert.deepEqual([failed.attempts, failed.lastError], [1, 'boom']);
      assert.deepEqual([held.attempts, held.lastError, held.firstFailedAt], [0, null, null]);
    });

    it('claims a retried row only once its next attempt is due', async () => {
      const retried = event('a', 1);
      await insert(retried);
      await t.drain({ limit: 10 }, async (rows) => ({
        retry: [{ id: (rows[0] as OutboxRow).id, error: 'later', nextAttemptAt: new Date(Date.now() + 300) }],
      }));
      assert.deepEqual(await drainAll(), []);
      assert.equal((await t.store.outbox.backlog()).count, 1);
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
      await t.drain({ limit: 1 }, async (rows) => ({
        retry: [
          { id: (rows[0] as OutboxRow).id, error: 'wait', nextAttemptAt: new Date(Date.now() + 60_000) },
        ],
      }));
      assert.deepEqual(
        (await drainAll()).map((r) => r.eventId),
        [b1.eventId],
      );
      assert.equal((await t.store.outbox.backlog()).count, 2);
    });

    it('never hands a row to two relay transactions: a claim meeting rows another holds waits for its end', async () => {
      const b1 = event('b', 1);
      await insert(event('a', 1), event('a', 2), b1);
      const other = await t.fixture.another();
      const held = gate();
      const entered = gate();
      const first = t.drain({ limit: 2 }, async () => {
        entered.open();
        await held.wait;
        return { retry: [] };
      });
      await entered.wait;
      try {
        const seen: string[] = [];
        let done = false;
        const elsewhere = drainOutbox(other.outbox, { limit: 10 }, async (rows) => {
          seen.push(...rows.map((r) => r.eventId));
          return { retry: [] };
        }).finally(() => {
          done = true;
        });
        await delay(100);
        assert.equal(done, false, 'the second claim waits for the first transaction');
        held.open();
        assert.deepEqual(await first, { paused: false, claimed: 2, batches: 1 });
        assert.deepEqual(await elsewhere, { paused: false, claimed: 1, batches: 1 });
        assert.deepEqual(seen, [b1.eventId]);
      } finally {
        held.open();
        await other.close();
      }
    });

    it('says when it is about to look, so a wake-up for rows committed before needs no drain of its own', async () => {
      await insert(event('a', 1), event('b', 2));
      const calls: string[] = [];
      const result = await t.drain({ limit: 10, beforeLook: () => calls.push('look') }, async (rows) => {
        calls.push(`handle ${rows.length}`);
        return { retry: [] };
      });
      assert.deepEqual(result, { paused: false, claimed: 2, batches: 1 });
      assert.deepEqual(calls, ['look', 'handle 2']);
    });

    it('reports the backlog: how many rows and the age of the oldest', async () => {
      assert.deepEqual(await t.store.outbox.backlog(), { count: 0, oldestAgeSeconds: 0 });
      await insert(event('a', 1), event('b', 2));
      const backlog = await t.store.outbox.backlog();
      assert.equal(backlog.count, 2);
      assert.ok(backlog.oldestAgeSeconds >= 0 && backlog.oldestAgeSeconds < 60);
      await eventually(async () => (await t.store.outbox.backlog()).oldestAgeSeconds >= 0.05, 5_000);
    });

    it("reports one topic's backlog, so a topic is known drained while others still wait", async () => {
      await insert(event('a', 1), event('b', 2, { topic: 'billing' }), event('c', 3, { topic: 'billing' }));
      assert.equal((await t.store.outbox.backlog({ topic: 'identity' })).count, 1);
      assert.equal((await t.store.outbox.backlog({ topic: 'billing' })).count, 2);
      assert.deepEqual(await t.store.outbox.backlog({ topic: 'audit' }), { count: 0, oldestAgeSeconds: 0 });
      assert.equal((await t.store.outbox.backlog()).count, 3);
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
      const unwatch = await t.store.outbox.watch?.(() => {
        calls += 1;
      });
      assert.ok(unwatch, 'the store can watch the outbox');
      const other = await t.fixture.another();
      try {
        await other.withTransaction((tx) => tx.outbox.insert([event('a', 1)]));
        await eventually(() => calls > 0, 5_000);
        await unwatch();
        const after = calls;
        // A watcher still subscribed shows when the next commit's notification has gone out.
        let laterCalls = 0;
        const unwatchLater = await t.store.outbox.watch?.(() => {
          laterCalls += 1;
        });
        await insert(event('a', 2));
        await eventually(() => laterCalls > 0, 5_000);
        await unwatchLater?.();
        assert.equal(calls, after);
      } finally {
        await other.close();
      }
    });
  });
};
