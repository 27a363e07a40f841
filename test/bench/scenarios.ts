// The measured runs: the services as they run in production (built bundles as processes) and the
// raw baselines, fed and judged the same way, each checked for exactly-once before it reports.
import type { Redis } from 'ioredis';
import { streamIdTime } from '../../src/core/ids.ts';
import { partitionStreams } from '../../src/core/partitions.ts';
import { eventually } from '../helpers/eventually.ts';
import { RAW_CONSUMER_GROUP, rawConsume, rawDrain } from './baselines.ts';
import { type Carrier, type Carrying, GROUP } from './carriers.ts';
import { userHistories } from './events.ts';
import { appliedAtRank, appliedTimes, assertExactlyOnce, ledgerSummary, orderInversions } from './ledger.ts';
import {
  fillOutbox,
  preloadPartitions,
  preloadStream,
  produceAtRate,
  produceFlat,
  recordPartitionCount,
} from './producer.ts';
import { partitionsOwned, processedCount, startService, stopAll } from './services.ts';
import type { Production, Setup } from './setups.ts';
import { percentile, rate } from './stats.ts';

const waitApplied = (carrying: Pick<Carrying, 'applied'>, count: number, timeoutMs: number) =>
  eventually(async () => (await carrying.applied()) >= count, timeoutMs, {
    // Rates come from the ledger's times, not from when this notices; polling less disturbs less.
    intervalMs: 250,
    message: `applying ${count} events`,
  });

/**
 * Events a drain or consumer run handles before its clock starts, on both sides of a ratio. A fresh
 * consumer process applied its first 5,000 events at about half its later speed while a baseline in
 * this already warm process did not slow down, so short runs judged start-up rather than throughput.
 * Its rate still rose until some 20,000-40,000 events (sampled every 500 ms), and a relay timed
 * after 5,000 drained at 0.83x the raw drain where it reached 1.13x after 20,000.
 */
const WARM_UP = 20_000;

/** Publishing rate from the stream entries' own times, past the warm-up: the same for relay and raw drain. */
const publishRate = async (redis: Redis, key: string, count: number): Promise<number> => {
  const published = await redis.xlen(key);
  if (published !== count + WARM_UP)
    throw new Error(`${published} stream entries for ${count + WARM_UP} events`);
  const warm = await redis.xrange(key, '-', '+', 'COUNT', WARM_UP + 1);
  const [last] = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  const spanMs = streamIdTime(last?.[0] ?? '0-0') - streamIdTime(warm[WARM_UP]?.[0] ?? '0-0');
  return rate(count, Math.max(1, spanMs));
};

export const rawDrainRate = async (setup: Production, count: number) => {
  await fillOutbox(setup.store, count + WARM_UP);
  await rawDrain(setup.sql, setup.redis, setup.streamKey);
  return { rate: await publishRate(setup.redis, setup.streamKey, count) };
};

/** The relay draining a pre-filled outbox, until the stream holds every event. */
export const relayDrain = async (setup: Production, count: number) => {
  await fillOutbox(setup.store, count + WARM_UP);
  // A group that reads nothing keeps every entry from being trimmed, so all of them can be counted.
  await setup.redis.xgroup('CREATE', setup.streamKey, 'bench-hold', '0', 'MKSTREAM');
  const relay = await startService('mm-relay', [...setup.flags, '--stream-hard-max', '0']);
  try {
    await eventually(async () => (await setup.redis.xlen(setup.streamKey)) >= count + WARM_UP, 120_000, {
      intervalMs: 250,
      message: 'relay publishing every event',
    });
  } finally {
    await stopAll([relay]);
  }
  return { rate: await publishRate(setup.redis, setup.streamKey, count) };
};

/** Events of one aggregate published after a later one of it: entries in stream order, by outbox id. */
const streamInversions = (entries: ReadonlyArray<[string, string[]]>): number => {
  const field = (fields: string[], name: string): string => fields[fields.indexOf(name) + 1] ?? '';
  const latest = new Map<string, number>();
  let inversions = 0;
  for (const [, fields] of entries) {
    const aggregate = field(fields, 'aggregate_id');
    const outboxId = Number(field(fields, 'outbox_id'));
    if (outboxId < (latest.get(aggregate) ?? 0)) inversions += 1;
    else latest.set(aggregate, outboxId);
  }
  return inversions;
};

