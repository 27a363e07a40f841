// Store contract cases: the database computes each outbox row's partition hash exactly as
// partitionHash() does, so every writer and reader agrees on an aggregate's partition.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { uuidv7 } from '../../src/core/ids.ts';
import { partitionHash } from '../../src/core/partitions.ts';
import { event, type StoreKit } from './store-kit.ts';

/** Plain, empty, long, and non-ASCII ids (md5 hashes the UTF-8 bytes in both databases). */
const sampleIds = (): string[] => [
  '',
  'a',
  'user-1',
  'Ünïcødé',
  'ümlaut straße',
  '日本語のID',
  '😀 emoji 🚀',
  'x'.repeat(500),
  ...Array.from({ length: 200 }, (_, n) => (n % 2 === 0 ? uuidv7() : `agg-${n}-é-${n * 7919}`)),
];

export const storePartitionsCases = (t: StoreKit): void => {
  describe('partition hash', () => {
    it('mm_partition_hash(text) equals partitionHash() for every id', async () => {
      const ids = sampleIds();
      const hashes = await t.store.withTransaction(async (tx) => {
        const out: number[] = [];
        for (const id of ids) {
          const [row] = await tx.query<{ h: number }>('select mm_partition_hash($1) as h', [id]);
          out.push(Number(row?.h));
        }
        return out;
      });
      assert.deepEqual(
        hashes,
        ids.map((id) => partitionHash(id)),
      );
    });

    it('stores the hash on every outbox row, whoever writes it', async () => {
      const ids = sampleIds();
      await t.insert(...ids.map((id, n) => event(id, n)));
      const rows = await t.store.withTransaction((tx) =>
        tx.query<{ aggregate_id: string; partition_hash: number }>(
          'select aggregate_id, partition_hash from outbox order by id',
        ),
      );
      assert.deepEqual(
        rows.map((r) => [r.aggregate_id, Number(r.partition_hash)]),
        ids.map((id) => [id, partitionHash(id)]),
      );
      const drained = await t.drainAll();
      assert.equal(drained.length, ids.length);
    });
  });
};
