// `npm start -- --demo`: sample users through the real users API, plus one event the relay must
// dead-letter (over its size limit) and one the consumer's built-in handler rejects, so health,
// metrics and `mm-dlq report` show something real within seconds.
import type { Hono } from 'hono';
import { IDENTITY_TOPIC } from '../backend/user-events.ts';
import { dlqStreamOf } from '../core/envelope.ts';
import { MmError } from '../core/errors.ts';
import { uuidv7 } from '../core/ids.ts';
import type { Bus } from '../ports/bus.ts';
import type { NewOutboxEvent } from '../ports/outbox.ts';
import type { Store } from '../ports/store.ts';

export type DemoDeps = { readonly app: Hono; readonly store: Store; readonly bus: Bus };

export type DemoWritten = {
  readonly users: ReadonlyArray<{ readonly id: string; readonly email: string }>;
  /** The relay's dead letter: too large for the stream. */
  readonly oversizedEventId: string;
  /** The consumer's dead letter: a payload the built-in handler rejects. */
  readonly rejectedEventId: string;
};

const people = [
  ['ada', 'Ada Lovelace'],
  ['grace', 'Grace Hopper'],
  ['alan', 'Alan Turing'],
  ['katherine', 'Katherine Johnson'],
  ['edsger', 'Edsger Dijkstra'],
] as const;

const call = async (app: Hono, method: string, path: string, body?: unknown): Promise<{ id: string }> => {
  const response = await app.request(path, {
    method,
    headers: { 'content-type': 'application/json', 'x-correlation-id': `demo-${uuidv7()}` },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const answer = (await response.json()) as { id: string; detail?: string };
  if (!response.ok)
    throw new MmError('INTERNAL', `demo: ${method} ${path} answered ${response.status}: ${answer.detail}`);
  return answer;
};

const demoEvent = (
  eventType: string,
  aggregateId: string,
  payload: NewOutboxEvent['payload'],
): NewOutboxEvent => ({
  eventId: uuidv7(),
  topic: IDENTITY_TOPIC,
  eventType,
  aggregateType: 'user',
  aggregateId,
  payload,
  headers: { correlation_id: `demo-${uuidv7()}`, demo: 'true' },
});

/** Writes the sample data; `tag` keeps emails unique when the demo runs again on the same file. */
export const writeDemo = async (
  deps: DemoDeps,
  options: { readonly maxEventBytes: number; readonly tag: string },
): Promise<DemoWritten> => {
  const users: { id: string; email: string }[] = [];
  for (const [name, displayName] of people) {
    const email = `${name}+${options.tag}@example.com`;
    const { id } = await call(deps.app, 'POST', '/api/users', { email, display_name: displayName });
    users.push({ id, email });
  }
  const [ada, grace, alan] = users;
  if (!ada || !grace || !alan) throw new MmError('INTERNAL', 'demo: users missing');
  await call(deps.app, 'PATCH', `/api/users/${ada.id}`, { display_name: 'Augusta Ada King' });
  await call(deps.app, 'POST', `/api/users/${alan.id}/disable`);

  // Written straight to the outbox: the API would refuse both, but older writers or imports do not.
  const oversized = demoEvent('user.updated', grace.id, {
    id: grace.id,
    email: grace.email,
    display_name: 'Grace Hopper',
    status: 'active',
    bio: 'x'.repeat(options.maxEventBytes),
  });
  const rejected = demoEvent('user.created', uuidv7(), {
    id: 'legacy-import-7',
    email: '',
    display_name: 'Legacy import',
  });
  await deps.store.withTransaction((tx) => tx.outbox.insert([oversized, rejected]));
  return { users, oversizedEventId: oversized.eventId, rejectedEventId: rejected.eventId };
};

export const describeDemo = (written: DemoWritten, settings: string): string =>
  [
    `demo: ${written.users.length} users created through POST /api/users, one renamed, one disabled`,
    `demo: event ${written.oversizedEventId} is over the relay's --max-event-bytes: the relay dead-letters it`,
    `demo: event ${written.rejectedEventId} has a payload the built-in handler rejects: the consumer dead-letters it`,
    `demo: settings for quick failures: ${settings}`,
    '',
  ].join('\n');

/** Resolves with the dead letters' stream ids once both reached `<topic>.dlq` (or after `timeoutMs`). */
export const awaitDemoDeadLetters = async (
  bus: Bus,
  written: DemoWritten,
  options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
): Promise<Map<string, { id: string; stage: string }>> => {
  const wanted = new Set([written.oversizedEventId, written.rejectedEventId]);
  const found = new Map<string, { id: string; stage: string }>();
  const deadline = Date.now() + options.timeoutMs;
  while (found.size < wanted.size && Date.now() < deadline && !options.signal?.aborted) {
    const recent = await bus
      .range(dlqStreamOf(IDENTITY_TOPIC), { reverse: true, count: 100 })
      .catch(() => []);
    for (const entry of recent) {
      const eventId = entry.fields.event_id ?? '';
      if (wanted.has(eventId)) found.set(eventId, { id: entry.id, stage: entry.fields.dlq_stage ?? '?' });
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return found;
};
