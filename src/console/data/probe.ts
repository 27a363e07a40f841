// Asks every registered service how it is: /health/detailed and its JSON metrics, each bounded by a
// timeout, so one hung service cannot stall a page. A record not refreshed lately is silent.
import { SILENT_AFTER_MS } from '../../core/announce.ts';
import { coerceError } from '../../core/errors.ts';
import type { ServiceRecord } from '../../ports/service-registry.ts';

/** One check of /health/detailed: status, reason and whatever details the service adds. */
export type CheckView = {
  readonly status: string;
  readonly reason?: string;
  readonly [detail: string]: unknown;
};

export type Probe = {
  readonly record: ServiceRecord;
  /** Not refreshed for longer than a few announce intervals. */
  readonly silent: boolean;
  /** `healthy`, `degraded`, `unhealthy`, or `unreachable` when it did not answer. */
  readonly status: string;
  readonly checks: Readonly<Record<string, CheckView>>;
  readonly metrics: Readonly<Record<string, unknown>> | undefined;
  readonly error: string | undefined;
};

export type Fetch = (url: string, init?: { signal?: AbortSignal }) => Promise<Response>;

const TIMEOUT_MS = 2_000;

const metricsPath = (record: ServiceRecord): string =>
  record.role === 'backend' ? '/monitoring/metrics' : '/metrics';

const getJson = async (fetcher: Fetch, url: string): Promise<Record<string, unknown>> => {
  const response = await fetcher(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  return (await response.json()) as Record<string, unknown>;
};

export const probeService = async (fetcher: Fetch, record: ServiceRecord, nowMs: number): Promise<Probe> => {
  const silent = nowMs - Date.parse(record.lastSeenAt) > SILENT_AFTER_MS;
  const [health, metrics] = await Promise.allSettled([
    getJson(fetcher, `${record.url}/health/detailed`),
    getJson(fetcher, `${record.url}${metricsPath(record)}`),
  ]);
  if (health.status === 'rejected') {
    return {
      record,
      silent,
      status: 'unreachable',
      checks: {},
      metrics: undefined,
      error: coerceError(health.reason).message,
    };
  }
  const report = health.value as { status?: string; checks?: Record<string, CheckView> };
  return {
    record,
    silent,
    status: typeof report.status === 'string' ? report.status : 'unknown',
    checks: report.checks ?? {},
    metrics: metrics.status === 'fulfilled' ? metrics.value : undefined,
    error: undefined,
  };
};

/**
 * What is wrong with a service, in plain words: since when it is silent, then why it did not answer
 * or each failing check's reason. A killed service is both silent and unanswering: the card says both.
 */
export const reasonsOf = (probe: Probe): string[] => {
  const reasons = probe.error
    ? [`did not answer: ${probe.error}`]
    : Object.entries(probe.checks)
        .filter(([, check]) => check.status !== 'healthy')
        .map(([name, check]) => `${name}: ${check.reason ?? check.status}`);
  if (probe.silent) reasons.unshift(`silent: last announced ${probe.record.lastSeenAt}`);
  return reasons;
};