/**
 * `relays` relay processes sharing topic `identity` over `partitions` partitions: they settle on a
 * split first, then the outbox fills in one transaction (20 events per user) and they drain it. Timed
 * by the partition streams' entry ids, past the warm-up (WARM_UP events per relay: each process
 * warms up as a lone one does), as `relayDrain` is; the run fails on a missing or doubled event or
 * any per-user order inversion in the streams.
 */
export const relaysDrain = async (setup: Production, count: number, relays: number, partitions: number) => {
  const warmUp = WARM_UP * relays;
  const flags = [
    ...setup.flags,
    ...['--partitions', String(partitions), '--lease-ms', '2000'],
    ...['--stream-maxlen', '0', '--stream-hard-max', '0'],
  ];
  const running = await Promise.all(Array.from({ length: relays }, () => startService('mm-relay', flags)));
  const keys = partitionStreams('identity', partitions).map((stream) => `${setup.keyPrefix}${stream}`);
  const published = async () =>
    (await Promise.all(keys.map((key) => setup.redis.xlen(key)))).reduce((a, b) => a + b, 0);
  try {
    const share = Math.floor(partitions / relays);
    await eventually(
      async () => (await Promise.all(running.map(partitionsOwned))).every((owned) => owned >= share),
      30_000,
      { message: `${relays} relays splitting ${partitions} partitions` },
    );
    const events = userHistories(count + warmUp, Math.ceil((count + warmUp) / 20));
    await setup.store.withTransaction(async (tx) => {
      for (let at = 0; at < events.length; at += 2_000) await tx.outbox.insert(events.slice(at, at + 2_000));
    });
    await eventually(async () => (await published()) >= count + warmUp, 180_000, {
      intervalMs: 250,
      message: `${relays} relays publishing every event`,
    });
  } finally {
    await stopAll(running);
  }
  const entries = await Promise.all(
    keys.map(async (key) => (await setup.redis.xrange(key, '-', '+')) as Array<[string, string[]]>),
  );
  const all = entries.flat();
  const distinct = new Set(all.map(([, fields]) => fields[fields.indexOf('event_id') + 1]));
  if (all.length !== count + warmUp || distinct.size !== count + warmUp)
    throw new Error(`${all.length} stream entries (${distinct.size} distinct) for ${count + warmUp} events`);
  const inversions = entries.reduce((sum, list) => sum + streamInversions(list), 0);
  if (inversions > 0) throw new Error(`${inversions} events published after a later event of their user`);
  const times = all.map(([id]) => streamIdTime(id)).sort((a, b) => a - b);
  const spanMs = (times[times.length - 1] ?? 0) - (times[warmUp] ?? 0);
  return { rate: rate(count, Math.max(1, spanMs)) };
};

/** Applying rate from the ledger's own times, past the warm-up: the same for consumer and raw consumer. */
const applyRate = async (setup: Setup, group: string, count: number, profiles: boolean, warmUp = WARM_UP) => {
  const summary = await ledgerSummary(setup.store, group);
  assertExactlyOnce(summary, count + warmUp, group, { profiles });
  return { rate: rate(count, summary.lastMs - (await appliedAtRank(setup.store, group, warmUp))) };
};

export const rawConsumerRate = async (setup: Production, count: number) => {
  await preloadStream(setup.redis, setup.streamKey, count + WARM_UP);
  await rawConsume(setup.sql, setup.redis, setup.streamKey);
  return applyRate(setup, RAW_CONSUMER_GROUP, count, false);
};

/** The consumer applying a pre-loaded stream with the ledger and its built-in handler. */
export const consumerApply = async (setup: Production, count: number) => {
  await preloadStream(setup.redis, setup.streamKey, count + WARM_UP);
  await recordPartitionCount(setup.redis, setup.keyPrefix, 1);
  const consumer = await startService('mm-consumer', setup.flags);
  try {
    await waitApplied({ applied: () => processedCount(consumer) }, count + WARM_UP, 180_000);
  } finally {
    await stopAll([consumer]);
  }
  return applyRate(setup, GROUP, count, true);
};

