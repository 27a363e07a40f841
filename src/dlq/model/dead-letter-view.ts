// One dead letter as the commands show it: the parsed `dlq_*` fields plus when it entered the DLQ.
import { parseDeadLetter } from '../../core/dead-letter.ts';
import type { StreamFields } from '../../core/envelope.ts';
import { streamIdTime } from '../../core/ids.ts';

export type DeadLetterView = {
  readonly id: string;
  /** When the entry was added to the DLQ (from its stream id). */
  readonly createdMs: number;
  readonly eventId: string;
  readonly eventType: string;
  readonly stage: string;
  readonly consumerGroup: string | undefined;
  readonly originStream: string;
  readonly originId: string | undefined;
  readonly attempts: number;
  readonly errorClass: string;
  readonly errorMessage: string;
  readonly errorStack: string;
  readonly fingerprint: string;
  readonly firstFailedAt: string;
  readonly failedAt: string;
};

export const viewOf = (id: string, fields: StreamFields): DeadLetterView => {
  const dead = parseDeadLetter(fields);
  return {
    id,
    createdMs: streamIdTime(id),
    eventId: fields.event_id ?? '',
    eventType: fields.event_type ?? '',
    stage: dead.stage,
    consumerGroup: dead.consumerGroup,
    originStream: dead.originStream,
    originId: dead.originId,
    attempts: Number.isFinite(dead.attempts) ? dead.attempts : 0,
    errorClass: dead.errorClass,
    errorMessage: dead.errorMessage,
    errorStack: dead.errorStack,
    fingerprint: dead.fingerprint,
    firstFailedAt: dead.firstFailedAt,
    failedAt: dead.failedAt,
  };
};

/** `relay`, or `consumer/<group>`. */
export const stageLabel = (view: Pick<DeadLetterView, 'stage' | 'consumerGroup'>): string =>
  view.consumerGroup ? `${view.stage}/${view.consumerGroup}` : view.stage;

export const errorLine = (view: Pick<DeadLetterView, 'errorClass' | 'errorMessage'>): string =>
  view.errorMessage === '' ? view.errorClass : `${view.errorClass}: ${view.errorMessage}`;

/** The stable `--json` shape of a dead letter in lists. */
export const viewJson = (view: DeadLetterView, nowMs: number) => ({
  id: view.id,
  dead_lettered_at: new Date(view.createdMs).toISOString(),
  age_seconds: Math.max(0, Math.round((nowMs - view.createdMs) / 1000)),
  event_id: view.eventId,
  event_type: view.eventType,
  stage: view.stage,
  consumer_group: view.consumerGroup ?? null,
  origin_stream: view.originStream,
  origin_id: view.originId ?? null,
  attempts: view.attempts,
  error_class: view.errorClass,
  error_message: view.errorMessage,
  fingerprint: view.fingerprint,
  first_failed_at: view.firstFailedAt,
  failed_at: view.failedAt,
});
