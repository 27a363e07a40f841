// The health model: named checks with a timeout each, the worst one decides, and status changes are logged.
import { coerceError } from './errors.ts';
import type { Logger } from './logger.ts';

export const HealthStatuses = ['healthy', 'degraded', 'unhealthy'] as const;
export type HealthStatus = (typeof HealthStatuses)[number];

export type CheckResult = {
  readonly status: HealthStatus;
  readonly reason?: string;
  readonly latency_ms?: number;
  readonly [detail: string]: unknown;
};

export type HealthCheck = {
  readonly name: string;
  run(): Promise<CheckResult>;
};

export type HealthReport = {
  readonly status: HealthStatus;
  readonly service: string;
  readonly time: string;
  readonly uptime_s: number;
  readonly checks: Record<string, CheckResult>;
};

const severity: Record<HealthStatus, number> = { healthy: 0, degraded: 1, unhealthy: 2 };

export const worstStatus = (statuses: Iterable<HealthStatus>): HealthStatus => {
  let worst: HealthStatus = 'healthy';
  for (const status of statuses) if (severity[status] > severity[worst]) worst = status;
  return worst;
};

export const httpStatusFor = (status: HealthStatus): 200 | 503 => (status === 'unhealthy' ? 503 : 200);

const withTimeout = async (check: HealthCheck, timeoutMs: number): Promise<CheckResult> => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'unhealthy', reason: `${check.name} did not answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([
      check.run().catch((thrown: unknown) => ({
        status: 'unhealthy' as const,
        reason: coerceError(thrown).message,
      })),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
};

/** One line naming what is wrong, for logs and the top of /health/detailed. */
export const summariseReasons = (checks: Record<string, CheckResult>): string =>
  Object.entries(checks)
    .filter(([, result]) => result.status !== 'healthy')
    .map(([name, result]) => `${name}: ${result.reason ?? result.status}`)
    .join('; ');

export type HealthMonitor = {
  /** Runs every check now (each bounded by the timeout) and logs a change of overall status. */
  check(): Promise<HealthReport>;
  /** The most recent report, without touching any dependency. */
  last(): HealthReport | undefined;
  start(): void;
  stop(): void;
};

export type HealthMonitorOptions = {
  service: string;
  checks: readonly HealthCheck[];
  logger: Logger;
  timeoutMs?: number;
  /** How often checks run in the background, so outages are logged even when nobody asks. */
  intervalMs?: number;
  now?: () => number;
};

export const createHealthMonitor = (options: HealthMonitorOptions): HealthMonitor => {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const timeoutMs = options.timeoutMs ?? 2_000;
  let latest: HealthReport | undefined;
  let timer: NodeJS.Timeout | undefined;
  let previous: HealthStatus = 'healthy';

  const logChange = (report: HealthReport): void => {
    if (report.status === previous) return;
    const reasons = summariseReasons(report.checks);
    const fields = { from: previous, to: report.status, reasons };
    if (report.status === 'healthy')
      options.logger.info(`Service ${options.service} is healthy again`, fields);
    else if (report.status === 'degraded')
      options.logger.warn(`Service ${options.service} is degraded: ${reasons}`, fields);
    else options.logger.error(`Service ${options.service} is unhealthy: ${reasons}`, fields);
    previous = report.status;
  };

  const check = async (): Promise<HealthReport> => {
    const results = await Promise.all(options.checks.map((c) => withTimeout(c, timeoutMs)));
    const checks: Record<string, CheckResult> = {};
    options.checks.forEach((c, index) => {
      checks[c.name] = results[index] as CheckResult;
    });
    const report: HealthReport = {
      status: worstStatus(results.map((r) => r.status)),
      service: options.service,
      time: new Date(now()).toISOString(),
      uptime_s: Math.round((now() - startedAt) / 1000),
      checks,
    };
    latest = report;
    logChange(report);
    return report;
  };

  return {
    check,
    last: () => latest,
    start: () => {
      if (timer || !options.intervalMs) return;
      void check().catch(() => {});
      timer = setInterval(() => void check().catch(() => {}), options.intervalMs);
      timer.unref();
    },
    stop: () => {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
};

/** Times a probe and turns its outcome into a check result. */
export const timedCheck = async (
  probe: () => Promise<Record<string, unknown> | undefined>,
  now: () => number = performance.now.bind(performance),
): Promise<CheckResult> => {
  const started = now();
  const details = (await probe()) ?? {};
  return { status: 'healthy', latency_ms: Math.round((now() - started) * 100) / 100, ...details };
};