/**
 * `consumers` consumers sharing a topic of `partitions` partition streams (20 events per user), timed
 * from the ledger as `consumerApply` is; the run fails on any per-user order inversion. The streams
 * are full before the consumers start: filled while they read, the filling was the limit, not the
 * consumers. Each process warms up on as many events as a lone consumer does (the clock starts after
 * WARM_UP events per consumer), and the group splits the partitions within that warm-up.
 */
export const consumersOnPartitions = async (
  setup: Production,
  count: number,
  consumers: number,
  partitions: number,
) => {
  const warmUp = WARM_UP * consumers;
  const events = userHistories(count + warmUp, Math.ceil((count + warmUp) / 20));
  await preloadPartitions(setup.redis, setup.keyPrefix, events, partitions);
  const running = await Promise.all(
    Array.from({ length: consumers }, (_, i) =>
      startService('mm-consumer', [...setup.flags, '--name', `bench-${i}`]),
    ),
  );
  try {
    const applied = async () =>
      (await Promise.all(running.map((consumer) => processedCount(consumer)))).reduce((a, b) => a + b, 0);
    await waitApplied({ applied }, count + warmUp, 180_000);
  } finally {
    await stopAll(running);
  }
  const inversions = await orderInversions(setup.store, GROUP, events);
  if (inversions > 0) throw new Error(`${inversions} events applied after a later event of their user`);
  return applyRate(setup, GROUP, count, false, warmUp);
};

/**
 * A producer writing outbox rows as fast as it can while the carrier runs: commit to ledger. With
 * `perUser`, each user gets that many events (userHistories) and the run fails on any per-user order
 * inversion; otherwise one event per user, as before.
 */
export const pipelineSustained = async <S extends Setup>(
  setup: S,
  carrierOf: (setup: S) => Carrier,
  count: number,
  options: { readonly perUser?: number } = {},
) => {
  const carrier = carrierOf(setup);
  const histories =
    options.perUser === undefined ? undefined : userHistories(count, Math.ceil(count / options.perUser));
  const carrying = await carrier.start();
  const started = Date.now();
  let rss = { relay: Number.NaN, consumer: Number.NaN };
  try {
    if (histories === undefined) await produceFlat(carrier.insert, count);
    else for (let at = 0; at < count; at += 500) await carrier.insert(histories.slice(at, at + 500));
    await waitApplied(carrying, count, 240_000);
    // Peak resident memory is read while the processes still exist.
    rss = carrying.peakRssMb();
  } finally {
    await carrying.stop();
  }
  const summary = await ledgerSummary(setup.store, carrier.group);
  assertExactlyOnce(summary, count, `pipeline (${carrier.group})`, { profiles: histories === undefined });
  if (histories !== undefined) {
    const inversions = await orderInversions(setup.store, carrier.group, histories);
    if (inversions > 0) throw new Error(`${inversions} events applied after a later event of their user`);
  }
  return { rate: rate(count, summary.lastMs - started), relayRssMb: rss.relay, consumerRssMb: rss.consumer };
};

/** Commit-to-applied latency at a fixed offered rate. */
export const latencyAtRate = async <S extends Setup>(
  setup: S,
  carrierOf: (setup: S) => Carrier,
  perSecond: number,
  seconds: number,
) => {
  const carrier = carrierOf(setup);
  const carrying = await carrier.start();
  let committed: Map<string, number>;
  const started = performance.now();
  let producedMs = Number.NaN;
  try {
    committed = await produceAtRate(carrier.insert, perSecond, seconds);
    producedMs = performance.now() - started;
    await waitApplied(carrying, committed.size, 120_000);
  } finally {
    await carrying.stop();
  }
  const summary = await ledgerSummary(setup.store, carrier.group);
  assertExactlyOnce(summary, committed.size, `latency at ${perSecond}/s (${carrier.group})`);
  const applied = await appliedTimes(setup.store, carrier.group);
  const latencies = [...committed].map(([eventId, at]) => (applied.get(eventId) ?? Number.NaN) - at);
  latencies.sort((a, b) => a - b);
  return {
    // What the producer achieved: below `perSecond` only if it could not keep up.
    offeredPerS: rate(committed.size, producedMs),
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
  };
};
