// Releasing what a closed dead letter halts. Resolve and purge lift the blocks at once (the consumer
// then releases the parked events in order); reprocess leaves them: the consumer lifts a block only
// after it applied the reprocessed event, so the parked events can never overtake it.
import { coerceError, TransientError } from '../../core/errors.ts';
import type { ParkingStore } from '../../ports/parking.ts';
import type { AuditAction, AuditRecord } from './audit-record.ts';
import { type Halted, haltedBehind } from './halted.ts';

/**
 * Lifts every block the event holds; says what waited behind each (now free to follow). Runs after
 * the close: when the database fails here, the error says how to finish (`dlqId` resolved again).
 */
export const releaseHalted = async (
  parking: ParkingStore | undefined,
  eventId: string,
  dlqId: string,
): Promise<Halted> => {
  try {
    const halted = await haltedBehind(parking, eventId);
    if (!halted.checked || !parking) return halted;
    for (const g of halted.groups) await parking.unblock(g.group, g.aggregateKey);
    return halted;
  } catch (thrown) {
    const error = coerceError(thrown);
    if (!(error instanceof TransientError)) throw error;
    throw new TransientError(
      `${dlqId} is closed, but the events waiting behind it were not released: ${error.message}; run mm-dlq resolve --id ${dlqId} again to release them`,
      { cause: error, dependency: error.dependency },
    );
  }
};

/**
 * Whether closing as `action` lifts the blocks now. A repeated resolve of an entry that was resolved
 * or purged does (it finishes a run cut short, or one made without the database); one that was
 * reprocessed does not: its event is on its way and the consumer lifts the block once applied.
 */
export const releasesNow = (action: AuditAction, previously: AuditRecord | undefined): boolean =>
  action !== 'reprocessed' && previously?.action !== 'reprocessed';
