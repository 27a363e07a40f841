// The consumer's own health checks: the group's lag on each topic and partition, and the loop
// (running, or waiting for a dependency and why; the partitions it owns, their leases and lag; the
// aggregates held, blocked or with parked events).
import type { CheckResult, HealthCheck, HealthStatus } from '../core/health.ts';
import type { Bus } from '../ports/bus.ts';
import { type GroupLag, sampleTopicLag, type TopicLag } from './lag-monitor.ts';
import type { Worker } from './worker.ts';

const round2 = (value: number): number => Math.round(value * 100) / 100;

const lagJson = (lag: GroupLag) => ({
  lag_seconds: round2(lag.seconds),
  lag_entries: lag.entries,
  pending: lag.pending,
  undelivered: lag.undelivered,
});

export const groupCheck = (
  bus: Bus,
  options: {
    group: string;
    topics: readonly string[];
    lagWarnS: number;
    now?: () => number;
    /** Events of the group waiting in the parking store (they count in its lag). */
    parked?: () => Promise<number>;
    /** Consumers with a live heartbeat (null while unknown): `consumers` counts these. */
    liveConsumers?: () => number | null;
  },
): HealthCheck => ({
  name: 'consumer_group',
  run: async (): Promise<CheckResult> => {
    const now = (options.now ?? Date.now)();
    const [lags, parked] = await Promise.all([
      Promise.all(options.topics.map((t) => sampleTopicLag(bus, t, options.group, now))),
      options.parked?.() ?? Promise.resolve(0),
    ]);
    const reasons: string[] = [];
    const topics: Record<string, unknown> = {};
    for (const lag of lags) {
      if (!lag.exists) reasons.push(`group ${options.group} does not exist on ${lag.topic}`);
      else if (lag.seconds > options.lagWarnS) {
        reasons.push(`lag ${lag.seconds.toFixed(1)}s on ${lag.topic} is above ${options.lagWarnS}s`);
      }
      topics[lag.topic] = {
        lag_seconds: round2(lag.seconds),
        lag_entries: lag.entries,
        pending: lag.pending,
        undelivered: lag.undelivered,
        registered_consumers: lag.consumers,
        oldest_unacked_id: lag.oldestUnackedId,
        last_delivered_id: lag.lastDeliveredId,
        ...(lag.partitions.length > 1
          ? { partitions: Object.fromEntries(lag.partitions.map((p) => [p.topic, lagJson(p)])) }
          : {}),
      };
    }
    const status: HealthStatus = reasons.length > 0 ? 'degraded' : 'healthy';
    const registered = Math.max(0, ...lags.map((l) => l.consumers));
    return {
      status,
      ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      group: options.group,
      lag_seconds: round2(Math.max(0, ...lags.map((l) => l.seconds))),
      lag_entries: lags.reduce((sum, l) => sum + l.entries, 0) + parked,
      pending: lags.reduce((sum, l) => sum + l.pending, 0),
      parked,
      // Live: holding a heartbeat; registered: names the group knows, stale ones included until removed.
      consumers: options.liveConsumers?.() ?? registered,
      registered_consumers: registered,
      lag_warn_s: options.lagWarnS,
      topics,
    };
  },
});

/** Each owned partition: its lease and, from the last lag sample, its lag. */
const partitionsJson = (worker: Worker, lags: readonly TopicLag[] | undefined) => {
  const byStream = new Map((lags ?? []).flatMap((t) => t.partitions.map((p) => [p.topic, p] as const)));
  return worker.status().partitions.map((p) => {
    const lag = byStream.get(p.stream);
    return {
      stream: p.stream,
      status: p.status,
      token: p.fence.token,
      lease_expires_at: new Date(p.expiresAt).toISOString(),
      ...(lag ? lagJson(lag) : {}),
    };
  });
};

export const workerCheck = (
  worker: Worker,
  options: { name: string; now?: () => number; lags?: () => readonly TopicLag[] | undefined },
): HealthCheck => ({
  name: 'consumer',
  run: async (): Promise<CheckResult> => {
    const now = (options.now ?? Date.now)();
    const status = worker.status();
    const details = {
      consumer: options.name,
      state: status.state,
      batches: status.batches,
      partitions: partitionsJson(worker, options.lags?.()),
      members: status.members,
      aggregates_held: status.order.held,
      aggregates_blocked: status.order.blocked,
    };
    if (status.awaitingPartitions.length > 0 && status.state === 'starting') {
      return {
        status: 'degraded',
        reason: `waiting for the partition count of ${status.awaitingPartitions.join(', ')} (mm-relay records it when it starts)`,
        ...details,
      };
    }
    if (status.state === 'failed') {
      return {
        status: 'unhealthy',
        reason: `consumer loop failed: ${status.error ?? 'unknown error'}`,
        ...details,
      };
    }
    if (status.waiting) {
      const { what, reason, dependency, since, retries } = status.waiting;
      const seconds = round2((now - since) / 1000);
      return {
        status: 'degraded',
        reason: `waiting for ${dependency}: ${what} failed (${reason}); retrying for ${seconds}s, ${retries} retries, no event attempt counted`,
        waiting: { what, dependency, since: new Date(since).toISOString(), retries },
        ...details,
      };
    }
    if (status.state !== 'running')
      return { status: 'degraded', reason: `consumer is ${status.state}`, ...details };
    return { status: 'healthy', ...details };
  },
});
