// The names mm-dlq accepts: dead-letter streams (`<topic>.dlq`), and ids (a stream id, or an event id).
import { auditStreamOf, isTopicName } from '../../core/envelope.ts';
import { UsageError } from '../../core/errors.ts';
import { isStreamId, isUuid, parseStreamId } from '../../core/ids.ts';

export const DLQ_SUFFIX = '.dlq';

export type DlqStream = {
  /** `identity.dlq` */
  readonly name: string;
  /** `identity.dlq.audit` */
  readonly audit: string;
  /** `identity`: where reprocessed events go when an entry does not name its origin. */
  readonly topic: string;
};

export const dlqStream = (name: string): DlqStream => {
  const topic = name.endsWith(DLQ_SUFFIX) ? name.slice(0, -DLQ_SUFFIX.length) : '';
  if (!isTopicName(topic)) {
    throw new UsageError(`--stream must name a dead-letter stream like identity.dlq, got "${name}"`);
  }
  return { name, audit: auditStreamOf(name), topic };
};

/** What `--id` names: one dead letter by its stream id, or the dead letter(s) of one event. */
export type IdArg =
  | { readonly kind: 'entry'; readonly id: string }
  | { readonly kind: 'event'; readonly eventId: string };

const U64_MAX = 18446744073709551615n;
const fitsStreamId = (value: string): boolean => {
  const { ms, seq } = parseStreamId(value);
  return ms <= U64_MAX && seq <= U64_MAX;
};

export const parseIdArg = (raw: string): IdArg => {
  const value = raw.trim();
  if (isStreamId(value) && fitsStreamId(value)) return { kind: 'entry', id: value };
  if (isUuid(value)) return { kind: 'event', eventId: value.toLowerCase() };
  throw new UsageError(
    `--id must be a stream id like 1700000000000-0 (or an event id, a UUID), got "${raw.slice(0, 80)}"`,
  );
};

export const describeIdArg = (arg: IdArg): string => (arg.kind === 'entry' ? arg.id : `event ${arg.eventId}`);
