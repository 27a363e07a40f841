// The consumer's own health checks: the group's lag on each topic, and the loop (running, or waiting
// for a dependency and why).
import type { CheckResult, HealthCheck, HealthStatus } from '../core/health.ts';
import type { Bus } from '../ports/bus.ts';
import { sampleGroupLag } from './lag-monitor.ts';
import type { Worker } from './worker.ts';

const round2 = (value: number): number => Math.round(value * 100) / 100;

export const groupCheck = (
  bus: Bus,
  options: {
    group: string;
    topics: readonly string[];
    lagWarnS: number;
    now?: () => number;
    /** Consumers with a live heartbeat (null while unknown): `consumers` counts these. */
    liveConsumers?: () => number | null;
  },
): HealthCheck => ({
  name: 'consumer_group',
  run: async (): Promise<CheckResult> => {
    const now = (options.now ?? Date.now)();
    const lags = await Promise.all(options.topics.map((t) => sampleGroupLag(bus, t, options.group, now)));
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
      };
    }
    const status: HealthStatus = reasons.length > 0 ? 'degraded' : 'healthy';
    const registered = Math.max(0, ...lags.map((l) => l.consumers));
    return {
      status,
      ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
      group: options.group,
      lag_seconds: round2(Math.max(0, ...lags.map((l) => l.seconds))),
      lag_entries: lags.reduce((sum, l) => sum + l.entries, 0),
      pending: lags.reduce((sum, l) => sum + l.pending, 0),
      // Live: holding a heartbeat; registered: names the group knows, stale ones included until removed.
      consumers: options.liveConsumers?.() ?? registered,
      registered_consumers: registered,
      lag_warn_s: options.lagWarnS,
      topics,
    };
  },
});

export const workerCheck = (worker: Worker, options: { name: string; now?: () => number }): HealthCheck => ({
  name: 'consumer',
  run: async (): Promise<CheckResult> => {
    const now = (options.now ?? Date.now)();
    const status = worker.status();
    const details = { consumer: options.name, state: status.state, batches: status.batches };
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
