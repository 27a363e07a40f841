// Builds user events in the relay's wire format and adds them to a stream, for consumer tests.
import type { Redis } from 'ioredis';
import {
  type EventHeaders,
  type JsonValue,
  type StreamFields,
  toStreamFields,
} from '../../src/core/envelope.ts';
import { uuidv7 } from '../../src/core/ids.ts';

export type TestEvent = { readonly eventId: string; readonly userId: string; readonly fields: StreamFields };

export const userEvent = (
  options: {
    type?: string;
    userId?: string;
    email?: string;
    eventId?: string;
    headers?: EventHeaders;
    payload?: JsonValue;
    occurredAt?: string;
    topic?: string;
  } = {},
): TestEvent => {
  const userId = options.userId ?? uuidv7();
  const eventId = options.eventId ?? uuidv7();
  const email = options.email ?? `${userId.slice(-12)}@example.com`;
  const fields = toStreamFields({
    eventId,
    eventType: options.type ?? 'user.created',
    topic: options.topic ?? 'identity',
    aggregateType: 'user',
    aggregateId: userId,
    payload: options.payload ?? {
      id: userId,
      email,
      display_name: `User ${userId.slice(-4)}`,
      status: 'active',
    },
    occurredAt: options.occurredAt ?? new Date().toISOString(),
    headers: options.headers ?? {},
    schemaVersion: 1,
  });
  return { eventId, userId, fields };
};

/** XADDs the entries in one pipeline; returns their stream ids. */
export const addEntries = async (
  redis: Redis,
  stream: string,
  entries: ReadonlyArray<StreamFields>,
): Promise<string[]> => {
  const pipeline = redis.pipeline();
  for (const fields of entries) pipeline.xadd(stream, '*', ...Object.entries(fields).flat());
  const results = (await pipeline.exec()) ?? [];
  return results.map(([error, id]) => {
    if (error) throw error;
    return id as string;
  });
};

/** Flat XRANGE reply to objects with the entry id. */
export const readStream = async (
  redis: Redis,
  stream: string,
): Promise<Array<{ id: string; fields: StreamFields }>> => {
  const raw = (await redis.xrange(stream, '-', '+')) as Array<[string, string[]]>;
  return raw.map(([id, flat]) => {
    const fields: StreamFields = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
    return { id, fields };
  });
};
