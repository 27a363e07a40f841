// The services measured as they run in production: built bundles as processes, fed through the
// outbox or the stream, judged by the stream and the ledger.
import type { Redis } from 'ioredis';
import { streamIdTime } from '../../src/core/ids.ts';
import type { Store } from '../../src/ports/store.ts';
import { eventually } from '../helpers/eventually.ts';
import { fillOutbox } from './baselines.ts';
import { streamFieldsOf, userEvents } from './events.ts';
import { appliedTimes, assertExactlyOnce, ledgerSummary } from './ledger.ts';
import { produceAtRate, produceFlat } from './producer.ts';
import { type Service, startService, stopAll } from './services.ts';
import { percentile, rate } from './stats.ts';

export const GROUP = 'markdown-lint-consumer';

/** Where the services run: connection flags, the store the producer writes to, and the stream. */
export type Target = {
  readonly store: Store;
  readonly flags: readonly string[];
  readonly redis?: Redis;
  readonly streamKey?: string;
};

const processed = async (service: Service): Promise<number> => {
  const metrics = (await (await fetch(`${service.url}/metrics`)).json()) as {
    events_processed_success?: number;
  };
  return metrics.events_processed_success ?? 0;
};

const waitProcessed = (consumer: Service, count: number, timeoutMs: number): Promise<unknown> =>
  eventually(async () => (await processed(consumer)) >= count, timeoutMs, {
    intervalMs: 100,
    message: `consumer applying ${count} events`,
  });

/** Relay draining a pre-filled outbox; throughput from the first to the last stream entry it wrote. */
export const relayDrain = async (target: Target & { redis: Redis; streamKey: string }, count: number) => {
  await fillOutbox(target.store, count);
  // A group that reads nothing keeps every entry from being trimmed, so all of them can be counted.
  await target.redis.xgroup('CREATE', target.streamKey, 'bench-hold', '0', 'MKSTREAM');
  const relay = await startService('mm-relay', [...target.flags, '--stream-hard-max', '0']);
  try {
    await eventually(async () => (await target.redis.xlen(target.streamKey)) >= count, 120_000, {
      intervalMs: 50,
      message: 'relay publishing every event',
    });
  } finally {
    await stopAll([relay]);
  }
  const [first] = await target.redis.xrange(target.streamKey, '-', '+', 'COUNT', 1);
  const [last] = await target.redis.xrevrange(target.streamKey, '+', '-', 'COUNT', 1);
  const published = await target.redis.xlen(target.streamKey);
  if (published !== count) throw new Error(`relay published ${published} entries for ${count} events`);
  const spanMs = streamIdTime(last?.[0] ?? '0-0') - streamIdTime(first?.[0] ?? '0-0');
  return rate(count, Math.max(1, spanMs));
};

/** Consumer applying a pre-loaded stream with ledger and the built-in handler. */
export const consumerApply = async (target: Target & { redis: Redis; streamKey: string }, count: number) => {
  const rows = userEvents(count).map((event, i) => streamFieldsOf(event, i));
  for (let at = 0; at < rows.length; at += 1000) {
    const pipeline = target.redis.pipeline();
    for (const fields of rows.slice(at, at + 1000)) pipeline.xadd(target.streamKey, '*', ...fields);
    await pipeline.exec();
  }
  const consumer = await startService('mm-consumer', target.flags);
  try {
    await waitProcessed(consumer, count, 180_000);
  } finally {
    await stopAll([consumer]);
  }
  const summary = await ledgerSummary(target.store, GROUP);
  assertExactlyOnce(summary, count, 'consumer');
  return rate(count, summary.lastMs - summary.firstMs);
};

/** Producer writing outbox rows as fast as it can, relay and consumer running: commit to ledger. */
export const pipelineSustained = async (target: Target, count: number) => {
  const relay = await startService('mm-relay', target.flags);
  const consumer = await startService('mm-consumer', target.flags);
  const started = Date.now();
  let rss = { relay: Number.NaN, consumer: Number.NaN };
  try {
    await produceFlat(target.store, count);
    await waitProcessed(consumer, count, 240_000);
    // Peak resident memory is read while the processes still exist.
    rss = { relay: relay.peakRssMb(), consumer: consumer.peakRssMb() };
  } finally {
    await stopAll([relay, consumer]);
  }
  const summary = await ledgerSummary(target.store, GROUP);
  assertExactlyOnce(summary, count, 'pipeline');
  return {
    eventsPerS: rate(count, summary.lastMs - started),
    relayRssMb: rss.relay,
    consumerRssMb: rss.consumer,
  };
};

/** Commit-to-applied latency at a fixed offered rate. */
export const latencyAtRate = async (target: Target, perSecond: number, seconds: number) => {
  const relay = await startService('mm-relay', target.flags);
  const consumer = await startService('mm-consumer', target.flags);
  let committed: Map<string, number>;
  try {
    committed = await produceAtRate(target.store, perSecond, seconds);
    await waitProcessed(consumer, committed.size, 120_000);
  } finally {
    await stopAll([relay, consumer]);
  }
  const summary = await ledgerSummary(target.store, GROUP);
  assertExactlyOnce(summary, committed.size, `latency at ${perSecond}/s`);
  const applied = await appliedTimes(target.store, GROUP);
  const latencies = [...committed].map(([eventId, at]) => (applied.get(eventId) ?? Number.NaN) - at);
  latencies.sort((a, b) => a - b);
  return {
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    achievedPerS: rate(committed.size, seconds * 1000),
  };
};
