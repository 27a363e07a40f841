// Which entries a replay would re-deliver that were dead-lettered for the group: open ones (still in
// `<topic>.dlq`) and closed ones (in its audit: reprocessed, resolved or purged). Moving the group back
// over them would undo an operator's decision, so the replay holds them back unless asked not to.
import { parseDeadLetter } from '../core/dead-letter.ts';
import { auditStreamOf, dlqStreamOf, type StreamFields } from '../core/envelope.ts';
import { compareStreamIds, isUuid } from '../core/ids.ts';
import type { Bus } from '../ports/bus.ts';
import type { ReplayHold } from '../ports/ledger.ts';

export type DeadLettersInRange = { readonly open: ReplayHold[]; readonly closed: ReplayHold[] };

const PAGE = 1_000;

async function* entriesOf(bus: Bus, stream: string): AsyncGenerator<StreamFields> {
  let start = '-';
  for (;;) {
    const page = await bus.range(stream, { start, count: PAGE });
    for (const entry of page) yield entry.fields;
    const last = page.at(-1);
    if (page.length < PAGE || !last) return;
    start = `(${last.id}`;
  }
}

/** An audit record carries the closed entry's fields, whole as JSON when its names clashed. */
const closedEntryOf = (fields: StreamFields): StreamFields => {
  if (fields.dlq_entry === undefined) return fields;
  try {
    return JSON.parse(fields.dlq_entry) as StreamFields;
  } catch {
    return {};
  }
};

export const deadLettersInRange = async (
  bus: Bus,
  range: { topic: string; stream: string; group: string; after: string; upTo: string },
): Promise<DeadLettersInRange> => {
  const seen = new Set<string>();
  const holdOf = (fields: StreamFields): ReplayHold | undefined => {
    const dead = parseDeadLetter(fields);
    const eventId = (fields.event_id ?? '').toLowerCase();
    const id = dead.originId;
    if (dead.consumerGroup !== range.group || dead.originStream !== range.stream) return undefined;
    if (id === undefined || !isUuid(eventId)) return undefined;
    if (compareStreamIds(id, range.after) <= 0 || compareStreamIds(id, range.upTo) > 0) return undefined;
    const key = `${eventId} ${id}`;
    if (seen.has(key)) return undefined;
    seen.add(key);
    return { consumerGroup: range.group, eventId, streamId: id };
  };
  const open: ReplayHold[] = [];
  const closed: ReplayHold[] = [];
  // A partition stream's dead letters are kept under the topic's DLQ or the stream's own.
  for (const dlq of new Set([dlqStreamOf(range.topic), dlqStreamOf(range.stream)])) {
    for await (const fields of entriesOf(bus, dlq)) {
      const hold = holdOf(fields);
      if (hold) open.push(hold);
    }
    for await (const fields of entriesOf(bus, auditStreamOf(dlq))) {
      const hold = holdOf(closedEntryOf(fields));
      if (hold) closed.push(hold);
    }
  }
  return { open, closed };
};
