// The relay's own health checks: the outbox backlog against its thresholds, and the loop itself
// (leader or standby, and which dependency it is waiting for during an outage).
import type { CheckResult, HealthCheck } from '../core/health.ts';
import type { OutboxBacklog } from '../ports/outbox.ts';
import type { RelayStatus } from './relay-loop.ts';

/** `backlog` gives a recent reading (the sampler's, or a fresh count when that is stale). */
export const outboxCheck = (
  backlog: () => Promise<OutboxBacklog>,
  thresholds: { backlogWarn: number; backlogAgeWarnS: number },
): HealthCheck => ({
  name: 'outbox',
  run: async (): Promise<CheckResult> => {
    const { count, oldestAgeSeconds } = await backlog();
    const details = {
      backlog: count,
      oldest_age_seconds: Math.round(oldestAgeSeconds * 1000) / 1000,
      backlog_warn: thresholds.backlogWarn,
      backlog_age_warn_s: thresholds.backlogAgeWarnS,
    };
    const reasons: string[] = [];
    if (count > thresholds.backlogWarn)
      reasons.push(`${count} rows waiting, over --backlog-warn ${thresholds.backlogWarn}`);
    if (oldestAgeSeconds > thresholds.backlogAgeWarnS)
      reasons.push(
        `oldest row waiting ${Math.round(oldestAgeSeconds)} s, over --backlog-age-warn-s ${thresholds.backlogAgeWarnS}`,
      );
    return reasons.length > 0
      ? { status: 'degraded', reason: reasons.join('; '), ...details }
      : { status: 'healthy', ...details };
  },
});

export const relayCheck = (status: () => RelayStatus, now: () => number = Date.now): HealthCheck => ({
  name: 'relay',
  run: async (): Promise<CheckResult> => {
    const { state, role, outage, lastBatchAt } = status();
    const details = {
      state,
      role,
      last_batch_at: lastBatchAt === undefined ? null : new Date(lastBatchAt).toISOString(),
    };
    if (outage) {
      return {
        status: 'unhealthy',
        reason: `${outage.dependency} unavailable for ${Math.round((now() - outage.since) / 1000)} s, retrying (${outage.retries + 1} failures): ${outage.reason}`,
        ...details,
        outage_since: new Date(outage.since).toISOString(),
        next_retry_at: new Date(outage.nextRetryAt).toISOString(),
      };
    }
    if (state === 'stopped') return { status: 'degraded', reason: 'relay is stopping', ...details };
    return { status: 'healthy', ...details };
  },
});
