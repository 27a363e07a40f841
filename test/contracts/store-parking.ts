// Store contract cases: parked events and aggregate blocks (src/ports/parking.ts), outside a
// transaction and inside one together with the ledger.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from '../../src/core/ids.ts';
import type { ParkedEntry, ParkedEvent } from '../../src/ports/parking.ts';
import { ledgerEntry, Rollback, type StoreKit } from './store-kit.ts';

const group = 'markdown-lint-consumer';

const parkedEvent = (
  aggregateKey: string,
  streamId: string,
  outboxId: number | null,
  extra: Partial<ParkedEvent> = {},
): ParkedEvent => {
  const eventId = uuidv7();
  return {
    group,
    aggregateKey,
    stream: 'identity',
    streamId,
    eventId,
    outboxId,
    fields: { event_id: eventId, event_type: 'user.updated', payload: '{"n":"é 😀"}', z: '', a: 'first' },
    ...extra,
  };
};

/** What was parked, without the time the store adds. */
const withoutParkedAt = (entry: ParkedEntry | undefined): ParkedEvent | undefined => {
  if (!entry) return undefined;
  const { parkedAt: _parkedAt, ...event } = entry;
  return event;
};

export const storeParkingCases = (t: StoreKit): void => {
  describe('parking', () => {
    it('parks idempotently and lists an aggregate in outbox order, then stream id order', async () => {
      const events = [
        parkedEvent('user/a', '1700000000010-0', 12),
        parkedEvent('user/a', '1700000000009-5', 3),
        parkedEvent('user/a', '1700000000100-0', null),
        parkedEvent('user/a', '1700000000020-1', null),
        parkedEvent('user/a', '1700000000010-1', 12),
        parkedEvent('user/b', '1700000000001-0', 1),
      ];
      await t.store.parking.park(events);
      // The redelivery after a crash between park and acknowledge parks nothing twice.
      await t.store.parking.park([events[0] as ParkedEvent, events[5] as ParkedEvent]);
      await t.store.parking.park([]);
      const parked = await t.store.parking.parked(group, 'user/a');
      assert.deepEqual(
        parked.map((p) => [p.outboxId, p.streamId]),
        [
          [3, '1700000000009-5'],
          [12, '1700000000010-0'],
          [12, '1700000000010-1'],
          [null, '1700000000020-1'],
          [null, '1700000000100-0'],
        ],
      );
      assert.deepEqual(withoutParkedAt(parked[0]), events[1]);
      assert.deepEqual(await t.store.parking.parked(group, 'user/none'), []);
      assert.deepEqual(await t.store.parking.parked('other-group', 'user/a'), []);
      assert.equal(await t.store.parking.count(group), 6);
      assert.equal(await t.store.parking.countBehind(group, 'user/a'), 5);
      assert.equal(await t.store.parking.countBehind(group, 'user/none'), 0);
      assert.equal(await t.store.parking.count('other-group'), 0);

      await t.store.parking.remove(group, [events[1]?.eventId ?? '', events[5]?.eventId ?? '', uuidv7()]);
      await t.store.parking.remove(group, []);
      assert.equal(await t.store.parking.count(group), 4);
      assert.equal((await t.store.parking.parked(group, 'user/a'))[0]?.outboxId, 12);
    });

    it('releases only aggregates with parked events and no block, per group, up to the limit', async () => {
      await t.store.parking.park([parkedEvent('user/a', '1-0', 1)]);
      await t.store.parking.park([parkedEvent('user/b', '2-0', 2)]);
      await t.store.parking.park([parkedEvent('user/c', '3-0', 3), parkedEvent('user/a', '4-0', 4)]);
      await t.store.parking.park([parkedEvent('user/a', '5-0', 5, { group: 'other-group' })]);
      await t.store.parking.block({
        group,
        aggregateKey: 'user/b',
        eventId: uuidv7(),
        deadLetterStream: 'identity.dlq',
        deadLetterId: '1700000000000-0',
      });
      await t.store.parking.block({
        group,
        aggregateKey: 'user/z',
        eventId: uuidv7(),
        deadLetterStream: 'identity.dlq',
        deadLetterId: null,
      });
      const releasable = await t.store.parking.releasable(group, 10);
      assert.deepEqual([...releasable].sort(), ['user/a', 'user/c']);
      assert.equal((await t.store.parking.releasable(group, 1)).length, 1);
      assert.deepEqual(await t.store.parking.releasable('other-group', 10), ['user/a']);
      assert.equal(await t.store.parking.unblock(group, 'user/b'), true);
      assert.deepEqual([...(await t.store.parking.releasable(group, 10))].sort(), [
        'user/a',
        'user/b',
        'user/c',
      ]);
    });

    it('blocks and unblocks aggregates, found by group, by key and by dead-lettered event', async () => {
      const dead = uuidv7();
      const first = {
        group,
        aggregateKey: 'user/a',
        eventId: dead,
        deadLetterStream: 'identity.dlq',
        deadLetterId: '1-0',
      };
      await t.store.parking.block(first);
      await t.store.parking.block({ ...first, group: 'audit-consumer' });
      await t.store.parking.block({
        ...first,
        aggregateKey: 'user/b',
        eventId: uuidv7(),
        deadLetterId: null,
      });
      const [a] = await t.store.parking.blocks(group, ['user/a']);
      assert.ok(a);
      assert.deepEqual({ ...a, since: 'x' }, { ...first, since: 'x' });
      assert.match(a.since, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      // Blocking again for the same dead letter (a new dead-letter id after a failed reprocess) keeps `since`.
      await t.store.parking.block({ ...first, deadLetterId: '2-0' });
      const [again] = await t.store.parking.blocks(group, ['user/a']);
      assert.deepEqual([again?.deadLetterId, again?.since], ['2-0', a.since]);

      assert.deepEqual((await t.store.parking.blocks(group)).map((b) => b.aggregateKey).sort(), [
        'user/a',
        'user/b',
      ]);
      assert.deepEqual(await t.store.parking.blocks(group, []), []);
      assert.deepEqual(await t.store.parking.blocks(group, ['user/none']), []);
      assert.deepEqual(
        (await t.store.parking.blocksOfEvent(dead)).map((b) => [b.group, b.aggregateKey]),
        [
          ['audit-consumer', 'user/a'],
          [group, 'user/a'],
        ],
      );
      assert.deepEqual(await t.store.parking.blocksOfEvent(uuidv7()), []);
      assert.equal(await t.store.parking.unblock(group, 'user/a'), true);
      assert.equal(await t.store.parking.unblock(group, 'user/a'), false);
      assert.deepEqual(
        (await t.store.parking.blocksOfEvent(dead)).map((b) => b.group),
        ['audit-consumer'],
      );
    });

    it("takes the blocked event's own parked copy away with its block, and nothing else", async () => {
      // Left by a process that died between the dead letter and the removal from parking.
      const stale = parkedEvent('user/a', '1-0', 1);
      const behind = parkedEvent('user/a', '2-0', 2);
      const otherGroup = parkedEvent('user/a', '1-0', 1, { eventId: stale.eventId, group: 'audit-consumer' });
      await t.store.parking.park([stale, behind, otherGroup]);
      // When each was parked, on the store's clock: a dead letter of it cannot be older.
      for (const parked of await t.store.parking.parked(group, 'user/a'))
        assert.ok(Math.abs(parked.parkedAt - Date.now()) < 60_000, `parkedAt ${parked.parkedAt} is now`);
      await t.store.parking.block({
        group,
        aggregateKey: 'user/a',
        eventId: stale.eventId,
        deadLetterStream: 'identity.dlq',
        deadLetterId: '5-0',
      });
      assert.equal(await t.store.parking.unblock(group, 'user/a'), true);
      assert.deepEqual(
        (await t.store.parking.parked(group, 'user/a')).map((p) => p.eventId),
        [behind.eventId],
      );
      assert.deepEqual(
        (await t.store.parking.parked('audit-consumer', 'user/a')).map((p) => p.eventId),
        [stale.eventId],
      );
      assert.equal(await t.store.parking.unblock(group, 'user/a'), false);
      assert.equal(await t.store.parking.count(group), 1);
    });

    it('parks inside a transaction with the ledger: both commit or neither', async () => {
      const kept = parkedEvent('user/a', '1-0', 1);
      const gone = parkedEvent('user/a', '2-0', 2);
      await t.store.withTransaction(async (tx) => {
        await tx.parking.park([kept]);
        await tx.ledger.claim([ledgerEntry(uuidv7())]);
        assert.equal(await tx.parking.countBehind(group, 'user/a'), 1, 'seen inside the transaction');
      });
      await assert.rejects(
        t.store.withTransaction(async (tx) => {
          await tx.parking.park([gone]);
          await tx.parking.remove(group, [kept.eventId]);
          await tx.parking.block({
            group,
            aggregateKey: 'user/a',
            eventId: gone.eventId,
            deadLetterStream: 'identity.dlq',
            deadLetterId: null,
          });
          throw new Rollback('failed after parking');
        }),
        Rollback,
      );
      assert.deepEqual((await t.store.parking.parked(group, 'user/a')).map(withoutParkedAt), [kept]);
      assert.deepEqual(await t.store.parking.blocks(group), []);
    });
  });
};
