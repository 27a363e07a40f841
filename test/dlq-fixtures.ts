// Synthetic dead letters with exactly the shape the relay and the consumer write: deadLetterFields()
// over toStreamFields() entries, stage relay (outbox_id, no origin id) and stage consumer (origin id, group).
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { createRedisBus } from '../src/adapters/redis/bus.ts';
import { deadLetterFields } from '../src/core/dead-letter.ts';
import { type EventEnvelope, toStreamFields } from '../src/core/envelope.ts';
import { uuidv7 } from '../src/core/ids.ts';
import type { Bus } from '../src/ports/bus.ts';
import { type Completed, type Launch, runBinary } from './helpers/binaries.ts';

export const TOPIC = 'identity';
export const DLQ = 'identity.dlq';
export const AUDIT = 'identity.dlq.audit';
export const GROUP = 'markdown-lint-consumer';

let outboxSeq = 1000;

export const userEvent = (overrides: Partial<EventEnvelope> = {}): EventEnvelope => {
  const eventId = uuidv7();
  outboxSeq += 1;
  return {
    eventId,
    eventType: 'user.created',
    topic: TOPIC,
    aggregateType: 'user',
    aggregateId: eventId,
    payload: { id: eventId, email: `u${outboxSeq}@example.com`, display_name: 'User', status: 'active' },
    occurredAt: new Date().toISOString(),
    outboxId: String(outboxSeq),
    headers: { correlation_id: uuidv7() },
    schemaVersion: 1,
    ...overrides,
  };
};

const failure = (message: string, name = 'Error'): Error => {
  const error = new Error(message);
  error.name = name;
  return error;
};

export type MadeDeadLetter = {
  readonly id: string;
  readonly event: EventEnvelope;
  readonly originId?: string;
};

/** The topic recorded with one partition, unless a count is recorded: as the relay does at start. */
export const recordTopic = async (bus: Bus, topic: string = TOPIC): Promise<void> => {
  if ((await bus.partitions(topic)) === undefined) await bus.setPartitions(topic, 1);
};

/** A relay-stage dead letter: the event never reached its stream (e.g. over --max-event-bytes). */
export const relayDeadLetter = async (
  bus: Bus,
  options: { event?: EventEnvelope; message?: string; errorClass?: string } = {},
): Promise<MadeDeadLetter> => {
  const event = options.event ?? userEvent();
  await recordTopic(bus, event.topic);
  const at = new Date().toISOString();
  const fields = deadLetterFields(toStreamFields(event), {
    stage: 'relay',
    originStream: event.topic,
    error: failure(
      options.message ?? `event ${event.eventId} is 1712 bytes, over the limit of 1000`,
      options.errorClass ?? 'PermanentError',
    ),
    attempts: 2,
    firstFailedAt: at,
    failedAt: at,
  });
  return { id: await bus.add(`${event.topic}.dlq`, fields), event };
};

/** A consumer-stage dead letter: the entry is on its stream, the group's handler failed it N times. */
export const consumerDeadLetter = async (
  bus: Bus,
  options: { event?: EventEnvelope; message?: string; errorClass?: string; group?: string } = {},
): Promise<MadeDeadLetter> => {
  const event = options.event ?? userEvent({ payload: { broken: true } });
  await recordTopic(bus, event.topic);
  const originId = await bus.add(event.topic, toStreamFields(event));
  const at = new Date().toISOString();
  const fields = deadLetterFields(toStreamFields(event), {
    stage: 'consumer',
    originStream: event.topic,
    originId,
    consumerGroup: options.group ?? GROUP,
    error: failure(
      options.message ?? `payload of ${event.eventId} is missing "id"`,
      options.errorClass ?? 'ValidationError',
    ),
    attempts: 5,
    firstFailedAt: at,
    failedAt: at,
  });
  return { id: await bus.add(`${event.topic}.dlq`, fields), event, originId };
};

/** Runs the built mm-dlq with connection flags appended, as an operator would type it. */
export const mmDlq =
  (connection: { redisUrl: string; prefix: string; databaseUrl?: string }) =>
  (
    command: string | readonly string[],
    options: { env?: Record<string, string>; input?: string; timeoutMs?: number } = {},
  ): Promise<Completed> => {
    // A string is split on spaces like a shell line without quotes; pass words for anything else.
    const args =
      typeof command === 'string' ? command.split(' ').filter((word) => word !== '') : [...command];
    args.push('--redis-url', connection.redisUrl, '--key-prefix', connection.prefix);
    if (connection.databaseUrl) args.push('--database-url', connection.databaseUrl);
    return runBinary('mm-dlq', args, options);
  };

/** Every audit record of a DLQ, as flat fields with the audit entry id. */
export const auditRecords = async (
  bus: Bus,
  audit = AUDIT,
): Promise<Array<Record<string, string | undefined>>> =>
  (await bus.range(audit)).map((entry) => ({ audit_id: entry.id, ...entry.fields }));

export type DlqReportJson = { totals: { open: number }; streams: Array<{ stream: string; open: number }> };

/** One relay dead letter written under the prefix, then `mm-dlq report --json` run as `launch` says. */
export const reportAfterRelayDeadLetter = async (
  redis: { readonly url: string; readonly prefix: string },
  launch: Launch,
): Promise<DlqReportJson> => {
  const bus = createRedisBus(new Redis(redis.url), { keyPrefix: redis.prefix });
  await relayDeadLetter(bus);
  await bus.close();
  const report = await runBinary(
    'mm-dlq',
    ['report', '--json', '--redis-url', redis.url, '--key-prefix', redis.prefix],
    launch,
  );
  assert.equal(report.code, 0, report.stderr);
  return JSON.parse(report.stdout) as DlqReportJson;
};
