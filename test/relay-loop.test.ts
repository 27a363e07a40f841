// The relay loop's wake-ups on real local ports: a notification for rows a drain already saw costs no
// drain of its own, one that comes after the drain looked gets one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { type LocalPorts, openLocalPorts } from '../src/adapters/sqlite/local-ports.ts';
import { uuidv7 } from '../src/core/ids.ts';
import { silentLogger } from '../src/core/logger.ts';
import type { Bus } from '../src/ports/bus.ts';
import type { OutboxRelay } from '../src/ports/outbox.ts';
import type { Store } from '../src/ports/store.ts';
import { createRelayMetrics } from '../src/relay/metrics.ts';
import { createRelayLoop, type RelayLoop } from '../src/relay/relay-loop.ts';
import { createTrimmer } from '../src/relay/trimmer.ts';
import { eventually } from './helpers/eventually.ts';

const userEvent = () => ({
  eventId: uuidv7(),
  topic: 'identity',
  eventType: 'user.created',
  aggregateType: 'user',
  aggregateId: uuidv7(),
  payload: { n: 1 },
});

describe('relay loop wake-ups', () => {
  let dir: string;
  let local: LocalPorts;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mm-relay-loop-'));
    local = await openLocalPorts({ file: join(dir, 'relay.db'), logger: silentLogger });
  });
  after(async () => {
    await local.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const relayLoop = (store: Store, bus: Bus): RelayLoop => {
    const metrics = createRelayMetrics(new Registry(), ['identity']);
    const loop = createRelayLoop({
      store,
      bus,
      logger: silentLogger,
      metrics,
      trimmer: createTrimmer({
        bus,
        logger: silentLogger,
        limits: {
          maxLen: 0,
          hardMax: 0,
          maxAgeMs: 0,
          maxBytes: 0,
          hardMaxBytes: 0,
          deadGroupAfterMs: 600_000,
        },
        intervalMs: 60_000,
        onTrimmedUnconsumed: metrics.trimmedUnconsumed,
      }),
      policy: { maxAttempts: 3, maxEventBytes: 1_000_000, backoff: { baseMs: 100, maxMs: 1_000 } },
      batchSize: 100,
      batchesPerCommit: 1,
      // Long enough that any further drain in these tests comes from a ring, not the poll.
      pollIntervalMs: 60_000,
    });
    return loop;
  };

  const insert = (count: number) =>
    local.store.withTransaction((tx) => tx.outbox.insert(Array.from({ length: count }, userEvent)));

  /**
   * The loop on the local store, its drains (relay transactions) counted; the loop is rung once, at
   * `moment`: before its first drain, or while a batch is being published.
   */
  const ringingOnce = (moment: 'before the drain' | 'while handling') => {
    let drains = 0;
    let rang = false;
    const ring = (): void => {
      if (rang) return;
      rang = true;
      loop.wake();
    };
    const outbox: OutboxRelay = {
      ...local.store.outbox,
      withRelayTransaction: (work) => {
        drains += 1;
        return local.store.outbox.withRelayTransaction(work);
      },
    };
    const bus: Bus = {
      ...local.bus,
      addBatch: (entries) => {
        if (moment === 'while handling') ring();
        return local.bus.addBatch(entries);
      },
    };
    const loop = relayLoop({ ...local.store, outbox }, bus);
    if (moment === 'before the drain') ring();
    return { loop, drains: () => drains };
  };

  it('does not drain again for a notification that came before the drain looked', async () => {
    await insert(3);
    const relay = ringingOnce('before the drain');
    relay.loop.start();
    try {
      await eventually(async () => (await local.store.outbox.backlog()).count === 0, 5_000);
      await delay(300);
      assert.equal(relay.drains(), 1);
    } finally {
      await relay.loop.stop();
    }
  });

  it('drains again for a notification that came after the drain looked', async () => {
    await insert(3);
    const relay = ringingOnce('while handling');
    relay.loop.start();
    try {
      await eventually(() => relay.drains() >= 2, 5_000, { message: 'a second drain after the late ring' });
      await delay(300);
      assert.equal(relay.drains(), 2);
    } finally {
      await relay.loop.stop();
    }
  });
});
