// Every 5 s: probes every registered service, keeps the latest probes for the pages, and records
// the events/s since the previous probe. Pages asking between ticks get the latest probes.
import { coerceError } from '../../core/errors.ts';
import type { Logger } from '../../core/logger.ts';
import type { Bus } from '../../ports/bus.ts';
import type { ServiceRegistry } from '../../ports/service-registry.ts';
import { type Fetch, type Probe, probeService } from './probe.ts';
import { ratesBetween, recordSample, SAMPLE_INTERVAL_MS, type Totals, totalsOf } from './samples.ts';

export type Sampler = {
  /** The latest probes; probes now when there are none yet, or they are older than one interval. */
  probes(): Promise<Probe[]>;
  start(): void;
  stop(): Promise<void>;
};

export const createSampler = (deps: {
  readonly bus: Bus;
  readonly registry: ServiceRegistry;
  readonly logger: Logger;
  readonly fetch: Fetch;
  readonly now: () => number;
  readonly intervalMs?: number;
}): Sampler => {
  const intervalMs = deps.intervalMs ?? SAMPLE_INTERVAL_MS;
  let latest: { at: number; probes: Probe[] } | undefined;
  let running: Promise<Probe[]> | undefined;
  let previous: { at: number; totals: Totals } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;

  const probeAll = (): Promise<Probe[]> => {
    running ??= (async () => {
      try {
        const at = deps.now();
        const records = await deps.registry.list();
        const probes = await Promise.all(records.map((record) => probeService(deps.fetch, record, at)));
        latest = { at, probes };
        return probes;
      } finally {
        running = undefined;
      }
    })();
    return running;
  };

  const tick = async (): Promise<void> => {
    try {
      const probes = await probeAll();
      const at = latest?.at ?? deps.now();
      const totals = totalsOf(probes);
      if (previous)
        await recordSample(deps.bus, {
          at,
          ...ratesBetween(previous.totals, totals, (at - previous.at) / 1000),
        });
      previous = { at, totals };
      failing = false;
    } catch (thrown) {
      if (!failing) deps.logger.warn(`console: sampling failed: ${coerceError(thrown).message}`);
      failing = true;
    }
  };

  return {
    probes: async () => (latest && deps.now() - latest.at < intervalMs ? latest.probes : probeAll()),
    start: () => {
      if (timer) return;
      void tick();
      timer = setInterval(() => void tick(), intervalMs);
      timer.unref();
    },
    stop: async () => {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running?.catch(() => {});
    },
  };
};
