// The relay's own health checks: the outbox backlog against its thresholds, and the loop itself
// (which outbox partitions it holds until when, and which dependency it is waiting for during an
// outage), and retention (hard limits nearly reached, dead consumer groups).
import type { CheckResult, HealthCheck } from '../core/health.ts';
import type { OutboxBacklog } from '../ports/outbox.ts';
import type { RelayStatus } from './relay-loop.ts';
import type { RelayPartitions } from './relay-partitions.ts';
import {
  HARD_LIMIT_WARN_RATIO,
  hardLimitFlag,
  type RetentionLimits,
  type RetentionStatus,
} from './retention.ts';

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

/** What the relay holds: its name, the partitions it drains with their lease expiry, the live relays. */
const partitionDetails = (partitions: RelayPartitions, now: number) => {
  const held = partitions.held(now);
  return {
    name: partitions.name,
    partition_count: partitions.count,
    partitions_owned: held.length,
    partitions: held.map((p) => ({
      partition: p.partition,
      lease_token: p.token,
      lease_expires_at: new Date(p.expiresAt).toISOString(),
    })),
    relays: partitions.relays(),
  };
};

export const relayCheck = (
  status: () => RelayStatus,
  partitions?: RelayPartitions,
  now: () => number = Date.now,
): HealthCheck => ({
  name: 'relay',
  run: async (): Promise<CheckResult> => {
    const { state, outage, lastBatchAt } = status();
    const details = {
      state,
      ...(partitions ? partitionDetails(partitions, now()) : {}),
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

const percent = (ratio: number): string => `${Math.round(ratio * 100)}%`;

/**
 * Retention before anything is lost: degraded while a stream takes HARD_LIMIT_WARN_RATIO of a hard
 * limit (naming the group that holds it back) or a group with a backlog has no live consumer.
 */
export const retentionCheck = (
  status: () => RetentionStatus | undefined,
  limits: Pick<RetentionLimits, 'deadGroupAfterMs'>,
  now: () => number = Date.now,
): HealthCheck => ({
  name: 'retention',
  run: async (): Promise<CheckResult> => {
    const seen = status();
    if (!seen) return { status: 'healthy', measured_at: null };
    const reasons: string[] = [];
    for (const s of seen.streams) {
      for (const f of s.fills) {
        if (f.ratio < HARD_LIMIT_WARN_RATIO) continue;
        const holder = s.heldBy
          ? `held back by consumer group ${s.heldBy.group} (oldest unacknowledged ${s.heldBy.oldestUnackedId})`
          : s.groups.length === 0
            ? 'no consumer group reads it yet'
            : 'every group is caught up';
        reasons.push(
          `stream ${s.stream} is at ${percent(f.ratio)} of ${hardLimitFlag(f.limit)} (${f.used} of ${f.max} ${f.limit}), ${holder}; the hard limit trims what is not acknowledged`,
        );
      }
    }
    for (const d of seen.deadGroups) {
      reasons.push(
        `consumer group ${d.group} has a backlog on ${d.streams.join(', ')} and no live consumer for ${Math.round((now() - d.silentSince) / 1000)} s (over --dead-group-after ${Math.round(limits.deadGroupAfterMs / 1000)} s)`,
      );
    }
    const details = {
      measured_at: new Date(seen.at).toISOString(),
      streams: seen.streams.map((s) => ({
        stream: s.stream,
        length: s.length,
        ...(s.bytes === null ? {} : { bytes: s.bytes }),
        ...Object.fromEntries(
          s.fills.map((f) => [`${f.limit}_fill_ratio`, Math.round(f.ratio * 1000) / 1000]),
        ),
        held_by: s.heldBy?.group ?? null,
      })),
      dead_groups: seen.deadGroups.map((d) => ({
        group: d.group,
        streams: d.streams,
        silent_since: new Date(d.silentSince).toISOString(),
      })),
    };
    return reasons.length > 0
      ? { status: 'degraded', reason: reasons.join('; '), ...details }
      : { status: 'healthy', ...details };
  },
});
