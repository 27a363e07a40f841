// A released parked event that fails for good is dead-lettered, then removed from parking: two
// stores, two steps. A process that died between them left the event parked with its dead letter
// written; released again (no block holds it with --on-dead-letter continue) it would be
// dead-lettered a second time. Before writing the dead letter of a released event, the consumer looks
// for one already written, among the dead letters written since the event was parked (the only
// ones that can be its own).
import type { Bus } from '../ports/bus.ts';
import type { Delivery } from './batch-plan.ts';

// The store's clock stamps `parkedAt`, Redis's clock the dead letters' ids.
const CLOCK_MARGIN_MS = 5 * 60_000;
const PAGE = 500;

/** The key of one event's dead letter for a group: `once` in its write, and what this lookup matches. */
export const deadLetterOnce = (group: string, stream: string, entryId: string): string =>
  `${group} ${stream} ${entryId}`;

type Wanted = { readonly dlqStream: string; readonly delivery: Delivery };

/** Dead letters already written for these released events: `deadLetterOnce` key -> dead-letter id. */
export const findWrittenDeadLetters = async (
  bus: Bus,
  group: string,
  released: readonly Wanted[],
): Promise<Map<string, string>> => {
  const found = new Map<string, string>();
  const byStream = new Map<string, { since: number; keys: Set<string> }>();
  for (const { dlqStream, delivery } of released) {
    if (!delivery.parked || delivery.parkedAt === undefined) continue;
    const wanted = byStream.get(dlqStream) ?? { since: delivery.parkedAt, keys: new Set<string>() };
    wanted.since = Math.min(wanted.since, delivery.parkedAt);
    wanted.keys.add(deadLetterOnce(group, delivery.stream, delivery.entry.id));
    byStream.set(dlqStream, wanted);
  }
  for (const [dlqStream, wanted] of byStream) {
    let start = `${Math.max(0, wanted.since - CLOCK_MARGIN_MS)}-0`;
    let left = wanted.keys.size;
    while (left > 0) {
      const page = await bus.range(dlqStream, { start, count: PAGE });
      for (const { id, fields } of page) {
        if (fields.dlq_consumer_group !== group || !fields.dlq_origin_stream || !fields.dlq_origin_id)
          continue;
        const key = deadLetterOnce(group, fields.dlq_origin_stream, fields.dlq_origin_id);
        if (wanted.keys.has(key) && !found.has(key)) {
          found.set(key, id);
          left -= 1;
        }
      }
      const last = page.at(-1);
      if (page.length < PAGE || !last) break;
      start = `(${last.id}`;
    }
  }
  return found;
};
