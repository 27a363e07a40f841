// What both store adapters share about leases: the time-to-live check, fence identity, the fenced message.
import { ValidationError } from '../core/errors.ts';
import type { LeaseFence } from '../ports/leases.ts';

/** Milliseconds >= 0 (0 gives a lease that is already expired: its holder must renew before use). */
export const assertTtlMs = (ttlMs: number): number => {
  if (!Number.isFinite(ttlMs) || ttlMs < 0) {
    throw new ValidationError(`a lease time to live must be milliseconds >= 0, got ${ttlMs}`);
  }
  return Math.trunc(ttlMs);
};

/** The message of the FencedError for fences that no longer hold. */
export const fencedMessage = (lost: readonly { group: string; resource: string; token: number }[]): string =>
  `lease lost: ${lost.map((f) => `${f.group}/${f.resource} (token ${f.token})`).join(', ')} is no longer held`;

export const fenceKey = (fence: LeaseFence): string =>
  JSON.stringify([fence.group, fence.resource, fence.holder, fence.token]);
